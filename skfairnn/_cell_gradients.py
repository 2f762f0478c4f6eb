# SPDX-License-Identifier: BSD-3-Clause
"""Per-cell losses and their gradients: the double-backprop pieces of GCM and FAIRER.

Both gradient-matching methods compare how the cells of a batch
(:mod:`skfairnn.cells`) drive the network's gradients. Given the per-cell
forward of a batch (:func:`skfairnn._forward.forward_by_cell`):

1. :func:`cell_losses` gives each present cell's weighted mean task loss;
2. :func:`cell_gradients` differentiates each w.r.t. the chosen parameters
   with ``create_graph=True``;
3. the method's penalty on those gradients joins the loss, and the step's
   single ``loss.backward()`` differentiates through them (double backprop).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ._forward import CellForward
from ._segments import segment_gradients
from ._step_graphs import device_constant
from .cells import cell_pairs

__all__ = ["cell_losses", "cell_gradients", "compared_cells", "host_tensor", "mean_cell_scores"]


def _weighted_mean(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Weighted mean along the last axis (of each row, for ``(k, n)`` inputs)."""
    weight = weight.to(values.dtype)
    total = weight.sum(-1).clamp_min(torch.finfo(weight.dtype).tiny)
    return (values * weight).sum(-1) / total


def cell_losses(forward: CellForward, criterion, y: torch.Tensor, weight: torch.Tensor):
    """Weighted mean task loss of each present cell, :math:`\\sum_i w_i\\ell_i / \\sum_i w_i`."""
    segments = forward.segments
    if segments is not None:  # one forward of the batch: one criterion call for all rows
        logits = segments.logits
        losses = criterion(logits, y[segments.order].to(logits.dtype))
        weight, rows = weight[segments.order], segments.rows
        cell_losses = rows.stacked(losses)
        if cell_losses is not None:  # cells of one size: one reduction
            return list(_weighted_mean(cell_losses, rows.stacked(weight)).unbind(0))
        return [_weighted_mean(*parts) for parts in zip(rows.parts(losses), rows.parts(weight))]
    return [
        _weighted_mean(criterion(logits, y[rows].to(logits.dtype)), weight[rows])
        for rows, logits in zip(forward.index, forward.logits)
    ]


def compared_cells(forward: CellForward, constraint: str) -> CellForward:
    """The present cells that some pair of :func:`~skfairnn.cells.cell_pairs` compares.

    A cell whose label has no other present group (or that ``constraint``
    does not compare, e.g. label 0 under equal opportunity) enters no term,
    so its gradient is not computed.
    """
    pairs = cell_pairs(forward.codes, constraint)
    kept = sorted({position for label in pairs for pair in label for position in pair})
    if len(kept) == len(forward.codes):
        return forward
    return CellForward(
        [forward.codes[i] for i in kept],
        [forward.index[i] for i in kept],
        [forward.logits[i] for i in kept],
        forward.n_groups,
        None if forward.segments is None else forward.segments.select(kept),
    )


def host_tensor(values: Sequence, like: torch.Tensor) -> torch.Tensor:
    """``values`` (host numbers) as a tensor of ``like``'s dtype on its device.

    The copy to an accelerator does not make the host wait for the device
    (``non_blocking``), as ``torch.tensor(values, device=...)`` would; inside
    a CUDA-graph capture it is copied from pinned memory the graph keeps
    (:func:`~skfairnn._step_graphs.device_constant`).
    """
    return device_constant(torch.tensor(values, dtype=like.dtype), like.device)


def cell_gradients(
    losses: Sequence[torch.Tensor],
    params: Sequence[torch.Tensor],
    *,
    create_graph: bool = True,
    cells: CellForward | None = None,
) -> list[torch.Tensor]:
    """Gradient of each cell's loss w.r.t. each of ``params``, stacked over the cells.

    Returns one tensor per parameter, of shape ``(len(losses), *param.shape)``
    (zeros where a cell's loss does not use the parameter).

    ``cells``: the cells the losses belong to (in order). When they share one
    forward (:attr:`CellForward.segments`), one ``autograd.grad`` of the
    summed losses w.r.t. the layers' outputs gives every cell's gradient as
    segment sums (:func:`~skfairnn._segments.segment_gradients`); otherwise
    one call per cell.
    """
    if cells is not None and cells.segments is not None and losses:
        return segment_gradients(losses, params, cells.segments, create_graph)
    per_cell = [
        torch.autograd.grad(
            loss, params, create_graph=create_graph, retain_graph=True, materialize_grads=True
        )
        for loss in losses
    ]
    return [torch.stack(cell_grads) for cell_grads in zip(*per_cell)]


def mean_cell_scores(forward: CellForward, weight: torch.Tensor) -> torch.Tensor:
    """Weighted mean probability :math:`\\bar y` of each present cell (detached)."""
    return torch.stack(
        [
            _weighted_mean(torch.sigmoid(logits.detach()), weight[rows])
            for rows, logits in zip(forward.index, forward.logits)
        ]
    )
