# SPDX-License-Identifier: BSD-3-Clause
r"""Every cell's gradient from one forward of the batch: segment sums of per-row terms.

GCM and FAIRER need the gradient of each cell's loss. The reference way
(:func:`skfairnn._forward.forward_by_cell`) forwards the cells one after
another and asks ``autograd.grad`` once per cell. For a network whose rows do
not interact (linear layers and element-wise activations: skfairnn's
:class:`~skfairnn.modules.MLP` and
:class:`~skfairnn.modules.LogisticRegressionModule`) there is a cheaper
exact route. A linear layer :math:`z = h W^\top + b` receives, for a loss
:math:`L_c` that depends on the rows of cell :math:`c` only,

.. math::

    \frac{\partial L_c}{\partial W} = \sum_{i \in c} \delta_i h_i^\top, \qquad
    \frac{\partial L_c}{\partial b} = \sum_{i \in c} \delta_i, \qquad
    \delta_i = \frac{\partial L_c}{\partial z_i},

and since every row belongs to one cell, the :math:`\delta_i` of all cells
come from *one* ``autograd.grad`` of :math:`\sum_c L_c` w.r.t. the layers'
outputs. So the batch goes through the network once (rows sorted by cell),
one backward gives every row's :math:`\delta`, and each cell's gradient is a
segment sum: with cells of equal size, one batched matrix product per layer.
All of it keeps its graph (``create_graph=True``), so a penalty on the
per-cell gradients is differentiated through it by the step's single
backward, as in the loop. Per-cell gradients, logits and the trained
parameters equal the loop's up to float rounding (``tests/test_segments.py``).

A dropout layer draws its masks once for the batch here, where the loop draws
them per cell: the same distribution, other draws.

Networks with batch normalisation keep the loop: their rows interact (the
batch statistics), which is why the loop forwards each cell on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .modules import ACTIVATIONS, MLP, LogisticRegressionModule, as_logits

__all__ = [
    "RowSegments",
    "SEGMENTED_MODULES",
    "segment_gradients",
    "segment_losses",
    "segmented_forward",
    "segments_cells",
]

#: The networks whose forward is known to map rows independently (exact types:
#: a subclass may override ``forward``). Empty it to force the per-cell loop.
SEGMENTED_MODULES: tuple[type[nn.Module], ...] = (MLP, LogisticRegressionModule)
#: the submodules such a network may hold
_ROW_WISE_LAYERS = (nn.Linear, nn.Sequential, nn.Dropout, *ACTIVATIONS.values())


@dataclass
class RowSegments:
    """The one forward of a batch whose rows are sorted by cell.

    Attributes
    ----------
    order : LongTensor
        The batch's rows in the sorted order (row ``k`` of the sorted batch is
        row ``order[k]`` of the batch).
    logits : Tensor
        The logit of every row of the sorted batch.
    inputs, outputs : list of Tensor
        Input :math:`h` and output :math:`z` of each linear layer, in order,
        for every row of the sorted batch.
    layer_of : dict of Tensor to (int, str)
        For each parameter, the position of its layer in ``inputs`` and
        whether it is the layer's ``"weight"`` or ``"bias"``.
    bounds : list of (int, int)
        For each cell of the :class:`~skfairnn._forward.CellForward` that
        holds it, the ``[start, stop)`` range of its rows in the sorted batch.
    """

    order: torch.Tensor
    logits: torch.Tensor
    inputs: list[torch.Tensor]
    outputs: list[torch.Tensor]
    layer_of: dict[torch.Tensor, tuple[int, str]]
    bounds: list[tuple[int, int]]

    def select(self, kept: Sequence[int]) -> RowSegments:
        """The same forward, for the cells at positions ``kept`` only."""
        bounds = [self.bounds[i] for i in kept]
        return RowSegments(
            self.order, self.logits, self.inputs, self.outputs, self.layer_of, bounds
        )


def _has_hooks(module: nn.Module) -> bool:
    return bool(module._forward_hooks or module._forward_pre_hooks or module._backward_hooks)


def segments_cells(module: nn.Module | None) -> bool:
    """Whether a batch's cells share one forward (:mod:`skfairnn._segments`), else a loop.

    Only for the networks of :data:`SEGMENTED_MODULES` made of row-wise
    layers, without hooks (a hook could change what a layer returns).
    """
    if module is None or type(module) not in SEGMENTED_MODULES or _has_hooks(module):
        return False
    return all(
        isinstance(sub, _ROW_WISE_LAYERS) and not _has_hooks(sub)
        for sub in list(module.modules())[1:]
    )


def segmented_forward(
    module: nn.Module, X: torch.Tensor, order: torch.Tensor, bounds: list[tuple[int, int]]
) -> RowSegments:
    """One forward of the rows ``X[order]`` (sorted by cell), recording each linear layer.

    Parameters
    ----------
    module : nn.Module
        A network for which :func:`segments_cells` holds.
    X : Tensor
        The batch's rows.
    order : LongTensor
        A permutation of the rows that puts each cell's rows next to each other.
    bounds : list of (int, int)
        Row range, in the sorted batch, of each cell whose gradient may be asked.
    """
    inputs, outputs, layer_of = [], [], {}
    h = X[order].flatten(1)
    for layer in module.net:  # the forward of MLP: its Sequential, then one logit per row
        if isinstance(layer, nn.Linear):
            layer_of[layer.weight] = (len(inputs), "weight")
            if layer.bias is not None:
                layer_of[layer.bias] = (len(inputs), "bias")
            inputs.append(h)
            h = layer(h)
            outputs.append(h)
        else:
            h = layer(h)
    return RowSegments(order, as_logits(h, module), inputs, outputs, layer_of, bounds)


def _blocks(values: torch.Tensor, bounds) -> torch.Tensor | None:
    """``values`` of the ranges as a ``(n_ranges, size, ...)`` view, if they tile one block."""
    size = bounds[0][1] - bounds[0][0]
    first = bounds[0][0]
    for k, (start, stop) in enumerate(bounds):
        if stop - start != size or start != first + k * size:
            return None
    last = first + len(bounds) * size
    if first > 0 or last < len(values):  # a slice (whose backward fills a zero copy)
        values = values[first:last]
    return values.unflatten(0, (len(bounds), size))


def segment_losses(
    segments: RowSegments, criterion, y: torch.Tensor, weight: torch.Tensor
) -> list[torch.Tensor]:
    r"""Each cell's weighted mean loss :math:`\sum_{i \in c} w_i\ell_i / \sum_{i \in c} w_i`.

    ``criterion`` is applied once to every row of the sorted batch (it must
    be row-wise, as for the loop); ``y`` and ``weight`` are in batch order.
    """
    logits = segments.logits
    losses = criterion(logits, y[segments.order].to(logits.dtype))
    weight = weight[segments.order].to(logits.dtype)
    tiny = torch.finfo(weight.dtype).tiny
    weighted, total = _blocks(losses * weight, segments.bounds), _blocks(weight, segments.bounds)
    if weighted is not None:
        return list((weighted.sum(1) / total.sum(1).clamp_min(tiny)).unbind(0))
    return [
        (losses[a:b] * weight[a:b]).sum() / weight[a:b].sum().clamp_min(tiny)
        for a, b in segments.bounds
    ]


def _segment_sums(delta: torch.Tensor, h: torch.Tensor, kind: str, bounds) -> list[torch.Tensor]:
    r"""Per cell, :math:`\sum_i \delta_i h_i^\top` (``"weight"``) or :math:`\sum_i \delta_i`."""
    blocks = _blocks(delta, bounds)
    if blocks is not None:  # one batched product over (cell, row, feature) blocks
        if kind == "bias":
            return list(blocks.sum(1).unbind(0))
        return list(torch.bmm(blocks.transpose(1, 2), _blocks(h, bounds)).unbind(0))
    if kind == "bias":
        return [delta[start:stop].sum(0) for start, stop in bounds]
    return [delta[start:stop].T @ h[start:stop] for start, stop in bounds]


def segment_gradients(
    losses: Sequence[torch.Tensor],
    params: Sequence[torch.Tensor],
    segments: RowSegments,
    create_graph: bool = True,
) -> list[list[torch.Tensor]]:
    """Gradient of each cell's loss w.r.t. ``params``, from one ``autograd.grad`` (see module).

    ``losses[c]`` must depend on the rows ``segments.bounds[c]`` only.
    """
    layers = sorted({segments.layer_of[p][0] for p in params})
    deltas = torch.autograd.grad(
        sum(losses), [segments.outputs[i] for i in layers],
        create_graph=create_graph, retain_graph=True, materialize_grads=True,
    )  # fmt: skip
    delta_of = dict(zip(layers, deltas))
    per_param = []
    for p in params:
        position, kind = segments.layer_of[p]
        per_param.append(
            _segment_sums(delta_of[position], segments.inputs[position], kind, segments.bounds)
        )
    return [list(cell) for cell in zip(*per_param)]
