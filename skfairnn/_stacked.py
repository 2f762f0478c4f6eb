# SPDX-License-Identifier: BSD-3-Clause
"""Every cell's forward in one pass, through one copy of the parameters per cell.

GCM and FAIRER need the gradient of each cell's loss. The reference way
(:func:`skfairnn._forward.forward_by_cell`) forwards the cells one after
another and asks ``autograd.grad`` once per cell. For a network whose rows do
not interact (no batch normalisation, no dropout drawing masks), the cells can
instead go through the network at once: :func:`torch.func.vmap` over a
``(n_cells, n_rows, ...)`` stack of the cells' rows (a shorter cell padded with
zero rows, which get weight 0), with every parameter expanded to
``(n_cells, *shape)``, one copy per cell. Since no two cells share a copy, one
``autograd.grad`` of the summed cell losses w.r.t. the copies gives each
cell's gradient as its slice of the copy's gradient, and the step's final
backward reaches the parameters through ``expand``, whose backward sums over
the cells. Per-cell gradients, logits and the trained parameters are the
loop's up to float rounding (``tests/test_stacked.py`` checks them against it).

Which path runs is decided per batch by :func:`stacks_cells`; the loop stays
the reference, the path on the CPU (where it measured faster) and the path
for any other network: with batch normalisation, vmap would compute per-cell
statistics, but the loop's running-statistic updates (one per cell, in cell
order) would have to be rebuilt from per-cell buffer copies, and padded rows
would enter the statistics, so batch-norm networks keep the loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, vmap

from .modules import ACTIVATIONS, MLP, LogisticRegressionModule, as_logits

__all__ = ["StackedCells", "STACKED_DEVICES", "stacks_cells", "stacked_cell_logits"]

#: the networks whose forward is known to map rows independently (exact types:
#: a subclass may override ``forward``)
STACKABLE_MODULES: tuple[type[nn.Module], ...] = (MLP, LogisticRegressionModule)
#: the submodules such a network may hold
_ROW_WISE_LAYERS = (nn.Linear, nn.Sequential, nn.Dropout, *ACTIVATIONS.values())

#: Device types on which the stacked pass is taken. Not the CPU: measured on
#: Adult (120→200→200→1 MLP, one thread, cell-balanced batches of 256, the
#: training step of GCM with T=2), the loop takes 12.8 ms a step and the stacked
#: pass 14.1 ms (batch 2000: slower still), as the (n_cells, 200, 200)
#: per-cell gradients leave the cache that the loop's (200, 200) ones stay in.
#: On CUDA the stacked pass launches one kernel where the loop launches one per
#: cell.
STACKED_DEVICES = frozenset({"cuda"})


@dataclass
class StackedCells:
    """The per-cell parameter copies of a stacked forward.

    Attributes
    ----------
    copies : dict of Tensor to Tensor
        For each parameter of the network, its ``(n_stacked, *shape)``
        expanded copy, through which every stacked cell was forwarded.
    slots : list of int
        For each cell of the :class:`~skfairnn._forward.CellForward` that
        holds it, the cell's position along the copies' first axis.
    """

    copies: dict[torch.Tensor, torch.Tensor]
    slots: list[int]


def _has_hooks(module: nn.Module) -> bool:
    return bool(module._forward_hooks or module._forward_pre_hooks or module._backward_hooks)


def stacks_cells(module: nn.Module | None, device: torch.device) -> bool:
    """Whether the cells of a batch are forwarded stacked (else one after another).

    Only for the networks of :data:`STACKABLE_MODULES` made of row-wise
    layers (a dropout that draws masks, i.e. in training with ``p > 0``,
    would draw other masks than the loop), without hooks, on the devices of
    :data:`STACKED_DEVICES`.
    """
    if device.type not in STACKED_DEVICES:
        return False
    if module is None or type(module) not in STACKABLE_MODULES or _has_hooks(module):
        return False
    for sub in list(module.modules())[1:]:
        if not isinstance(sub, _ROW_WISE_LAYERS) or _has_hooks(sub):
            return False
        if isinstance(sub, nn.Dropout) and sub.training and sub.p > 0:
            return False
    return True


def stacked_cell_logits(
    module: nn.Module, rows: Sequence[torch.Tensor]
) -> tuple[list[torch.Tensor], dict[torch.Tensor, torch.Tensor]]:
    """Logits of each cell's ``rows`` from one vmapped pass with per-cell parameter copies.

    Parameters
    ----------
    module : nn.Module
        A network for which :func:`stacks_cells` holds.
    rows : sequence of Tensor
        The inputs of each cell (at least one row each).

    Returns
    -------
    logits : list of Tensor
        One logit per row of each cell (views into the stacked output).
    copies : dict of Tensor to Tensor
        Each parameter's ``(len(rows), *shape)`` copy (:class:`StackedCells`).
    """
    sizes = [len(x) for x in rows]
    longest = max(sizes)
    if all(size == longest for size in sizes):
        X = torch.stack(list(rows))
    else:  # pad the shorter cells with zero rows; their logits are dropped
        X = rows[0].new_zeros((len(rows), longest, *rows[0].shape[1:]))
        for slot, x in enumerate(rows):
            X[slot, : len(x)] = x
    named = dict(module.named_parameters())
    copies = {name: p.expand(len(rows), *p.shape) for name, p in named.items()}

    def cell_logits(params, x):
        return as_logits(functional_call(module, params, (x,)), module)

    stacked = vmap(cell_logits)(copies, X)
    logits = [stacked[slot, :size] for slot, size in enumerate(sizes)]
    return logits, {named[name]: copy for name, copy in copies.items()}
