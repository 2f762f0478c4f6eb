# SPDX-License-Identifier: BSD-3-Clause
"""FairIF Table 4: logistic regression on Adult, German and COMPAS.

For each dataset and seed: the protocol's 60/20/20 split
(:func:`skfairnn.benchmarks.load_protocol_data`; Adult is the Fair Mixup
pipeline, German sex and COMPAS race as sensitive attribute, removed from the
inputs). The validation rows carry their group; the training rows are given
none (NaN), as in FairIF. "Original" is the stage-one logistic regression
(trained to convergence with full-batch L-BFGS on the training rows), FairIF
is the same model retrained with ``FairIFReweighter``'s weights
(``ReweightedClassifier``), once with the default ``l2_weight`` and once
with ``l2_weight`` tuned on the validation rows (the paper tunes its
hyper-parameters on the validation set): the fraction of ``l2_weight_max_``
(the ε = 0 threshold) with the lowest validation AOD among those losing at
most ``--max-drop`` points of validation accuracy against the original model.
Reported on the test split: Acc (%), AD (%),
AOD, EOD (hard predictions at 0.5), mean ± std over seeds, next to the
paper's numbers.

Run::

    nice -n 10 python benchmarks/reproduce_fairif_tabular.py --seeds 5
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


def select_l2_weight(weighter, X, y, data, seed: int, max_drop: float) -> float:
    """Fraction of ``l2_weight_max_`` with the lowest validation AOD within ``max_drop`` Acc."""
    original = weighter.estimator_.predict(data.X_val)
    base_acc = 100 * np.mean(original == data.y_val)
    best = (average_odds_difference(data.y_val, original, sensitive_features=data.a_val), 1.0)
    for fraction in FRACTIONS:
        weights = fairif_weights(weighter, fraction * weighter.l2_weight_max_)
        model = logistic_regression(seed).fit(X, y, sample_weight=weights)
        pred = model.predict(data.X_val)
        aod = average_odds_difference(data.y_val, pred, sensitive_features=data.a_val)
        if 100 * np.mean(pred == data.y_val) >= base_acc - max_drop and aod < best[0]:
            best = (aod, fraction)
    return best[1]


def run_one(name: str, seed: int, l2_weight: float, max_drop: float) -> list[dict]:
    data = load_protocol_data(name, seed=seed)
    X = np.concatenate([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    groups = np.concatenate([np.full(len(data.y_train), None), data.a_val]).astype(object)
    weighter = FairIFReweighter(
        logistic_regression(seed), l2_weight=l2_weight, hessian="exact", random_state=seed
    )
    start = time.perf_counter()
    fair = ReweightedClassifier(weighter, logistic_regression(seed)).fit(
        X, y, sensitive_features=groups
    )
    elapsed = time.perf_counter() - start
    fraction = select_l2_weight(fair.weighter_, X, y, data, seed, max_drop)
    tuned = logistic_regression(seed).fit(
        X, y, sample_weight=fairif_weights(fair.weighter_, fraction * fair.weighter_.l2_weight_max_)
    )
    models = (
        ("Original", fair.weighter_.estimator_),
        (f"FairIF (l2_weight={l2_weight:g})", fair),
        ("FairIF (tuned)", tuned),
    )
    rows = []
    for method, model in models:
        row = {"dataset": name, "seed": seed, "method": method, **scores(model, data)}
        rows.append(row | {"fit_s": elapsed, "l2_fraction": fraction})
    return rows


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
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = [
        row
        for name in args.datasets
        for seed in range(args.seeds)
        for row in run_one(name, seed, args.l2_weight, args.max_drop)
    ]
    results = pd.DataFrame(rows)
    summary = table(results)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary)
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / "fairif_table4.csv", index=False)
    summary.to_csv(args.out / "fairif_table4_summary.csv")
    print(results.groupby(["dataset"])["l2_fraction"].describe())
    print(json.dumps({"l2_weight": args.l2_weight, "seeds": args.seeds, "max_drop": args.max_drop}))


if __name__ == "__main__":
    main()
