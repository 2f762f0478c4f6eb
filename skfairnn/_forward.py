# SPDX-License-Identifier: BSD-3-Clause
"""The training forward pass that a method's loss receives.

Every method's training step is the same two calls (see
``docs/architecture.rst``): :meth:`FairNetClassifier.training_forward`
produces a :class:`TrainingForward` for the batch, and
:meth:`FairNetClassifier.fairness_penalty` turns it into the penalty. A
method that needs more than the batch's logits declares it by building its
forward with one of the two forwards here:

* :func:`forward_by_cell` forwards every non-empty cell of the batch
  *separately* (a loop over cells, never over rows) and stitches the logits
  back into batch order for the task loss. GCM and FAIRER differentiate each
  cell's loss through its own sub-graph: ``autograd.grad`` of a cell's loss
  then walks only that cell's graph, so the per-cell gradients together cost
  about one backward of the batch (asking each cell's gradient of one shared
  full-batch graph would cost one full backward *per cell*). It is also what
  the authors' code does; with batch normalisation, statistics are then per
  cell. For networks whose rows do not interact (MLPs), the batch goes
  through the network once instead and each cell's gradient is a segment sum
  of per-row terms (:mod:`skfairnn._segments`): the same gradients, from one
  forward and one backward.
* :func:`forward_recording` forwards the batch once while recording the
  activations of the named layers (RUNNER's neuron stabilising loss).

Nothing is stored on the estimator: the forward lives in the step's locals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from ._activations import ActivationRecorder
from ._segments import (
    CellRows,
    RowSegments,
    check_segmentable,
    segmented_forward,
    segments_cells,
)
from .cells import cell_codes

__all__ = [
    "TrainingForward",
    "CellForward",
    "cell_tally",
    "forward_by_cell",
    "forward_recording",
]


@dataclass
class CellForward:
    """The per-cell forward pass of one batch.

    Attributes
    ----------
    codes : list of int
        Codes (:func:`skfairnn.cells.cell_codes`) of the *present* cells:
        non-empty, with positive total weight, ascending. A cell whose rows
        all have weight 0 (rows pruned by a weighter) is forwarded for the
        task loss but has no loss to compare, so it is not present.
    index : list of LongTensor
        Row indices (into the batch) of each present cell.
    logits : list of Tensor
        Logits of each present cell's rows, from that cell's own forward.
    n_groups : int
        Number of groups the codes refer to.
    segments : RowSegments or None, default=None
        The batch's one forward, when its rows do not interact and the cells
        were forwarded together (:mod:`skfairnn._segments`); ``None`` after a
        loop over the cells.
    """

    codes: list[int]
    index: list[torch.Tensor]
    logits: list[torch.Tensor]
    n_groups: int
    segments: RowSegments | None = None


@dataclass
class TrainingForward:
    """What the training step's forward pass produced, as the loss receives it.

    Attributes
    ----------
    logits : Tensor of shape (n,)
        One logit per row of the batch, in batch order, attached to the graph
        (the task loss and any output gap use them).
    cells : CellForward or None
        The per-cell forwards, when the method built its forward with
        :func:`forward_by_cell`.
    activations : dict of str to Tensor or None
        Output of each recorded layer's activation, when the method built
        its forward with :func:`forward_recording`.
    records : dict
        Per-batch values the loss wants logged (plain Python values): the
        step returns them and :class:`~skfairnn._callbacks.StepRecords` writes
        them into ``history`` for the batch.
    """

    logits: torch.Tensor
    cells: CellForward | None = None
    activations: dict[str, torch.Tensor] | None = None
    records: dict = field(default_factory=dict)


def _tally(codes: torch.Tensor, weight: torch.Tensor, n_cells: int) -> tuple[tuple[int, int], ...]:
    """Per cell, ``(rows of weight 0, rows of positive weight)``, as host integers."""
    positive = (weight > 0).to(codes.dtype)
    tally = torch.bincount(codes * 2 + positive, minlength=2 * n_cells)
    return tuple(map(tuple, tally.view(n_cells, 2).tolist()))


def cell_tally(columns, constraint: str, n_groups: int) -> tuple[tuple[int, int], ...]:
    """Per cell, ``(rows of weight 0, rows of positive weight)`` of a batch's columns.

    ``columns`` maps ``"group"``, ``"y"`` and ``"sample_weight"`` to tensors:
    the batch's CPU copies (:attr:`~skfairnn.FairBatch.host`), so a step on
    an accelerator does not wait for the device. It is all that
    :func:`forward_by_cell` decides on the host, so a CUDA graph of a
    per-cell step holds one tally (:mod:`skfairnn._step_graphs`).
    """
    codes, n_cells = cell_codes(columns["group"], columns["y"], constraint, n_groups)
    return _tally(codes, columns["sample_weight"], n_cells)


def forward_by_cell(
    logits_of: Callable[[torch.Tensor], torch.Tensor],
    batch,
    constraint: str,
    module: torch.nn.Module | None = None,
    cell_gradients: str = "auto",
) -> TrainingForward:
    """Forward each non-empty cell of ``batch`` separately.

    Parameters
    ----------
    logits_of : callable
        Maps a tensor of rows to one logit per row (``net.network_logits``).
    batch : FairBatch
        The training batch.
    constraint : str
        Defines the cells (:func:`skfairnn.cells.cell_codes`).
    module : nn.Module, default=None
        The network behind ``logits_of``. When given, and ``cell_gradients`` is
        ``"segments"`` or it is ``"auto"`` and
        :func:`~skfairnn._segments.segments_cells` allows it, the batch goes
        through it once, sorted by cell (batch norm by per-cell statistics),
        and each cell's gradient is a segment sum (:mod:`skfairnn._segments`)
        instead of a forward per cell.
    cell_gradients : {"auto", "segments", "loop"}, default="auto"
        The methods' parameter of that name.

    Returns
    -------
    TrainingForward
        ``logits`` in batch order and ``cells`` with the present cells.
    """
    codes, n_cells = cell_codes(batch.group, batch.y, constraint, batch.n_groups)
    if batch.host is not None:
        tally = cell_tally(batch.host, constraint, batch.n_groups)
    else:  # the batch's own codes (one host read, free on the CPU)
        tally = _tally(codes, batch.sample_weight, n_cells)
    sizes = [unweighted + weighted for unweighted, weighted in tally]
    # the rows of every cell, in ascending order, are consecutive in the stable
    # sort of the codes
    order = torch.argsort(codes, stable=True)
    rows_of = torch.split(order, sizes)
    nonempty = [code for code in range(n_cells) if sizes[code]]
    present = [code for code in nonempty if tally[code][1]]
    if module is not None and cell_gradients == "segments":
        check_segmentable(module)
    segmented = module is not None and (
        cell_gradients == "segments" or (cell_gradients == "auto" and segments_cells(module))
    )
    segments = None
    if segmented:  # rows interact only through batch norm: one forward, segment sums
        rows = CellRows.for_sizes(
            [sizes[code] for code in nonempty], [nonempty.index(code) for code in present]
        )
        order = rows.order(order)
        segments = segmented_forward(module, batch.X, order, rows)
        sorted_logits = segments.logits
        logits_of_cell = dict(zip(present, rows.parts(sorted_logits)))
    else:
        X_of = torch.split(batch.X[order], sizes)
        logits_of_cell = {code: logits_of(X_of[code]) for code in nonempty}
        sorted_logits = torch.cat([logits_of_cell[code] for code in nonempty])
    cells = CellForward(
        present, [rows_of[code] for code in present],
        [logits_of_cell[code] for code in present], batch.n_groups, segments,
    )  # fmt: skip
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(len(order), device=order.device)
    return TrainingForward(logits=sorted_logits[inverse], cells=cells)


def forward_recording(
    logits_of: Callable[[torch.Tensor], torch.Tensor],
    module: torch.nn.Module,
    layers: Sequence[str],
    X: torch.Tensor,
) -> TrainingForward:
    """Forward ``X`` once, recording the activation that follows each of ``layers``.

    See :class:`~skfairnn._activations.ActivationRecorder` for how a layer is
    paired with its activation (per traced call).
    """
    with ActivationRecorder(module, layers) as recorder:
        logits = logits_of(X)
        activations = recorder.activations()
    return TrainingForward(logits=logits, activations=activations)
