# SPDX-License-Identifier: BSD-3-Clause
"""Reproduce RUNNER Tables 1-2 (ΔDP, ΔEO with AP and ACC) and the cost ratio of Table 3.

For each dataset and constraint, Vanilla (ERM) and RUNNER are trained with the
papers' loop (MLP 200-200, Adam 1e-3, 100 batches per epoch, 10 epochs; RUNNER
on group-balanced batches of 1000 for ΔDP and cell-balanced batches of 2000 for
ΔEO) on the splits of :func:`skfairnn.benchmarks.load_protocol_data` (Adult:
the Fair Mixup pipeline; COMPAS/German/LSAC: 60/20/20 splits); after every
epoch the validation and test metrics are recorded and the epoch with the
smallest *validation* gap on hard predictions (epochs ≥ 1) is reported, as in
the authors' code. ΔEO is reported both as ΔTPR+ΔFPR (``eo``, the paper's
Eq. 2) and max(ΔTPR, ΔFPR) (``eo_max``, fairlearn's default used by the
authors' code); ``--select-on`` picks which one drives the selection.
Fit times exclude the per-epoch evaluation; ``runner/erm`` is their ratio.

Usage::

    python -m skfairnn_benchmarks.reproduce_runner --datasets adult --seeds 5
    python -m skfairnn_benchmarks.reproduce_runner --datasets compas german lsac --seeds 3 \
        --out out/
    python -m skfairnn_benchmarks.reproduce_runner --quick        # smoke run
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from skfairnn import ERMClassifier, RunnerClassifier
from skfairnn.benchmarks import RUNNER_PUBLISHED, EpochEvaluator, load_protocol_data

#: neurons kept per layer: the paper's Adult tables match k = 10%; the README gives 5% elsewhere
TOP_K = {"adult": 0.1, "compas": 0.05, "german": 0.05, "lsac": 0.05}
#: λ: the authors' README (Adult) gives 0.3 for ΔDP and 1.0 for ΔEO; with 0.3 (and 1.0) our
#: ΔDP stays at 0.13 on split 0 (λ = 3: 0.048 at AP 0.750), so ΔDP uses λ = 2 (split 0: 0.059 at
#: AP 0.761); the ΔEO loss includes the output gap, as the code, and λ = 1 works.
FAIRNESS_WEIGHT = {"demographic_parity": 2.0, "equalized_odds": 1.0}
SHORT = {"dp": "demographic_parity", "eo": "equalized_odds"}


class TimedEpochEvaluator(EpochEvaluator):
    """:class:`EpochEvaluator` that also adds up the time it spends (excluded from fit time)."""

    def initialize(self):
        self.seconds_ = 0.0
        return super().initialize()

    def on_epoch_end(self, net, **kwargs):
        start = time.perf_counter()
        super().on_epoch_end(net, **kwargs)
        self.seconds_ += time.perf_counter() - start


def make_estimator(method, dataset, constraint, seed, quick, fairness_weight=None, top_k=None):
    strata = 2 if constraint == "demographic_parity" else 4
    common = dict(
        batch_size=500 * strata,
        batches_per_epoch=10 if quick else 100,
        max_epochs=3 if quick else 10,
        lr=1e-3,
        module__hidden_sizes=(200, 200),
        random_state=seed,
    )
    if method == "erm":  # Vanilla: the authors' DP loop is group-balanced, EO random
        sampling = "group_balanced" if constraint == "demographic_parity" else "random"
        return ERMClassifier(sampling=sampling, **common)
    return RunnerClassifier(
        fairness_weight=fairness_weight or FAIRNESS_WEIGHT[constraint],
        top_k=top_k or TOP_K[dataset],
        constraint=constraint,
        sampling="group_balanced" if strata == 2 else "cell_balanced",
        **common,
    )


def run_one(estimator, data, select_on: str, skip_epochs: int = 1) -> dict:
    evaluator = TimedEpochEvaluator(data)
    estimator.set_params(callbacks=[("protocol", evaluator)])
    start = time.perf_counter()
    estimator.fit(data.X_train, data.y_train, sensitive_features=data.a_train)
    fit_time = time.perf_counter() - start - evaluator.seconds_
    history = estimator.history
    gaps = np.array([epoch["protocol_val"][select_on] for epoch in history])
    allowed = np.arange(len(gaps)) >= min(skip_epochs, len(gaps) - 1)
    best = int(np.argmin(np.where(allowed, gaps, np.inf)))
    return {**history[best]["protocol_test"], "epoch": best, "fit_time": fit_time}


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["adult", "compas", "german", "lsac"])
    parser.add_argument("--constraints", nargs="+", default=["dp", "eo"], choices=list(SHORT))
    parser.add_argument("--methods", nargs="+", default=["erm", "runner"])
    parser.add_argument("--seeds", type=int, default=10, help="splits 0..seeds-1 (paper: 10)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--fairness-weight", type=float, help="override λ")
    parser.add_argument("--top-k", type=float, help="override k")
    parser.add_argument(
        "--select-on-eo",
        default="eo_max",
        choices=["eo", "eo_max"],
        help="validation column selecting the epoch for ΔEO (authors' code: eo_max)",
    )
    parser.add_argument("--quick", action="store_true", help="3 epochs of 10 batches")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, help="folder for results.csv / summary.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for dataset in args.datasets:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            data = load_protocol_data(dataset, seed=seed)
            for short in args.constraints:
                constraint = SHORT[short]
                select_on = "dp" if short == "dp" else args.select_on_eo
                for method in args.methods:
                    estimator = make_estimator(
                        method,
                        dataset,
                        constraint,
                        seed,
                        args.quick,
                        args.fairness_weight,
                        args.top_k,
                    ).set_params(device=args.device)
                    result = run_one(estimator, data, select_on)
                    rows.append(
                        {
                            "dataset": dataset,
                            "constraint": short,
                            "method": method,
                            "seed": seed,
                            **result,
                        }
                    )
                    print(
                        f"{dataset} {short} {method} seed={seed} ap={result['ap']:.3f} "
                        f"acc={result['acc']:.3f} dp={result['dp']:.3f} eo={result['eo']:.3f} "
                        f"eo_max={result['eo_max']:.3f} epoch={result['epoch']} "
                        f"fit={result['fit_time']:.1f}s",
                        flush=True,
                    )
    frame = pd.DataFrame(rows)
    summary = summarize(frame)
    print(summary.to_string())
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out / "results.csv", index=False)
        summary.to_csv(args.out / "summary.csv")
        (args.out / "args.json").write_text(json.dumps(vars(args), default=str, indent=2))
    return frame


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std per (dataset, constraint, method), the paper's numbers, the time ratio."""
    columns = ["ap", "acc", "dp", "eo", "eo_max", "fit_time"]
    grouped = frame.groupby(["dataset", "constraint", "method"])[columns]
    mean, std = grouped.mean(), grouped.std().fillna(0.0)
    table = mean.round(3).astype(str) + " ± " + std.round(3).astype(str)
    table["n"] = grouped.size()
    for key in mean.index:
        paper = RUNNER_PUBLISHED.get((key[0], SHORT[key[1]]), {}).get(key[2], {})
        table.loc[key, "paper"] = " ".join(f"{k}={v}" for k, v in paper.items())
        erm = (key[0], key[1], "erm")
        if erm in mean.index:
            table.loc[key, "time/erm"] = round(
                mean.loc[key, "fit_time"] / mean.loc[erm, "fit_time"], 2
            )
    return table


if __name__ == "__main__":
    main()
