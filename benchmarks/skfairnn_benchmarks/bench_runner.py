# SPDX-License-Identifier: BSD-3-Clause
"""Cost of a RUNNER fit relative to ERM with the same sampling and epochs (RUNNER Table 3).

RUNNER's selling point is that diagnosis and repair add little to plain
training (the paper: 66.5 s against 28.8 s for Vanilla on Adult, 5 epochs).
This script times ``RunnerClassifier.fit`` and ``ERMClassifier.fit`` (and
``FairRegClassifier.fit`` for reference) on the Fair Mixup Adult training
split with the papers' loop (500 rows per group for ΔDP, per (group, label)
cell for ΔEO, 100 batches per epoch, MLP 200-200), alternating the estimators
over several repeats, and prints the median times and their ratio.

Usage::

    python -m skfairnn_benchmarks.bench_runner                   # CPU, 5 epochs, 3 repeats
    python -m skfairnn_benchmarks.bench_runner --device cuda
    python -m skfairnn_benchmarks.bench_runner --epochs 2 --repeats 1 --constraint equalized_odds
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from skfairnn import ERMClassifier, FairRegClassifier, RunnerClassifier


def adult_training_split(seed: int = 0):
    """Fair Mixup Adult training split, or same-shaped random data without the datasets."""
    try:
        from skfairnn.datasets import load_adult_fair_mixup
    except ImportError:
        print("skfairnn.datasets not available: timing on random data of Adult's shape")
        rng = np.random.default_rng(seed)
        X = (rng.random((27132, 120)) < 0.2).astype(np.float32)
        return X, (rng.random(27132) < 0.25).astype(int), (rng.random(27132) < 0.67).astype(int)
    data = load_adult_fair_mixup(random_state=seed)
    return data.X_train.astype(np.float32), data.y_train, data.a_train


def estimators(constraint: str, epochs: int, device: str, fairness_weight: float, top_k):
    strata = 2 if constraint == "demographic_parity" else 4
    sampling = "group_balanced" if strata == 2 else "cell_balanced"
    common = dict(
        sampling=sampling,
        batch_size=500 * strata,
        batches_per_epoch=100,
        max_epochs=epochs,
        lr=1e-3,
        module__hidden_sizes=(200, 200),
        device=device,
        random_state=0,
    )
    return {
        "erm": ERMClassifier(**common),
        "fairreg": FairRegClassifier(
            fairness_weight=fairness_weight, constraint=constraint, **common
        ),
        "runner": RunnerClassifier(
            fairness_weight=fairness_weight, top_k=top_k, constraint=constraint, **common
        ),
    }


def time_fit(estimator, X, y, groups) -> float:
    if str(estimator.device).startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    estimator.fit(X, y, sensitive_features=groups)
    if str(estimator.device).startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=5, help="paper Table 3: 5")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--constraint",
        default="both",
        choices=["demographic_parity", "equalized_odds", "equal_opportunity", "both"],
    )
    parser.add_argument("--top-k", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    X, y, groups = adult_training_split()
    constraints = (
        ["demographic_parity", "equalized_odds"] if args.constraint == "both" else [args.constraint]
    )
    results = {}
    for constraint in constraints:
        weight = 0.3 if constraint == "demographic_parity" else 1.0
        nets = estimators(constraint, args.epochs, args.device, weight, args.top_k)
        time_fit(nets["erm"].set_params(max_epochs=1, batches_per_epoch=5), X, y, groups)  # warm-up
        nets["erm"].set_params(max_epochs=args.epochs, batches_per_epoch=100)
        times = {name: [] for name in nets}
        for _ in range(args.repeats):
            for name, net in nets.items():
                times[name].append(time_fit(net, X, y, groups))
        median = {name: float(np.median(values)) for name, values in times.items()}
        results[constraint] = {
            "seconds": median,
            "runner_over_erm": median["runner"] / median["erm"],
            "fairreg_over_erm": median["fairreg"] / median["erm"],
            "all_seconds": times,
        }
        print(
            f"{constraint:20s} device={args.device} epochs={args.epochs} "
            + " ".join(f"{name}={sec:.2f}s" for name, sec in median.items())
            + f"  runner/erm={results[constraint]['runner_over_erm']:.2f}"
            + f"  fairreg/erm={results[constraint]['fairreg_over_erm']:.2f}"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "results": results}, handle, indent=2)
    return results


if __name__ == "__main__":
    main()
