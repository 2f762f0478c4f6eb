# SPDX-License-Identifier: BSD-3-Clause
"""A/B of the segments' convolution sums: channel groups, batched matmuls, one call per cell.

``cell_gradients="segments"`` takes a convolution's per-cell weight gradients
in one of three exact ways (:mod:`skfairnn._conv_sums`): one
``convolution_backward`` with the cells as channel groups, the windows of
the inputs times the output gradients as one batched matrix product, or one
``convolution_backward`` per cell. This benchmark fits ERM, GCM and FAIRER
(EO) on ResNet-18 with each way, alternating in one process so that a
machine's drift reaches each alike, and prints the best fit time of each
and its ratio to ERM (the first round is a warm-up). ``--cudnn-benchmark``
lets cuDNN time its algorithms (process-wide).

    python -m skfairnn_benchmarks.bench_conv_sums [--device cuda] [--images 1024] [--rounds 3]
"""

from __future__ import annotations

import torch

import skfairnn._segments as segments
from skfairnn import ERMClassifier, FairerClassifier, GCMClassifier
from skfairnn._conv_sums import CONV_SUMS

from .bench_gradient_methods import resnet_ab_setup, time_fit


def main(argv=None):
    args, (X, y, group), common = resnet_ab_setup(__doc__.split("\n")[0], argv)
    makers = {
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
    best = {}
    default_benchmark, default_way = torch.backends.cudnn.benchmark, segments._CONV_SUMS
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    try:
        for round_ in range(args.rounds):
            erm = {"ERM": lambda: ERMClassifier(sampling="cell_balanced", **common)}
            for way in ("ERM", *CONV_SUMS):  # ERM has no per-cell sums
                if way != "ERM":
                    segments._CONV_SUMS = way
                for name, make in (erm if way == "ERM" else makers).items():
                    seconds = time_fit(make(), X, y, group, 1)
                    if round_:  # the first round warms up (and lets cuDNN time its algorithms)
                        best[way, name] = min(best.get((way, name), float("inf")), seconds)
    finally:
        torch.backends.cudnn.benchmark = default_benchmark
        segments._CONV_SUMS = default_way
    erm = best["ERM", "ERM"]
    print(f"cudnn.benchmark={args.cudnn_benchmark}  ERM {erm:.3f} s")
    for way in CONV_SUMS:
        ratios = "  ".join(
            f"{name} {best[way, name]:.3f} s ×{best[way, name] / erm:.2f}" for name in makers
        )
        print(f"{way:9} {ratios}")
    return best


if __name__ == "__main__":
    main()
