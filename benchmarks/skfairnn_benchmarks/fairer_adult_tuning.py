# SPDX-License-Identifier: BSD-3-Clause
"""FAIRER's β and importance on Adult DP against FairReg at matched *validation* AP.

Runs the ``fairreg`` and ``fairer`` registry entries (:data:`skfairnn.benchmarks.METHODS`)
over a λ grid, FAIRER also over ``--betas`` × ``--importances``, with the
protocol's epoch selection (minimum validation probability ΔDP, selection
``"prob"``), and records the selected epoch's validation *and* test AP and
probability ΔDP (``skfairnn compare`` reports the test split only). Each
FAIRER setting is then scored by how far its validation gap lies below
FairReg's curve at the same validation AP (linear interpolation between
FairReg's λ points, extended by the end segments up to ``--ap-margin``),
averaged over λ; the test numbers are printed beside it, never used to choose.

Runs are appended to ``--out`` (JSON lines) and skipped when rerun::

    python -m skfairnn_benchmarks.fairer_adult_tuning --seeds 5 --n-jobs 8 --device cuda
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from skfairnn.benchmarks import METHODS, load_protocol_data, run_tasks
from skfairnn.benchmarks._protocol import EpochEvaluator, select_epoch

KEYS = ("method", "seed", "fairness_weight", "alignment_weight", "importance")
SETTING = ["method", "importance", "alignment_weight", "fairness_weight"]  # a row, seeds pooled


def run_one(config: dict) -> dict:
    """Fit one (method, seed, weights) configuration; selected epoch's val and test metrics.

    ``config`` also carries the run options ``quick``, ``device`` and ``data_home``.
    """
    data = load_protocol_data("adult", seed=config["seed"], data_home=config["data_home"])
    estimator = METHODS[config["method"]]("demographic_parity", config["seed"], config["quick"])
    params = estimator.get_params()
    overrides = {k: config[k] for k in KEYS[2:] if k in params and config[k] is not None}
    estimator = clone(estimator).set_params(device=config["device"], **overrides)
    callbacks = list(estimator.callbacks or []) + [("protocol", EpochEvaluator(data))]
    estimator.set_params(callbacks=callbacks)
    estimator.fit(data.X_train, data.y_train, sensitive_features=data.a_train)
    history = estimator.history
    best = select_epoch([epoch["protocol_val"] for epoch in history], "dp_prob")
    val, test = history[best]["protocol_val"], history[best]["protocol_test"]
    return {
        "epoch": best,
        **{f"val_{m}": val[m] for m in ("ap", "dp_prob")},
        **{f"test_{m}": test[m] for m in ("ap", "dp_prob", "dp")},
    }


def grid(seeds, lambdas, betas, importances) -> list[dict]:
    """FairReg at each λ, FAIRER at each (λ, β, importance), for each seed."""
    configs = []
    for seed in seeds:
        for lam in lambdas:
            configs.append(dict(zip(KEYS, ("fairreg", seed, lam, None, None))))
            for beta in betas:
                for importance in importances:
                    configs.append(dict(zip(KEYS, ("fairer", seed, lam, beta, importance))))
    return configs


def matched_gap_reduction(runs: pd.DataFrame, split: str = "val", ap_margin: float = 0.01):
    """Per FAIRER setting and λ: 1 − gap / FairReg's gap at the same ``split`` AP (seed means)."""
    ap, gap = f"{split}_ap", f"{split}_dp_prob"
    means = runs.groupby(SETTING, dropna=False)[[ap, gap]].mean().reset_index()
    ref = means[means.method == "fairreg"].sort_values(ap)
    x, y = ref[ap].to_numpy(), ref[gap].to_numpy()
    rows = []
    for _, row in means[means.method == "fairer"].iterrows():
        if len(x) < 2 or not x[0] - ap_margin <= row[ap] <= x[-1] + ap_margin:
            continue
        i = int(np.clip(np.searchsorted(x, row[ap]) - 1, 0, len(x) - 2))
        ref_gap = y[i] + (y[i + 1] - y[i]) * (row[ap] - x[i]) / (x[i + 1] - x[i])
        rows.append({**row, f"fairreg_{gap}": ref_gap, "reduction": 1 - row[gap] / ref_gap})
    return pd.DataFrame(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--lambdas", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.5])
    parser.add_argument("--betas", type=float, nargs="+", default=[0.001, 0.01, 0.05])
    parser.add_argument("--importances", nargs="+", default=["parameter", "unit"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--ap-margin", type=float, default=0.01)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--out", type=Path, default=Path("fairer_adult_tuning.jsonl"))
    args = parser.parse_args(argv)

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    options = dict(quick=args.quick, device=args.device, data_home=args.data_home)
    configs = grid(seeds, args.lambdas, args.betas, args.importances)
    tasks = [{**config, **options} for config in configs]
    rows = run_tasks(
        tasks,
        run_one,
        path=args.out,
        n_jobs=args.n_jobs,
        torch_threads=args.threads,
        desc="fairer tuning",
    )
    runs = pd.DataFrame([row for row in rows if not row["error"]])
    summary = runs.groupby(SETTING, dropna=False)
    print(summary[["val_ap", "val_dp_prob", "test_ap", "test_dp_prob"]].agg(["mean", "std"])
          .round(4).to_string())  # fmt: skip
    for split in ("val", "test"):
        table = matched_gap_reduction(runs, split, args.ap_margin)
        if table.empty:
            continue
        print(f"\nFAIRER's {split} prob. ΔDP below FairReg's at matched {split} AP:")
        print(table.round(4).to_string(index=False))
        print(table.groupby(["importance", "alignment_weight"])["reduction"].mean().round(3))


if __name__ == "__main__":
    main()
