# SPDX-License-Identifier: BSD-3-Clause
"""A/B of the segments' batch norm: ``CellBatchNorm`` against ``F.batch_norm`` on folded cells.

``cell_gradients="segments"`` normalises each cell of a batch by its own
statistics. Since 0.2.0's third speed round it does so with
:class:`skfairnn._cell_norm.CellBatchNorm` (one autograd node, closed-form
double backward); before, with ``F.batch_norm`` on the cells folded into
channels, whose double backward autograd builds from many small operations.
This benchmark swaps the two in one process (the earlier one is rebuilt here)
and fits GCM and FAIRER (EO) on ResNet-18 with each, alternating, so that a
machine's drift reaches both alike; it prints the best fit time of each and
its ratio to ERM's.

    python -m skfairnn_benchmarks.bench_cell_norm [--device cuda] [--images 1024] [--rounds 3]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

import skfairnn._segments as segments
from skfairnn import ERMClassifier, FairerClassifier, GCMClassifier
from skfairnn._cell_norm import fold_cells, unfold_cells

from .bench_gradient_methods import resnet_ab_setup, time_fit


def folded_batch_norm(bn, x, n_cells, weight, bias, batch_stats, updates):
    """The earlier ``_cells_norm``: ``F.batch_norm`` of the folded cells (batch statistics)."""
    if not batch_stats:
        return segments_cells_norm(bn, x, n_cells, weight, bias, batch_stats, updates)
    folded = fold_cells(x, n_cells)
    out = F.batch_norm(
        folded, None, None, None if weight is None else weight.reshape(-1),
        None if bias is None else bias.reshape(-1), True, 0.0, bn.eps,
    )  # fmt: skip
    if updates is not None:
        with torch.no_grad():
            dims = [0, *range(2, folded.dim())]
            variances, means = torch.var_mean(folded, dim=dims, correction=1)
        updates.add(bn, means.view(n_cells, -1), variances.view(n_cells, -1))
    return unfold_cells(out, n_cells)


segments_cells_norm = segments._cells_norm
VARIANTS = {"CellBatchNorm": segments_cells_norm, "folded F.batch_norm": folded_batch_norm}


def main(argv=None):
    args, (X, y, group), common = resnet_ab_setup(__doc__.split("\n")[0], argv)
    erm = ERMClassifier(sampling="cell_balanced", **common)
    methods = {
        "GCM(T=2)": GCMClassifier(
            fairness_weight=3.0, temperature=2, cell_gradients="segments", **common
        ),
        "FAIRER(EO)": FairerClassifier(
            alignment_weight=0.01, constraint="equalized_odds", sampling="cell_balanced",
            cell_gradients="segments", **common,
        ),
    }  # fmt: skip
    default_benchmark = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    try:
        erm.fit(X, y, sensitive_features=group)  # warm-up of every variant
        for estimator in methods.values():
            for norm in VARIANTS.values():
                segments._cells_norm = norm
                estimator.fit(X, y, sensitive_features=group)
        best = {}
        for _ in range(args.rounds):
            seconds = time_fit(erm, X, y, group, 1)
            best["ERM"] = min(best.get("ERM", seconds), seconds)
            for name, estimator in methods.items():
                for variant, norm in VARIANTS.items():
                    segments._cells_norm = norm
                    seconds = time_fit(estimator, X, y, group, 1)
                    key = (name, variant)
                    best[key] = min(best.get(key, seconds), seconds)
    finally:
        segments._cells_norm = segments_cells_norm
        torch.backends.cudnn.benchmark = default_benchmark
    erm_seconds = best.pop("ERM")
    print(f"ERM                               {erm_seconds:7.3f} s")
    for (name, variant), seconds in best.items():
        print(f"{name:11s} {variant:21s} {seconds:7.3f} s   ×{seconds / erm_seconds:5.2f} ERM")
    return best


if __name__ == "__main__":
    main()
