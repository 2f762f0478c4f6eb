# SPDX-License-Identifier: BSD-3-Clause
"""FairIF Table 4: logistic regression on Adult, German and COMPAS.

For each dataset and seed: the protocol's 60/20/20 split
(:func:`skfairnn.benchmarks.load_protocol_data`; Adult is the Fair Mixup
pipeline, German sex and COMPAS race as sensitive attribute, removed from the
inputs). The validation rows carry their group; the training rows are given
none (NaN), as in FairIF. "Original" is the stage-one logistic regression
(trained to convergence with full-batch L-BFGS on the training rows), FairIF
is the same model retrained with ``FairIFReweighter``'s weights
(``ReweightedClassifier``), once with the default ``l2_weight`` and the
paper's Gumbel-softmax relaxation, and once tuned on the validation rows
(the paper tunes its hyper-parameters on the validation set): among the
relaxations ``--relaxations`` (the paper's Gumbel-softmax at τ = 1 and the
noise-free tempered sigmoid at τ = 0.3 and 0.1) and the fractions of
``l2_weight_max_`` (the ε = 0 threshold), the one with the lowest validation
AOD among those losing at most ``--max-drop`` points of validation accuracy
against the original model. Reported on the test split: Acc (%), AD (%),
AOD, EOD (hard predictions at 0.5), mean ± std over seeds, next to the
paper's numbers, and the paired differences tuned − original (mean ± s.e.).

Why several relaxations: Gumbel noise averaged over draws estimates the rates
of the *randomised* classifier, E σ-noise = σ(f), whatever τ, so the relaxed
gaps can be far smaller than the hard-prediction gaps that are evaluated
(on German, −0.018 relaxed vs 0.065 hard TPR gap on one split); the tempered
sigmoid without noise follows the hard rates as τ → 0.

Run::

    nice -n 10 python benchmarks/reproduce_fairif_tabular.py --seeds 5
    python benchmarks/reproduce_fairif_tabular.py --datasets german --seeds 30 --first-seed 30
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skfairnn import ERMClassifier, FairIFReweighter, ReweightedClassifier  # noqa: E402
from skfairnn.benchmarks import load_protocol_data  # noqa: E402
from skfairnn.metrics import (  # noqa: E402
    accuracy_difference,
    average_odds_difference,
    equal_opportunity_difference,
)
from skfairnn.modules import LogisticRegressionModule  # noqa: E402
from skfairnn.weighting.fairif import solve_fairif_epsilon  # noqa: E402

#: l2_weight candidates as fractions of the ε = 0 threshold ``l2_weight_max_``
FRACTIONS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)

PAPER = {  # Table 4 of FairIF: Acc %, AD %, AOD, EOD
    ("adult", "Original"): (69.76, 17.40, 0.302, 0.303),
    ("adult", "FairIF (tuned)"): (68.97, 15.34, 0.170, 0.265),
    ("german", "Original"): (75.50, 15.45, 0.083, 0.041),
    ("german", "FairIF (tuned)"): (74.68, 8.68, 0.017, 0.024),
    ("compas", "Original"): (68.09, 2.09, 0.183, 0.220),
    ("compas", "FairIF (tuned)"): (67.53, 0.28, 0.156, 0.218),
}


def logistic_regression(seed: int) -> ERMClassifier:
    """Logistic regression trained to convergence (full-batch L-BFGS)."""
    return ERMClassifier(
        LogisticRegressionModule,
        optimizer=torch.optim.LBFGS,
        optimizer__max_iter=200,
        optimizer__line_search_fn="strong_wolfe",
        batch_size=-1,
        max_epochs=3,
        lr=1.0,
        random_state=seed,
    )


def scores(model, data) -> dict:
    pred = model.predict(data.X_test)
    y, a = data.y_test, data.a_test
    return {
        "Acc": 100 * float(np.mean(pred == y)),
        "AD": 100 * accuracy_difference(y, pred, sensitive_features=a),
        "AOD": average_odds_difference(y, pred, sensitive_features=a),
        "EOD": equal_opportunity_difference(y, pred, sensitive_features=a),
    }


def fairif_weights(weighter, l2_weight: float) -> np.ndarray:
    """``sample_weight_`` of a fitted weighter re-solved for another ``l2_weight``."""
    epsilon = solve_fairif_epsilon(weighter.validation_gaps_, weighter.gap_influence_, l2_weight)
    weights = np.zeros(len(weighter.sample_weight_))
    train = ~weighter.validation_mask_
    weights[train] = np.clip(1 + train.sum() * epsilon, 0, None)
    return weights


#: relaxations of TPR/TNR tuned over: (gumbel_temperature, gumbel_samples); the first is the
#: paper's Gumbel-softmax (noise averaged: the randomised classifier's rates whatever τ), the
#: others the noise-free tempered sigmoid σ(f/τ), closer to the hard rates that are reported
RELAXATIONS = ((1.0, 10), (0.3, 0), (0.1, 0))


def validation_scores(model, data) -> tuple[float, float]:
    """(accuracy in points, AOD) of ``model`` on the validation split."""
    pred = model.predict(data.X_val)
    aod = average_odds_difference(data.y_val, pred, sensitive_features=data.a_val)
    return 100 * float(np.mean(pred == data.y_val)), aod


def tune(weighters, X, y, data, seed: int, max_drop: float):
    """Pick (relaxation, fraction of ``l2_weight_max_``) on the validation rows.

    The candidate with the lowest validation AOD among those losing at most
    ``max_drop`` points of validation accuracy against the original model;
    ``(None, 1.0)`` (the original model) if none lowers AOD.
    """
    base_acc, best_aod = validation_scores(weighters[0].estimator_, data)
    best = (None, 1.0, None)
    for relaxation, weighter in enumerate(weighters):
        for fraction in FRACTIONS:
            weights = fairif_weights(weighter, fraction * weighter.l2_weight_max_)
            model = logistic_regression(seed).fit(X, y, sample_weight=weights)
            acc, aod = validation_scores(model, data)
            if acc >= base_acc - max_drop and aod < best_aod:
                best_aod, best = aod, (relaxation, fraction, model)
    return best


def run_one(name: str, seed: int, l2_weight: float, max_drop: float, relaxations) -> list[dict]:
    data = load_protocol_data(name, seed=seed)
    X = np.concatenate([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    groups = np.concatenate([np.full(len(data.y_train), None), data.a_val]).astype(object)

    def weighter(temperature, samples):
        return FairIFReweighter(
            logistic_regression(seed),
            l2_weight=l2_weight,
            gumbel_temperature=temperature,
            gumbel_samples=samples,
            hessian="exact",
            random_state=seed,
        )

    start = time.perf_counter()
    fair = ReweightedClassifier(weighter(*relaxations[0]), logistic_regression(seed))
    fair.fit(X, y, sensitive_features=groups)
    elapsed = time.perf_counter() - start
    weighters = [fair.weighter_] + [
        weighter(*relaxation).fit(X, y, sensitive_features=groups) for relaxation in relaxations[1:]
    ]
    relaxation, fraction, tuned = tune(weighters, X, y, data, seed, max_drop)
    original = fair.weighter_.estimator_
    models = (
        ("Original", original),
        (f"FairIF (l2_weight={l2_weight:g})", fair),
        ("FairIF (tuned)", original if tuned is None else tuned),
    )
    chosen = "none"
    if relaxation is not None:
        chosen = "tau={:g},samples={}".format(*relaxations[relaxation])
    rows = []
    for method, model in models:
        row = {"dataset": name, "seed": seed, "method": method, **scores(model, data)}
        rows.append(row | {"fit_s": elapsed, "l2_fraction": fraction, "relaxation": chosen})
    return rows


def paired_differences(results: pd.DataFrame) -> pd.DataFrame:
    """FairIF (tuned) − Original per seed: mean ± standard error over seeds."""
    metrics = ["Acc", "AD", "AOD", "EOD"]
    wide = results.pivot_table(index=["dataset", "seed"], columns="method", values=metrics)
    diff = pd.DataFrame(
        {m: wide[(m, "FairIF (tuned)")] - wide[(m, "Original")] for m in metrics}
    ).groupby(level="dataset", sort=False)
    mean, sem = diff.mean(), diff.sem().fillna(0.0)
    return mean.round(4).astype(str) + " ± " + sem.round(4).astype(str)


def table(results: pd.DataFrame) -> pd.DataFrame:
    grouped = results.groupby(["dataset", "method"], sort=False)[["Acc", "AD", "AOD", "EOD"]]
    mean, std = grouped.mean(), grouped.std().fillna(0.0)
    out = mean.round(3).astype(str) + " ± " + std.round(3).astype(str)
    paper = pd.DataFrame(PAPER, index=["Acc", "AD", "AOD", "EOD"]).T
    paper.index.names = ["dataset", "method"]
    return out.join(paper.add_prefix("paper_"), how="left")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["adult", "german", "compas"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--l2-weight", type=float, default=0.1)
    parser.add_argument(
        "--max-drop", type=float, default=1.0, help="validation accuracy budget (points)"
    )
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument(
        "--relaxations",
        nargs="+",
        default=[f"{t:g}:{k}" for t, k in RELAXATIONS],
        help="TAU:SAMPLES candidates tuned over (the first one also gives the l2_weight row)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    relaxations = [(float(t), int(k)) for t, k in (r.split(":") for r in args.relaxations)]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    rows = [
        row
        for name in args.datasets
        for seed in seeds
        for row in run_one(name, seed, args.l2_weight, args.max_drop, relaxations)
    ]
    results = pd.DataFrame(rows)
    summary = table(results)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary)
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / "fairif_table4.csv", index=False)
    summary.to_csv(args.out / "fairif_table4_summary.csv")
    differences = paired_differences(results)
    differences.to_csv(args.out / "fairif_table4_differences.csv")
    print("FairIF (tuned) - Original, mean ± s.e. over seeds:")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(differences)
    print(results.groupby(["dataset"])["l2_fraction"].describe())
    print(results[results.method == "Original"].groupby("dataset")["relaxation"].value_counts())
    settings = {"l2_weight": args.l2_weight, "seeds": args.seeds, "max_drop": args.max_drop}
    print(json.dumps(settings | {"first_seed": args.first_seed, "relaxations": args.relaxations}))


if __name__ == "__main__":
    main()
