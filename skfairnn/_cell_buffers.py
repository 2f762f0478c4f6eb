# SPDX-License-Identifier: BSD-3-Clause
"""Batch-norm running statistics when the cells of a batch are forwarded side by side.

The per-cell forward forwards each cell of a batch separately, one after the
other (:func:`skfairnn._forward.forward_by_cell`), so that a batch-norm layer
normalises every cell with that cell's own statistics and updates its running
statistics once per cell, in the order of the cells. Forwarding the cells
*side by side* (``torch.func.vmap`` over a stack of cells, every cell with its
own copy of the buffers) keeps the per-cell normalisation but gives every cell
its update from the *same* starting value. :func:`stack_buffers` makes those
per-cell copies and :func:`fold_running_stats` turns the cells' updates back
into the values that the sequential forwards would have left (up to rounding):

* with ``momentum`` :math:`m` (exponential average), cell :math:`c`'s copy
  holds :math:`r'_c = (1-m)\\,r + m\\,\\mu_c`; the sequential value is
  :math:`r_C = (1-m)^C r + \\sum_{c=1}^{C} (1-m)^{C-c} m\\,\\mu_c`;
* ``num_batches_tracked`` grows by the number of cells.

Only batch norm's buffers with a ``momentum`` can be folded: a module with
any other buffer (whose forward might change it in ways this module does not
know), or a batch norm with ``momentum=None`` (whose cumulative average reads
``num_batches_tracked`` to the host, which ``vmap`` cannot batch), is not
stacked (:func:`stack_buffers` returns ``None``) and keeps the sequential
per-cell forward.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ["stack_buffers", "fold_running_stats"]

_STATS = ("running_mean", "running_var")


def _batch_norms(module: nn.Module) -> dict[str, _BatchNorm] | None:
    """The batch norms that own buffers, by buffer-name prefix; ``None`` if another module does."""
    owners = {}
    for name, child in module.named_modules():
        own = [key for key, value in child._buffers.items() if value is not None]
        if not own:
            continue
        if not isinstance(child, _BatchNorm) or isinstance(child, nn.SyncBatchNorm):
            return None
        if child.momentum is None:
            return None
        owners[f"{name}." if name else ""] = child
    return owners


def stack_buffers(module: nn.Module, n_cells: int) -> dict[str, torch.Tensor] | None:
    """One copy per cell of ``module``'s buffers, stacked on a new first dimension.

    Parameters
    ----------
    module : nn.Module
        The network (in training mode).
    n_cells : int
        Number of cells forwarded side by side.

    Returns
    -------
    dict of str to Tensor or None
        ``named_buffers`` keys to ``(n_cells, *buffer.shape)`` copies (empty
        when the module has no buffers), or ``None`` when a buffer belongs to
        a module other than a batch norm (the cells must then be forwarded
        one after the other).
    """
    if _batch_norms(module) is None:
        return None
    return {
        name: buffer.unsqueeze(0).repeat(n_cells, *([1] * buffer.dim()))
        for name, buffer in module.named_buffers()
    }


@torch.no_grad()
def fold_running_stats(module: nn.Module, stacked: dict[str, torch.Tensor]) -> None:
    """Write into ``module`` the running statistics the cells' sequential forwards leave.

    Parameters
    ----------
    module : nn.Module
        The network whose buffers :func:`stack_buffers` copied.
    stacked : dict of str to Tensor
        The per-cell copies after the side-by-side forward (each cell's
        copy updated from the same starting value).
    """
    owners = _batch_norms(module) or {}
    for prefix, norm in owners.items():
        if not (norm.training and norm.track_running_stats):
            continue
        n_cells = stacked[f"{prefix}num_batches_tracked"].shape[0]
        for stat in _STATS:
            start = getattr(norm, stat)
            copies = stacked[f"{prefix}{stat}"].to(start.dtype)
            value = start.clone()
            for cell in range(n_cells):  # (1 - m) r + m mu_c, cell after cell
                value = (1 - norm.momentum) * value + copies[cell] - (1 - norm.momentum) * start
            start.copy_(value)
        norm.num_batches_tracked.add_(n_cells)
