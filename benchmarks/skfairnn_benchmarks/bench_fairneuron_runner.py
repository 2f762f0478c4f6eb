# SPDX-License-Identifier: BSD-3-Clause
"""Fit time of RUNNER and FairNeuron relative to ERM on Adult, in one run (RUNNER Table 3).

RUNNER claims to repair a network about ten times faster than FairNeuron
(Table 3: Adult 66.5 s against 728.9 s, Vanilla 28.8 s). This script builds
the three estimators from the ``skfairnn compare`` registry
(:data:`skfairnn.benchmarks.METHODS`: ``erm``, ``runner``, ``fairneuron``,
each with its paper settings and the papers' Adult loop), fits them on the
Fair Mixup Adult training split, alternating the methods over the repeats,
and prints the median fit times and their ratios to ERM. FairNeuron's time is
split into its diagnosis (the path analysis of every training row, stage 2)
and the rest (the two trainings).

What is not timed: the authors' FairNeuron also grid-searches
:math:`(\\theta, \\gamma)` over 6 × 6 values with one retraining each (part of
its "diagnosis" time in RUNNER's table); here that search would be a
``GridSearchCV`` around the estimator and is left out, as is RUNNER's
choice of ``top_k``.

Usage::

    python -m skfairnn_benchmarks.bench_fairneuron_runner --quick           # CPU smoke run
    python -m skfairnn_benchmarks.bench_fairneuron_runner --device cuda      # paper settings
    python -m skfairnn_benchmarks.bench_fairneuron_runner --constraint equalized_odds --repeats 3
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import torch

from skfairnn._paths import (
    activation_paths,
    linear_chain,
    path_signatures,
    rare_path_mask,
    rows_per_chunk,
)
from skfairnn.benchmarks import METHODS

from .bench_runner import adult_training_split

MODELS = ("erm", "runner", "fairneuron")


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def time_fit(estimator, X, y, groups) -> float:
    """Seconds of one ``fit`` (CUDA work included)."""
    _sync(estimator.device)
    start = time.perf_counter()
    estimator.fit(X, y, sensitive_features=groups)
    _sync(estimator.device)
    return time.perf_counter() - start


def time_diagnosis(estimator, X) -> float:
    """Seconds of FairNeuron's stage 2 (paths, path sets, rare sets) on the fitted network."""
    module = estimator.module_
    layers = linear_chain(module)
    X = torch.as_tensor(X, device=estimator.device)
    size = rows_per_chunk(layers)
    _sync(estimator.device)
    start = time.perf_counter()
    signatures = []
    for first in range(0, len(X), size):
        paths = activation_paths(module, layers, X[first : first + size], estimator.gamma)
        signatures += path_signatures(paths)
    rare_path_mask(signatures, estimator.theta)
    _sync(estimator.device)
    return time.perf_counter() - start


def format_table(result: dict) -> str:
    """The timing table: median seconds and the ratio to ERM."""
    erm = result["median_s"]["erm"]
    lines = [f"{'method':<24}{'fit [s]':>10}{'x ERM':>8}", "-" * 42]
    rows = [(name, result["median_s"][name]) for name in MODELS]
    rows.append(("  fairneuron diagnosis", result["median_s"]["fairneuron_diagnosis"]))
    for name, seconds in rows:
        lines.append(f"{name:<24}{seconds:>10.2f}{seconds / erm:>8.2f}")
    lines.append("-" * 42)
    lines.append(f"fairneuron / runner: {result['fairneuron_over_runner']:.2f}")
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="25 batches x 4 epochs per fit")
    parser.add_argument("--constraint", default="demographic_parity")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    X, y, groups = adult_training_split()
    warm_up = METHODS["erm"](args.constraint, 0, True).set_params(device=args.device, max_epochs=1)
    with warnings.catch_warnings():  # one epoch on 2000 rows: first-call overheads only
        warnings.simplefilter("ignore")
        warm_up.fit(X[:2000], y[:2000], sensitive_features=groups[:2000])
    times: dict[str, list[float]] = {name: [] for name in (*MODELS, "fairneuron_diagnosis")}
    fractions = []
    for repeat in range(args.repeats):
        for name in MODELS:
            estimator = METHODS[name](args.constraint, repeat, args.quick)
            estimator.set_params(device=args.device)
            times[name].append(time_fit(estimator, X, y, groups))
            if name == "fairneuron":
                times["fairneuron_diagnosis"].append(time_diagnosis(estimator, X))
                fractions.append(estimator.biased_fraction_)
    median = {name: float(np.median(values)) for name, values in times.items()}
    result = {
        "device": args.device,
        "quick": args.quick,
        "constraint": args.constraint,
        "n_rows": int(len(X)),
        "repeats": args.repeats,
        "median_s": median,
        "ratio_to_erm": {name: median[name] / median["erm"] for name in median},
        "fairneuron_over_runner": median["fairneuron"] / median["runner"],
        "fairneuron_biased_fraction": float(np.mean(fractions)),
    }
    print(format_table(result))
    print(f"fairneuron biased rows: {result['fairneuron_biased_fraction']:.3f}")
    if args.json:
        print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
