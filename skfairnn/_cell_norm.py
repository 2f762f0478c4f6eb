# SPDX-License-Identifier: BSD-3-Clause
r"""Batch norm of every cell by its own statistics, with a closed-form double backward.

The one-forward path of GCM and FAIRER (:mod:`skfairnn._segments`) normalises
each cell of a batch by that cell's statistics, and the step differentiates
the per-cell gradients once more (double backprop). The batch's rows are
*interleaved* by cell (row :math:`k` of cell :math:`c` at position
:math:`k \cdot n_{cells} + c`), so the cells fold into the channel axis as a
view, ``(n·n_cells, C, ...) → (n, n_cells·C, ...)``, without a copy, and
torch's own batch-norm kernels compute per-(cell, channel) statistics. Left
to autograd, the double backward of ``batch_norm`` runs about 130 small
operations per layer (counted on the CPU), and a GPU step is then bound by
launching them. :class:`CellBatchNorm` is one node whose backward is one node
(:class:`_CellBatchNormBackward`, torch's ``native_batch_norm_backward``
kernel) whose backward is in closed form, built on that same kernel.

For one (cell, channel) group of :math:`m` values, with :math:`\mu` its mean,
:math:`r = (\sigma^2 + \epsilon)^{-1/2}` (biased variance) and
:math:`\hat x = (x - \mu) r`:

.. math::

    y = w \hat x + b, \qquad
    g_x = w r\, P(g_y), \quad g_w = \textstyle\sum g_y \hat x, \quad g_b = \sum g_y,

where :math:`P(v) = v - \bar v - \hat x\, \overline{\hat x v}` (bars are group
means). :math:`P` is symmetric and :math:`\partial \hat x / \partial x = r P`,
which gives the double backward: for gradients :math:`(\gamma_x, \gamma_w,
\gamma_b)` of the backward's outputs, with :math:`Q = w r P(\gamma_x)` (the
batch-norm backward of :math:`\gamma_x`), :math:`A = \bar g_y`,
:math:`B = \overline{g_y \hat x}`, :math:`c = \overline{\gamma_x \hat x}` and
:math:`g_1 = \overline{\gamma_x (g_y - A)}`,

.. math::

    \frac{\partial}{\partial g_y} &= Q + \gamma_b + \gamma_w \hat x, \\
    \frac{\partial}{\partial w} &= r \textstyle\sum \gamma_x P(g_y), \\
    \frac{\partial}{\partial x} &= -r B\, Q + w r^2 (B c - g_1)\, \hat x
        + (r \gamma_w - w r^2 c)\, P(g_y).

``tests/test_cell_norm.py`` checks both orders against finite differences
(``gradcheck``, ``gradgradcheck``) and against autograd through
``torch.nn.functional.batch_norm`` of each cell.
"""

from __future__ import annotations

import torch

__all__ = ["CellBatchNorm", "biased_variance", "fold_cells", "unfold_cells"]

_ALL = [True, True, True]


