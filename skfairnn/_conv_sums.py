# SPDX-License-Identifier: BSD-3-Clause
r"""Each cell's weight gradient of a convolution, from every row's output gradient.

For a convolution :math:`z = w \star x` and a loss :math:`L_c` on the rows of
cell :math:`c` only, :math:`\partial L_c / \partial w` is the sum over the
cell's rows of :math:`\delta_i \star x_i` (the weight gradient of one row),
:math:`\delta_i = \partial L_c / \partial z_i`. The one-forward path of GCM
and FAIRER (:mod:`skfairnn._segments`) needs it for every cell, with its
graph kept (the step differentiates it once more). Three exact ways, the
same up to float rounding:

``"grouped"``
    One ``convolution_backward`` with the cells as channel groups: the
    interleaved cells fold into channels as a view
    (:func:`~skfairnn._cell_norm.fold_cells`). Its double backward is two
    grouped convolutions; cuDNN has no fast kernels for those groups.
``"matmul"``
    The windows of every row's input (a view: ``Tensor.unfold`` along each
    spatial axis of the zero-padded input) copied once into ``(cell,
    window, row·position)`` and one batched matrix product per layer,
    :math:`\partial L_c / \partial w = \Delta_c U_c^\top`. Its double
    backward is matrix products and ``unfold``'s backward: cuBLAS and one
    scatter kernel per axis, no convolution.
``"per_cell"``
    One ``convolution_backward`` per cell (also the path for cells of
    different sizes).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._cell_norm import fold_cells

__all__ = ["CONV_SUMS", "conv_weight_sums"]

#: the ways to take a convolution's per-cell weight gradients (see module)
CONV_SUMS = ("grouped", "matmul", "per_cell")


def _padding(conv: nn.Module) -> list[tuple[int, int]]:
    """Zeros before and after each spatial axis (``padding``: numbers, ``"same"``, ``"valid"``)."""
    if conv.padding == "valid":
        return [(0, 0)] * len(conv.kernel_size)
    if conv.padding == "same":  # torch's rule: the extra zero goes after
        totals = [d * (k - 1) for d, k in zip(conv.dilation, conv.kernel_size)]
        return [(total // 2, total - total // 2) for total in totals]
    return [(p, p) for p in conv.padding]


def _windows(x: torch.Tensor, conv: nn.Module) -> torch.Tensor:
    """Every window of ``x`` ``(N, C, *size)`` a weight meets: ``(N, C, *out, *kernel)``, a view.

    The zero padding is the one copy of ``x``.
    """
    padding = _padding(conv)
    if any(any(pad) for pad in padding):
        x = F.pad(x, [amount for pair in reversed(padding) for amount in pair])
    spatial = range(2, x.dim())
    for axis, k, stride, dilation in zip(spatial, conv.kernel_size, conv.stride, conv.dilation):
        x = x.unfold(axis, dilation * (k - 1) + 1, stride)  # (..., window) at the end
    if any(d > 1 for d in conv.dilation):
        x = x[(..., *(slice(None, None, d) for d in conv.dilation))]
    return x


def _matmul_sums(delta, x, conv, n_cells):
    r""":math:`\Delta_c U_c^\top` per (cell, channel group), interleaved cells of one size."""
    weight_shape = conv.weight.shape
    groups, spatial = conv.groups, delta.dim() - 2
    rows = delta.shape[0] // n_cells
    out_per_group, in_per_group = weight_shape[0] // groups, weight_shape[1]
    # Δ: (row, cell, group, out, positions) -> (cell·group, out, row·positions)
    d = delta.reshape(rows, n_cells, groups, out_per_group, -1)
    d = d.permute(1, 2, 3, 0, 4).reshape(n_cells * groups, out_per_group, -1)
    # U: (row, cell, group, in, *positions, *kernel) -> (cell·group, in·kernel, row·positions)
    u = _windows(x, conv).unflatten(0, (rows, n_cells)).unflatten(2, (groups, in_per_group))
    positions = list(range(4, 4 + spatial))
    kernel_axes = list(range(4 + spatial, 4 + 2 * spatial))
    u = u.permute(1, 2, 3, *kernel_axes, 0, *positions)
    u = u.reshape(n_cells * groups, in_per_group * math.prod(conv.kernel_size), -1)
    return torch.bmm(d, u.transpose(1, 2)).view(n_cells, *weight_shape)


def _weight_gradient(delta, x, conv, weight, groups):
    """``convolution_backward``'s weight gradient alone (``weight``: only its shape is read)."""
    return torch.ops.aten.convolution_backward(
        delta, x, weight, None, conv.stride, conv.padding, conv.dilation, False,
        [0] * (weight.dim() - 2), groups, [False, True, False],
    )[1]  # fmt: skip


def _grouped_sums(delta, x, conv, n_cells):
    weight = conv.weight.detach()
    folded = _weight_gradient(
        fold_cells(delta, n_cells), fold_cells(x, n_cells),
        conv, weight.repeat(n_cells, *[1] * (weight.dim() - 1)), conv.groups * n_cells,
    )  # fmt: skip
    return folded.view(n_cells, *weight.shape)


def _per_cell_sums(deltas, inputs, conv):
    weight = conv.weight.detach()
    return torch.stack([
        _weight_gradient(cell_delta, cell_input, conv, weight, conv.groups)
        for cell_delta, cell_input in zip(deltas, inputs)
    ])  # fmt: skip


def conv_weight_sums(
    conv: nn.Module, x: torch.Tensor, delta: torch.Tensor, rows, how: str
) -> torch.Tensor:
    """The weight gradient of each asked cell's rows, ``(n_asked, *conv.weight.shape)``.

    Parameters
    ----------
    conv : nn.Conv1d, nn.Conv2d or nn.Conv3d
        The layer (zero padding).
    x, delta : Tensor
        The layer's input and its output's gradient, one row per sorted row.
    rows : CellRows
        Where the cells' rows are (:class:`~skfairnn._segments.CellRows`).
    how : {"grouped", "matmul", "per_cell"}
        The way (see module). Cells of different sizes, or a subset of the
        cells, take ``"per_cell"`` (one ``"matmul"`` per cell if ``how`` is
        ``"matmul"``); padding ``"same"``/``"valid"`` always takes ``"matmul"``.
    """
    if isinstance(conv.padding, str):  # "same" may pad unevenly: convolution_backward cannot
        how = "matmul"
    if rows.interleaved and rows.all_cells and how != "per_cell":
        sums = _matmul_sums if how == "matmul" else _grouped_sums
        return sums(delta, x, conv, rows.n_cells)
    if how == "matmul":
        return torch.cat([
            _matmul_sums(cell_delta, cell_x, conv, 1)
            for cell_delta, cell_x in zip(rows.parts(delta), rows.parts(x))
        ])  # fmt: skip
    return _per_cell_sums(rows.parts(delta), rows.parts(x), conv)
