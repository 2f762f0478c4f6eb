# SPDX-License-Identifier: BSD-3-Clause
"""A/B of the segments' convolution sums: cells as channel groups or one call per cell.

``cell_gradients="segments"`` takes a convolution's per-cell weight gradients
either with one ``convolution_backward`` whose channel groups are the cells
(the default, when the cells have one size and are interleaved) or with one
call per cell. cuDNN's heuristics pick slow kernels for the grouped call, and
``torch.backends.cudnn.benchmark = True`` lets it time its algorithms
instead. This benchmark fits ERM, GCM and FAIRER (EO) on ResNet-18 in all four
combinations, alternating in one process so that a machine's drift reaches
each alike, and prints the best fit time of each and its ratio to ERM with the
same cuDNN setting (the first round is a warm-up).

    python -m skfairnn_benchmarks.bench_conv_sums [--device cuda] [--images 1024] [--rounds 3]
"""

from __future__ import annotations

import itertools

import torch

import skfairnn._segments as segments
from skfairnn import ERMClassifier, FairerClassifier, GCMClassifier

from .bench_gradient_methods import resnet_ab_setup, time_fit


def main(argv=None):
    args, (X, y, group), common = resnet_ab_setup(__doc__.split("\n")[0], argv)
    makers = {
        "ERM": lambda: ERMClassifier(sampling="cell_balanced", **common),
        "GCM(T=2)": lambda: GCMClassifier(
            fairness_weight=3.0, temperature=2, cell_gradients="segments", **common
        ),
        "FAIRER(EO)": lambda: FairerClassifier(
            alignment_weight=0.01,
            constraint="equalized_odds",
            sampling="cell_balanced",
            cell_gradients="segments",
            **common,
        ),  # fmt: skip
    }
    configurations = list(itertools.product((False, True), (True, False)))  # (benchmark, grouped)
    best = {}
    default_benchmark, default_grouped = torch.backends.cudnn.benchmark, segments._GROUPED_CONV_SUMS
    try:
        for round_ in range(args.rounds):
            for benchmark, grouped in configurations:
                torch.backends.cudnn.benchmark = benchmark
                segments._GROUPED_CONV_SUMS = grouped
                for name, make in makers.items():
                    if name == "ERM" and not grouped:  # ERM has no per-cell sums
                        continue
                    seconds = time_fit(make(), X, y, group, 1)
                    if round_:  # the first round warms up (and lets cuDNN time its algorithms)
                        key = (benchmark, grouped, name)
                        best[key] = min(best.get(key, float("inf")), seconds)
    finally:
        torch.backends.cudnn.benchmark = default_benchmark
        segments._GROUPED_CONV_SUMS = default_grouped
    for benchmark, grouped in configurations:
        erm = best[(benchmark, True, "ERM")]
        cells = "cells as channel groups" if grouped else "one call per cell     "
        seconds = {name: best[(benchmark, grouped, name)] for name in makers if name != "ERM"}
        ratios = "  ".join(f"{name} {s:.3f} s ×{s / erm:.2f}" for name, s in seconds.items())
        print(f"cudnn.benchmark={benchmark!s:5} {cells}  ERM {erm:.3f} s  {ratios}")
    return best


if __name__ == "__main__":
    main()