def fold_cells(x: torch.Tensor, n_cells: int) -> torch.Tensor:
    """``(n·n_cells, C, ...)`` with interleaved cells → ``(n, n_cells·C, ...)``: a view.

    Row ``k`` of cell ``c`` is row ``k·n_cells + c`` of ``x``; in the folded
    tensor its channels are ``c·C, ..., c·C + C - 1`` of row ``k``.
    """
    return x.reshape(x.shape[0] // n_cells, -1, *x.shape[2:])


def unfold_cells(x: torch.Tensor, n_cells: int) -> torch.Tensor:
    """The inverse of :func:`fold_cells` (a view)."""
    return x.reshape(-1, x.shape[1] // n_cells, *x.shape[2:])


def _flat(per_cell: torch.Tensor | None) -> torch.Tensor | None:
    """``(cell, channel)`` → ``(cell·channel,)``, the folded channels (a view if contiguous)."""
    return None if per_cell is None else per_cell.reshape(-1)


def _channels(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Per folded channel ``(cell·channel,)``, broadcastable against ``like``."""
    return values.view(1, -1, *[1] * (like.dim() - 2))


def _batch_norm_backward(grad, folded, weight, mean, invstd, eps):
    """``native_batch_norm_backward`` in the folded layout: ``(w r P(grad), Σ grad x̂, Σ grad)``."""
    return torch.ops.aten.native_batch_norm_backward(
        grad, folded, _flat(weight), None, None, mean, invstd, True, eps, _ALL
    )


class CellBatchNorm(torch.autograd.Function):
    """Normalise each cell's channels of ``x`` ``(n·n_cells, C, ...)`` by that cell's statistics.

    The cells of ``x`` are interleaved (:func:`fold_cells`). ``weight`` and
    ``bias``: ``(n_cells, C)`` or ``None`` (contiguous, so that they fold
    without a copy). Returns the
    output and, per (cell, channel) in the folded order, the mean and
    :math:`r = (\\sigma^2 + \\epsilon)^{-1/2}` (not differentiable).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, n_cells, eps):
        folded = fold_cells(x, n_cells)
        out, mean, invstd = torch.native_batch_norm(
            folded, _flat(weight), _flat(bias), None, None, True, 0.0, eps
        )
        ctx.save_for_backward(x, weight, folded, mean, invstd)
        ctx.n_cells, ctx.eps = n_cells, eps
        ctx.mark_non_differentiable(mean, invstd)
        ctx.set_materialize_grads(False)
        return unfold_cells(out, n_cells), mean, invstd

    @staticmethod
    def backward(ctx, grad_out, _grad_mean, _grad_invstd):
        if grad_out is None:
            return None, None, None, None, None
        x, weight, folded, mean, invstd = ctx.saved_tensors
        grad_x, grad_weight, grad_bias = _CellBatchNormBackward.apply(
            grad_out, x, weight, folded, mean, invstd, ctx.n_cells, ctx.eps
        )
        _, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        return (
            grad_x,
            grad_weight if needs_weight else None,
            grad_bias if needs_bias else None,
            None,
            None,
        )


class _CellBatchNormBackward(torch.autograd.Function):
    """The backward of :class:`CellBatchNorm` as one differentiable node (see module)."""

    @staticmethod
    def forward(ctx, grad_out, x, weight, folded, mean, invstd, n_cells, eps):
        grad_folded = fold_cells(grad_out, n_cells)
        grad_x, sum_product, sum_grad = _batch_norm_backward(
            grad_folded, folded, weight, mean, invstd, eps
        )
        ctx.save_for_backward(weight, folded, mean, invstd, grad_folded, sum_product, sum_grad)
        ctx.n_cells, ctx.eps = n_cells, eps
        ctx.set_materialize_grads(False)
        shape = (n_cells, x.shape[1])
        return unfold_cells(grad_x, n_cells), sum_product.view(shape), sum_grad.view(shape)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, gamma_x, gamma_weight, gamma_bias):
        weight, folded, mean, invstd, grad_folded, sum_product, sum_grad = ctx.saved_tensors
        n_cells, eps = ctx.n_cells, ctx.eps
        needs_grad_out, needs_x, needs_weight = ctx.needs_input_grad[:3]
        count = folded.numel() // folded.shape[1]
        dims = [0, *range(2, folded.dim())]
        w = torch.ones_like(invstd) if weight is None else _flat(weight)

        def per(values):
            return _channels(values, folded)

        def cells_of(folded_values):  # (n, n_cells·C, ...) → (n, n_cells, C, ...), a view
            return folded_values.view(folded_values.shape[0], n_cells, -1, *folded.shape[2:])

        def per_cell(values):  # (n_cells, C) of any strides (no copy) against cells_of(...)
            return values[(None, ..., *[None] * (folded.dim() - 2))]

        xhat = (folded - per(mean)) * per(invstd)
        mean_grad, mean_product = sum_grad / count, sum_product / count  # A, B
        projected = torch.addcmul(grad_folded - per(mean_grad), xhat, per(mean_product), value=-1)
        q = c = g1 = gamma_folded = None
        if gamma_x is not None:
            gamma_folded = fold_cells(gamma_x, n_cells)
            q, sum_gamma_xhat, sum_gamma = _batch_norm_backward(
                gamma_folded, folded, weight, mean, invstd, eps
            )
            c = sum_gamma_xhat / count
            g1 = ((gamma_folded * grad_folded).sum(dims) - sum_gamma * mean_grad) / count
        grad_grad_out = grad_x = grad_weight = None
        if needs_grad_out and not (q is None and gamma_weight is None and gamma_bias is None):
            total = cells_of(q) if q is not None else torch.zeros_like(cells_of(folded))
            if gamma_bias is not None:
                total = total + per_cell(gamma_bias)
            if gamma_weight is not None:
                total = torch.addcmul(total, cells_of(xhat), per_cell(gamma_weight))
            grad_grad_out = unfold_cells(total.view_as(folded), n_cells)
        if needs_x and (gamma_x is not None or gamma_weight is not None):
            coefficient = (
                torch.zeros_like(invstd)
                if gamma_weight is None
                else (invstd.view(n_cells, -1) * gamma_weight).view(-1)
            )
            if gamma_x is not None:
                wr2 = w * invstd * invstd
                coefficient = coefficient - c * wr2
                total = q * per(-invstd * mean_product)
                total = torch.addcmul(total, xhat, per(wr2 * (mean_product * c - g1)))
                total = torch.addcmul(total, projected, per(coefficient))
            else:
                total = projected * per(coefficient)
            grad_x = unfold_cells(total, n_cells)
        if needs_weight and gamma_x is not None:
            grad_weight = ((gamma_folded * projected).sum(dims) * invstd).view(n_cells, -1)
        return grad_grad_out, grad_x, grad_weight, None, None, None, None, None


def biased_variance(invstd: torch.Tensor, eps: float) -> torch.Tensor:
    """The biased variances :math:`r^{-2} - \\epsilon` of :class:`CellBatchNorm`'s ``invstd``."""
    return invstd.pow(-2).sub_(eps)
