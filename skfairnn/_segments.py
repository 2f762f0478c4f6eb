# SPDX-License-Identifier: BSD-3-Clause
r"""Every cell's gradient from one forward of the batch: segment sums of per-row terms.

GCM and FAIRER need the gradient of each cell's loss. The reference way
(:func:`skfairnn._forward.forward_by_cell` with ``cell_gradients="loop"``)
forwards the cells one after another and asks ``autograd.grad`` once per
cell. When the rows of different cells do not interact, there is a cheaper
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
segment sum: one batched product per layer when the cells have one size. A
convolution's weight gradient is the same sum, taken by
``convolution_backward`` on the cell's rows (with the cells folded into
channel groups, one call for all cells).

When the cells have one size (cell- or group-balanced batches) their rows are
*interleaved* (:class:`CellRows`): row :math:`k` of cell :math:`c` sits at
position :math:`k \cdot n_{cells} + c` of the sorted batch, so every
per-row tensor ``(n·n_cells, C, ...)`` is, as a view, the cells folded into
channels, ``(n, n_cells·C, ...)``, and the folded convolutions and batch
norms need no copies. Cells of different sizes are consecutive blocks.

Batch normalisation is what makes rows interact, and the loop forwards each
cell on its own so that each cell is normalised by its own statistics. Here
every batch-norm layer normalises each cell by that cell's statistics too:
with the cells folded into the channel axis, torch's batch-norm kernels
compute per-(cell, channel) statistics
(:class:`~skfairnn._cell_norm.CellBatchNorm`, whose double backward is in
closed form: about twenty operations per layer where autograd's runs about
130), with the layer's affine parameters entering as one copy per cell,
``(n_cells, C)`` (whose gradients are then the cells' gradients); cells of
different sizes are normalised one after another. The running statistics
receive the loop's updates, one per cell in cell order, in closed form,
all layers' together after the forward (:class:`RunningStatUpdates`).

All of it keeps its graph (``create_graph=True``), so a penalty on the
per-cell gradients is differentiated through it by the step's single
backward, as in the loop. Per-cell gradients, logits, running statistics and
the trained parameters equal the loop's up to float rounding
(``tests/test_segments.py``). A dropout layer draws its masks once for the
batch, where the loop draws them per cell: the same distribution, other draws.

``cell_gradients="auto"`` takes this path for skfairnn's own networks
(:data:`SEGMENTED_MODULES`, whose forwards are known); ``"segments"`` takes it
for any network whose weighted layers are linear, convolution and batch-norm
layers, each called once per forward, and whose rows interact only through
batch norm (what the user asserts by choosing it).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ._cell_norm import CellBatchNorm, biased_variance
from ._conv_sums import conv_weight_sums
from .modules import ACTIVATIONS, MLP, ConvNet, LogisticRegressionModule, as_logits

__all__ = [
    "CELL_GRADIENTS",
    "CELL_GRADIENTS_PARAMETER",
    "CellRows",
    "RowSegments",
    "RunningStatUpdates",
    "SEGMENTED_MODULES",
    "check_segmentable",
    "segment_gradients",
    "segmented_forward",
    "segments_cells",
]

#: the values of the methods' ``cell_gradients`` parameter
CELL_GRADIENTS = ("auto", "segments", "loop")

#: the ``cell_gradients`` entry of the Parameters section of GCM and FAIRER
CELL_GRADIENTS_PARAMETER = """\
cell_gradients : {"auto", "segments", "loop"}, default="auto"
        How the per-cell gradients are taken; the values are the same up to
        float rounding (:mod:`skfairnn._segments`). ``"loop"``: one forward
        and one ``autograd.grad`` per cell (the authors' code). ``"segments"``:
        one forward of the batch, sorted by cell, with every batch-norm layer
        normalising each cell by that cell's statistics (as the loop does),
        and each cell's gradient a segment sum of per-row terms; for networks
        whose weighted layers are linear, convolution and batch-norm layers,
        each called once, and whose rows interact only through batch norm
        (you assert it by choosing it). ``"auto"``: ``"segments"`` for
        skfairnn's :class:`~skfairnn.modules.MLP`,
        :class:`~skfairnn.modules.LogisticRegressionModule` and
        :class:`~skfairnn.modules.ConvNet`, ``"loop"`` for any other module."""
#: The networks whose forward is known to map rows independently (exact types:
#: a subclass may override ``forward``); ``cell_gradients="auto"`` segments them.
#: Empty it to force the per-cell loop.
SEGMENTED_MODULES: tuple[type[nn.Module], ...] = (MLP, LogisticRegressionModule, ConvNet)
#: the submodules such a network may hold
_ROW_WISE_LAYERS = (
    nn.Linear, nn.Conv2d, nn.Sequential, nn.Dropout, nn.MaxPool2d, nn.AdaptiveAvgPool2d,
    *ACTIVATIONS.values(),
)  # fmt: skip
_CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_WEIGHTED = (nn.Linear, *_CONVOLUTIONS, _BatchNorm)
#: how a convolution's per-cell weight gradients are taken (:data:`~skfairnn._conv_sums.CONV_SUMS`);
#: for benchmarks' A/B
_CONV_SUMS = "grouped"


@dataclass
class _Layer:
    """One weighted layer of the forward: what its parameters' segment sums need.

    ``kind`` is ``"linear"``, ``"conv"`` or ``"norm"``. For linear and
    convolution layers ``input``/``output`` are the layer's input and output
    for every row of the sorted batch; for a batch-norm layer ``output``
    holds the per-cell copies ``(weight, bias)`` of its affine parameters.
    """

    module: nn.Module
    kind: str
    input: torch.Tensor | None
    output: torch.Tensor | tuple


@dataclass(frozen=True)
class CellRows:
    """Where the cells' rows sit in a batch sorted for its one forward.

    Attributes
    ----------
    sizes : list of int
        Rows of each non-empty cell (batch norm's cells), in cell order.
    slots : list of int
        Positions among those cells of the cells whose gradients may be asked.
    interleaved : bool
        Whether the non-empty cells have one size and their rows are
        interleaved: row ``k`` of cell ``c`` at position ``k·len(sizes) + c``
        (so that per-row tensors fold into channels as views,
        :func:`~skfairnn._cell_norm.fold_cells`). Otherwise each cell's rows
        are one block, the cells in order.
    """

    sizes: list[int]
    slots: list[int]
    interleaved: bool

    @classmethod
    def for_sizes(cls, sizes: Sequence[int], slots: Sequence[int]) -> CellRows:
        """The layout for cells of ``sizes``: interleaved when they have one size."""
        return cls(list(sizes), list(slots), len(set(sizes)) == 1)

    @property
    def n_cells(self) -> int:
        """Number of non-empty cells."""
        return len(self.sizes)

    @property
    def all_cells(self) -> bool:
        """Whether every non-empty cell is asked, in order."""
        return self.slots == list(range(self.n_cells))

    def order(self, blocks_order: torch.Tensor) -> torch.Tensor:
        """The sorted batch's rows, from the rows of the cells one block after another."""
        if not self.interleaved or self.n_cells == 1:
            return blocks_order
        return blocks_order.view(self.n_cells, -1).T.reshape(-1)

    def asked(self, per_cell: torch.Tensor) -> torch.Tensor:
        """The rows ``slots`` of a per-cell tensor ``(n_cells, ...)``: a view when consecutive."""
        first, count = self.slots[0], len(self.slots)
        if self.slots == list(range(first, first + count)):
            return per_cell if count == len(per_cell) else per_cell[first : first + count]
        return per_cell[self.slots]

    def _cells(self, values: torch.Tensor) -> torch.Tensor:
        """Interleaved per-row ``values`` as ``(n_cells, size, ...)``, a view."""
        return values.unflatten(0, (self.sizes[0], self.n_cells)).transpose(0, 1)

    def stacked(self, values: torch.Tensor) -> torch.Tensor | None:
        """``values`` (one per sorted row) of the asked cells, ``(n_asked, size, ...)``.

        A view when every cell is asked, or a run of consecutive ones;
        ``None`` when the cells differ in size.
        """
        return self.asked(self._cells(values)) if self.interleaved else None

    def parts(self, values: torch.Tensor) -> list[torch.Tensor]:
        """``values`` of each asked cell, one view per cell."""
        cells = self._cells(values) if self.interleaved else torch.split(values, self.sizes)
        return [cells[slot] for slot in self.slots]

    def select(self, kept: Sequence[int]) -> CellRows:
        """The same layout, asking the cells at positions ``kept`` of ``slots`` only."""
        return CellRows(self.sizes, [self.slots[i] for i in kept], self.interleaved)


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
    layers : list
        The weighted layers in call order (``_Layer``).
    param_of : dict of Tensor to (int, str)
        For each parameter, the position of its layer in ``layers`` and
        whether it is the layer's ``"weight"`` or ``"bias"``.
    rows : CellRows
        Where each cell's rows are in the sorted batch, and which cells of the
        :class:`~skfairnn._forward.CellForward` that holds it may be asked
        (the per-cell copies of batch-norm parameters are in cell order).
    """

    order: torch.Tensor
    logits: torch.Tensor
    layers: list[_Layer]
    param_of: dict[torch.Tensor, tuple[int, str]]
    rows: CellRows

    def select(self, kept: Sequence[int]) -> RowSegments:
        """The same forward, for the asked cells at positions ``kept`` only."""
        return RowSegments(
            self.order, self.logits, self.layers, self.param_of, self.rows.select(kept)
        )


def _has_hooks(module: nn.Module) -> bool:
    return bool(module._forward_hooks or module._forward_pre_hooks or module._backward_hooks)


def segments_cells(module: nn.Module | None) -> bool:
    """Whether ``cell_gradients="auto"`` forwards a batch's cells together (else a loop).

    Only for the networks of :data:`SEGMENTED_MODULES` made of row-wise
    layers, without hooks (a hook could change what a layer returns).
    """
    if module is None or type(module) not in SEGMENTED_MODULES or _has_hooks(module):
        return False
    return all(
        isinstance(sub, _ROW_WISE_LAYERS) and not _has_hooks(sub)
        for sub in list(module.modules())[1:]
    )


def check_segmentable(module: nn.Module) -> None:
    """Raise ``ValueError`` if ``cell_gradients="segments"`` cannot handle ``module``.

    Every parameter must belong to a linear, convolution (zero padding) or
    batch-norm layer; batch norm must be one of torch's own (not synchronised
    across processes).
    """
    for name, sub in module.named_modules():  # every step: the common case costs no lookup
        if isinstance(sub, _WEIGHTED) and not isinstance(sub, nn.SyncBatchNorm):
            if not isinstance(sub, _CONVOLUTIONS) or sub.padding_mode == "zeros":
                continue
            problem = f"padding_mode={sub.padding_mode!r} (only 'zeros' is supported)"
        else:
            own = [p for p, _ in sub.named_parameters(recurse=False)]
            if not own:
                continue
            problem = (
                f"its parameters {own} are not those of a linear, convolution or batch-norm layer"
            )
        raise ValueError(
            f"cell_gradients='segments' cannot take the per-cell gradients of layer "
            f"{name or type(module).__name__!r} ({type(sub).__name__}): {problem}. "
            "Use cell_gradients='loop'."
        )


@functools.lru_cache(maxsize=32)
def _momentum_weights(n_cells: int, momentum: float, dtype, device) -> torch.Tensor:
    """:math:`m (1-m)^{C-1-c}` of each cell :math:`c` (a constant, made once per device)."""
    weights = [momentum * (1 - momentum) ** (n_cells - 1 - c) for c in range(n_cells)]
    return torch.tensor(weights, dtype=dtype, device=device)


def _cumulative_updates(
    bn: _BatchNorm, means: torch.Tensor, variances: torch.Tensor, scale: float = 1.0
) -> None:
    """The loop's updates of a cumulative average (``momentum=None``), one per cell in order.

    ``scale`` multiplies ``variances`` (the unbiased correction of biased ones).
    """
    with torch.no_grad():
        for mean, variance in zip(means, variances):
            bn.num_batches_tracked.add_(1)
            factor = 1.0 / float(bn.num_batches_tracked)  # a host read; rare option
            bn.running_mean.mul_(1 - factor).add_(mean, alpha=factor)
            bn.running_var.mul_(1 - factor).add_(variance, alpha=factor * scale)


class RunningStatUpdates:
    """The batch norms' running-statistic updates of one forward, applied after it.

    Each layer's update is the loop's, one per cell in cell order: with a
    momentum :math:`m`, in closed form, :math:`r \\leftarrow (1-m)^C r +
    \\sum_c m (1-m)^{C-1-c} s_c`. Collected during the forward and
    applied together, the layers with a momentum that share a cell count,
    momentum, dtype and device take one product of their concatenated
    statistics and a few ``_foreach`` operations (about ten for a ResNet-18,
    where one update per layer ran five: a GPU step is bound by launching
    them). Cumulative averages (``momentum=None``) are updated layer by layer.
    Nothing reads a running statistic in training mode, so deferring the
    updates to the end of the forward changes no result.
    """

    def __init__(self):
        self._pending: list[tuple[_BatchNorm, torch.Tensor, torch.Tensor, float, bool]] = []

    def add(
        self, bn: _BatchNorm, means: torch.Tensor, variances: torch.Tensor, scale: float = 1.0,
        *, from_invstd: bool = False,
    ) -> None:  # fmt: skip
        r"""Record ``bn``'s per-cell ``means`` and ``variances`` ``(n_cells, C)``.

        ``scale`` multiplies the variances (the unbiased correction of biased
        ones); ``from_invstd``: ``variances`` holds batch norm's
        :math:`(\sigma^2 + \epsilon)^{-1/2}` instead (converted with the
        other layers').
        """
        self._pending.append((bn, means, variances, scale, from_invstd))

    def apply(self) -> None:
        """Apply every recorded update (once; the record is emptied)."""
        pending, self._pending = self._pending, []
        shared = {}
        for bn, means, variances, scale, from_invstd in pending:
            if bn.momentum is None:
                _cumulative_updates(
                    bn, means, biased_variance(variances, bn.eps) if from_invstd else variances,
                    scale,
                )  # fmt: skip
            else:
                key = (means.shape[0], bn.momentum, means.dtype, means.device, from_invstd, bn.eps)
                shared.setdefault(key, []).append((bn, means, variances, scale))
        with torch.no_grad():
            for (n_cells, momentum, dtype, device, from_invstd, eps), layers in shared.items():
                bns, means, variances, scales = zip(*layers)
                weights = _momentum_weights(n_cells, momentum, dtype, device)
                sizes = [len(bn.running_mean) for bn in bns]
                variances = torch.cat(variances, 1)
                if from_invstd:
                    variances = biased_variance(variances, eps)
                mean_sums = (weights @ torch.cat(means, 1)).split(sizes)
                var_sums = (weights @ variances).split(sizes)
                decay = (1 - momentum) ** n_cells
                running_means = [bn.running_mean for bn in bns]
                running_vars = [bn.running_var for bn in bns]
                torch._foreach_mul_(running_means, decay)
                torch._foreach_add_(running_means, mean_sums)
                torch._foreach_mul_(running_vars, decay)
                torch._foreach_add_(running_vars, torch._foreach_mul(var_sums, list(scales)))
                torch._foreach_add_([bn.num_batches_tracked for bn in bns], n_cells)


def _cells_norm(
    bn: _BatchNorm,
    x: torch.Tensor,
    n_cells: int,
    weight,
    bias,
    batch_stats: bool,
    updates: RunningStatUpdates | None,
) -> torch.Tensor:
    r"""Batch norm of ``x`` whose ``n_cells`` cells of one size are interleaved.

    Each (cell, channel) is normalised by its cell's statistics
    (:class:`~skfairnn._cell_norm.CellBatchNorm`: torch's batch-norm kernels
    on the cells folded into channels, with a closed-form double backward),
    or by the running ones in evaluation mode (``x`` viewed as ``(row, cell,
    channel, rest)``). The running statistics' updates go to ``updates``
    (``None``: none).
    """
    channels = x.shape[1]
    if batch_stats:
        count = x.numel() // (n_cells * channels)  # values per (cell, channel)
        if count == 1:  # what F.batch_norm, and so the per-cell loop, refuses
            raise ValueError(
                f"Expected more than 1 value per channel when training; each of the "
                f"{n_cells} cells gives {type(bn).__name__} an input of size "
                f"{(x.shape[0] // n_cells, *x.shape[1:])}."
            )
        out, mean, invstd = CellBatchNorm.apply(x, weight, bias, n_cells, bn.eps)
        if updates is not None:
            shape = (n_cells, channels)
            correction = count / max(count - 1, 1)
            updates.add(bn, mean.view(shape), invstd.view(shape), correction, from_invstd=True)
        return out
    cells = x.reshape(x.shape[0] // n_cells, n_cells, channels, -1)
    scale = torch.rsqrt(bn.running_var + bn.eps).expand(n_cells, channels)
    if weight is not None:
        scale = scale * weight
    out = (cells - bn.running_mean[:, None]) * scale[:, :, None]
    if bias is not None:
        out = out + bias[:, :, None]
    return out.view_as(x)


def _cell_batch_norm(
    bn: _BatchNorm, x: torch.Tensor, rows: CellRows, layers: list, updates: RunningStatUpdates
) -> torch.Tensor:
    """Batch norm of ``x`` with each cell (:class:`CellRows`) by its own statistics.

    The affine parameters enter as one copy per cell, ``(n_cells, C)``
    (recorded in ``layers``); the running statistics' updates go to
    ``updates``. In evaluation mode (running statistics) the rows do not
    interact, and only the copies differ from the layer's own forward.
    """
    n_cells = rows.n_cells
    weight = None if bn.weight is None else bn.weight.repeat(n_cells, 1)
    bias = None if bn.bias is None else bn.bias.repeat(n_cells, 1)
    layers.append(_Layer(bn, "norm", None, (weight, bias)))
    batch_stats = bn.training or not bn.track_running_stats
    if not (bn.training and bn.track_running_stats):
        updates = None
    if rows.interleaved:
        return _cells_norm(bn, x, n_cells, weight, bias, batch_stats, updates)
    running = (None, None) if batch_stats else (bn.running_mean, bn.running_var)
    dims = [0, *range(2, x.dim())]
    parts, cell_stats = [], []
    for cell, cell_rows in enumerate(torch.split(x, rows.sizes)):
        parts.append(F.batch_norm(
            cell_rows, *running, None if weight is None else weight[cell],
            None if bias is None else bias[cell], batch_stats, 0.0, bn.eps,
        ))  # fmt: skip
        if updates is not None:
            cell_stats.append(torch.var_mean(cell_rows.detach(), dim=dims, correction=1))
    if cell_stats:
        variances, means = (torch.stack(s) for s in zip(*cell_stats))
        updates.add(bn, means, variances)
    return torch.cat(parts)


def segmented_forward(
    module: nn.Module, X: torch.Tensor, order: torch.Tensor, rows: CellRows
) -> RowSegments:
    """One forward of the rows ``X[order]`` (sorted by cell), recording each weighted layer.

    Parameters
    ----------
    module : nn.Module
        The network (:func:`segments_cells`, or checked by :func:`check_segmentable`).
    X : Tensor
        The batch's rows.
    order : LongTensor
        A permutation of the rows that puts them in the layout of ``rows``.
    rows : CellRows
        The cells' sizes and layout, and the cells whose gradients may be asked.
    """
    layers: list[_Layer] = []
    seen: set[int] = set()
    updates = RunningStatUpdates()

    def record(layer, inputs, output):
        if id(layer) in seen:
            raise ValueError(
                f"cell_gradients='segments' needs every weighted layer called once per "
                f"forward; {type(module).__name__} calls a {type(layer).__name__} twice. "
                "Use cell_gradients='loop'."
            )
        seen.add(id(layer))
        kind = "linear" if isinstance(layer, nn.Linear) else "conv"
        layers.append(_Layer(layer, kind, inputs[0], output))

    handles, patched = [], []
    for sub in module.modules():
        if isinstance(sub, (nn.Linear, *_CONVOLUTIONS)):  # first, before any user hook
            handles.append(sub.register_forward_hook(record, prepend=True))
        elif isinstance(sub, _BatchNorm):  # per-cell statistics, per-cell affine copies
            patched.append((sub, sub.__dict__.get("forward")))
            sub.forward = lambda x, bn=sub: _cell_batch_norm(bn, x, rows, layers, updates)
    try:
        logits = as_logits(module(X[order]), module)
    finally:
        for handle in handles:
            handle.remove()
        for sub, own_forward in patched:  # back to the forward it had
            del sub.forward
            if own_forward is not None:
                sub.forward = own_forward
    updates.apply()  # after a forward that completed
    param_of = {}
    for position, layer in enumerate(layers):
        for kind in ("weight", "bias"):
            param = getattr(layer.module, kind, None)
            if isinstance(param, torch.Tensor) and param.requires_grad:
                param_of[param] = (position, kind)
    return RowSegments(order, logits, layers, param_of, rows)


def _stack(per_cell: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.stack(list(per_cell))


def _segment_sums(layer: _Layer, kind: str, delta, segments: RowSegments) -> torch.Tensor:
    """The gradient of ``layer``'s ``kind`` parameter for each cell of ``segments``, stacked."""
    rows = segments.rows
    if layer.kind == "norm":  # delta: gradient of the per-cell copies, (n_nonempty, C)
        return rows.asked(delta)
    if layer.kind == "conv":
        if kind == "bias":  # the sum over each cell's rows and positions
            positions = list(range(2, delta.dim()))
            cell_rows = rows.stacked(delta)
            if cell_rows is not None:
                return cell_rows.sum([1, *(d + 1 for d in positions)])
            return _stack(part.sum([0, *positions]) for part in rows.parts(delta))
        return conv_weight_sums(layer.module, layer.input, delta, rows, _CONV_SUMS)
    per_row = delta.reshape(len(delta), -1, delta.shape[-1])  # a linear layer: (n, ..., features)
    h = layer.input.reshape(len(per_row), -1, layer.input.shape[-1])
    cell_rows = rows.stacked(per_row)
    if cell_rows is not None:  # one batched product over (cell, row, feature) blocks
        cell_rows = cell_rows.flatten(1, 2)
        if kind == "bias":
            return cell_rows.sum(1)
        return torch.bmm(cell_rows.transpose(1, 2), rows.stacked(h).flatten(1, 2))
    if kind == "bias":
        return _stack(part.sum((0, 1)) for part in rows.parts(per_row))
    return _stack(
        part.flatten(0, 1).T @ h_part.flatten(0, 1)
        for part, h_part in zip(rows.parts(per_row), rows.parts(h))
    )


def _differentiated(layer: _Layer, kind: str) -> torch.Tensor:
    r"""What ``autograd.grad`` is asked for to get ``kind``'s per-cell sums of ``layer``.

    The layer's output (every row's :math:`\delta`) for linear and convolution
    layers; the per-cell copy of the parameter for batch norm.
    """
    if layer.kind == "norm":
        return layer.output[0 if kind == "weight" else 1]
    return layer.output


def segment_gradients(
    losses: Sequence[torch.Tensor],
    params: Sequence[torch.Tensor],
    segments: RowSegments,
    create_graph: bool = True,
) -> list[torch.Tensor]:
    """Gradient of each cell's loss w.r.t. ``params``, from one ``autograd.grad`` (see module).

    ``losses[c]`` must depend on the rows of the ``c``-th asked cell of
    ``segments.rows`` only. Returns,
    per parameter, the cells' gradients stacked: ``(n_cells, *param.shape)``.
    """
    targets, slot_of, plan = [], {}, []
    for p in params:
        if p not in segments.param_of:
            raise ValueError(
                f"cell_gradients='segments': a parameter of shape {tuple(p.shape)} was not "
                "used by a recorded layer in the forward. Use cell_gradients='loop'."
            )
        position, kind = segments.param_of[p]
        layer = segments.layers[position]
        target = _differentiated(layer, kind)
        slot = slot_of.setdefault(id(target), len(targets))
        if slot == len(targets):
            targets.append(target)
        plan.append((layer, kind, slot))
    grads = torch.autograd.grad(
        sum(losses), targets, create_graph=create_graph, retain_graph=True, materialize_grads=True
    )
    return [_segment_sums(layer, kind, grads[slot], segments) for layer, kind, slot in plan]
