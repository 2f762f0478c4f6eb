# SPDX-License-Identifier: BSD-3-Clause
"""Per-cell forward passes and gradients: the machinery behind GCM and FAIRER.

Both gradient-matching methods compare how the sensitive groups drive the
network's gradients. For demographic parity a *cell* is a group; for equalized
odds (and equal opportunity) it is a (group, label) pair, and cells are only
compared with cells of the same label. Each step:

1. :meth:`PerCellGradientMixin.train_step_single` forwards every non-empty
   cell of the batch *separately* (a loop over cells, never over samples) and
   stitches the logits back into batch order for the task loss; only the
   cells whose rows have positive total weight are *present* and enter the
   penalty (a cell of zero-weight rows, e.g. rows pruned by
   :class:`~skfairnn.InfluencePruner`, has no loss to compare);
2. the method's hook asks :func:`cell_losses` for each cell's weighted mean
   loss and :func:`cell_gradients` for its gradient w.r.t. the chosen
   parameters with ``create_graph=True``;
3. the penalty built from those gradients is added to the loss and the single
   ``loss.backward()`` differentiates through them (double backprop).

Forwarding the cells separately is what keeps the cost close to one extra
backward pass: ``autograd.grad`` of a cell's loss walks only that cell's
sub-graph, so the per-cell gradients together cost about one backward of the
whole batch (asking each cell's gradient of a shared full-batch graph would
cost one full backward *per cell*). It is also what the authors' code does (one
forward per cell batch). With batch normalisation, statistics are then per
cell rather than per batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import torch
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

__all__ = [
    "CellForward",
    "PerCellGradientMixin",
    "cell_codes",
    "cell_losses",
    "cell_gradients",
    "cell_pairs",
    "forward_by_cell",
]


def cell_codes(
    group: torch.Tensor, y: torch.Tensor, constraint: str, n_groups: int
) -> tuple[torch.Tensor, int]:
    """Cell code of each row, the group (DP) or ``2 * group + y`` (EO, EOp), and the count."""
    if constraint == "demographic_parity":
        return group.long(), n_groups
    return group.long() * 2 + y.long(), 2 * n_groups


def cell_group_label(code: int, constraint: str) -> tuple[int, int | None]:
    """``(group, label)`` of a cell code; label is ``None`` for DP cells."""
    if constraint == "demographic_parity":
        return code, None
    return code // 2, code % 2


@dataclass
class CellForward:
    """The per-cell forward pass of one batch.

    Attributes
    ----------
    codes : list of int
        Codes of the present cells (rows with positive total weight), ascending.
    index : list of LongTensor
        Row indices (into the batch) of each cell.
    logits : list of Tensor
        Logits of each cell's rows, from that cell's own forward pass.
    """

    codes: list[int]
    index: list[torch.Tensor]
    logits: list[torch.Tensor]


def forward_by_cell(
    infer,
    X: torch.Tensor,
    codes: torch.Tensor,
    n_cells: int,
    *,
    weight: torch.Tensor | None = None,
    **fit_params,
):
    """Forward each non-empty cell separately; return batch-ordered logits too.

    Parameters
    ----------
    infer : callable
        Maps a tensor of rows to one logit per row (``net.infer``).
    X : Tensor of shape (n, ...)
        Batch inputs.
    codes : LongTensor of shape (n,)
        Cell code of each row (:func:`cell_codes`).
    n_cells : int
        Number of possible codes; empty cells are skipped.
    weight : Tensor of shape (n,) or None, default=None
        Sample weights. A cell whose rows all have weight 0 is forwarded (its
        logits are part of the batch) but is not present in ``forward``;
        ``None`` makes every non-empty cell present.

    Returns
    -------
    logits : Tensor of shape (n,)
        Logits in the batch's row order (for the task loss).
    forward : CellForward
        The per-cell pieces of the present cells.
    """
    cells = [(code, torch.nonzero(codes == code).squeeze(1)) for code in range(n_cells)]
    cells = [(code, rows) for code, rows in cells if rows.numel()]
    logits = [infer(X[rows], **fit_params) for _, rows in cells]
    order = torch.cat([rows for _, rows in cells])
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(len(order), device=order.device)
    batch_logits = torch.cat(logits)[inverse]
    forward = CellForward([], [], [])
    for (code, rows), cell_logits in zip(cells, logits):
        if weight is None or bool(weight[rows].sum() > 0):
            forward.codes.append(code)
            forward.index.append(rows)
            forward.logits.append(cell_logits)
    return batch_logits, forward


def cell_losses(forward: CellForward, criterion, y: torch.Tensor, weight: torch.Tensor):
    """Weighted mean task loss of each cell, :math:`\\sum_i w_i\\ell_i / \\sum_i w_i`."""
    losses = []
    for rows, logits in zip(forward.index, forward.logits):
        per_row = criterion(logits, y[rows].to(logits.dtype))
        w = weight[rows].to(logits.dtype)
        losses.append((per_row * w).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny))
    return losses


def cell_gradients(
    losses: Sequence[torch.Tensor], params: Sequence[torch.Tensor], *, create_graph: bool = True
) -> list[list[torch.Tensor]]:
    """Gradient of each cell's loss w.r.t. ``params`` (zeros for unused ones)."""
    gradients = []
    for loss in losses:
        grads = torch.autograd.grad(
            loss, params, create_graph=create_graph, retain_graph=True, allow_unused=True
        )
        gradients.append([torch.zeros_like(p) if g is None else g for g, p in zip(grads, params)])
    return gradients


def cell_pairs(codes: Sequence[int], constraint: str) -> list[list[tuple[int, int]]]:
    """Positions (into ``codes``) of the cell pairs to compare, one list per label.

    DP compares every pair of groups; EO compares groups within each label;
    EOp only within label 1. A label with fewer than two groups present gives
    an empty list.
    """
    labels = {
        "demographic_parity": (None,),
        "equalized_odds": (0, 1),
        "equal_opportunity": (1,),
    }[constraint]
    out = []
    for label in labels:
        members = [
            pos for pos, code in enumerate(codes) if cell_group_label(code, constraint)[1] == label
        ]
        out.append(list(combinations(members, 2)))
    return out


def mean_cell_scores(forward: CellForward, weight: torch.Tensor) -> torch.Tensor:
    """Weighted mean probability :math:`\\bar y` of each cell (detached)."""
    means = []
    for rows, logits in zip(forward.index, forward.logits):
        w = weight[rows].to(logits.dtype)
        p = torch.sigmoid(logits.detach())
        means.append((p * w).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny))
    return torch.stack(means)


class PerCellGradientMixin:
    """Training step with one forward pass per cell (for double-backprop penalties).

    The subclass sets ``constraint`` and decides through
    :meth:`_uses_cell_gradients` whether the current configuration needs the
    per-cell pass (it is skipped when the gradient term's weight is zero or no
    sensitive features were given). Its hook reads the pass through
    :meth:`_cell_forward_for`, which recomputes it when the hook is called
    outside a training step (e.g. directly in a test).
    """

    _cell_forward: CellForward | None = None

    def _uses_cell_gradients(self) -> bool:
        """Whether this step needs the per-cell pass; methods refine the default."""
        return bool(getattr(self, "fairness_weight", 0))

    def train_step_single(self, batch, **fit_params):
        """skorch's step, with the forward pass split by cell (see module docstring)."""
        if getattr(self, "sensitive_groups_", None) is None or not self._uses_cell_gradients():
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        x = Xi["X"] if isinstance(Xi, Mapping) else Xi
        x = to_tensor(x, device=self.device)
        group = to_tensor(Xi["group"], device=x.device)
        weight = to_tensor(Xi["sample_weight"], device=x.device)
        codes, n_cells = cell_codes(group, yi, self.constraint, self._n_groups)
        y_pred, self._cell_forward = forward_by_cell(
            self.infer, x, codes, n_cells, weight=weight, **fit_params
        )
        try:
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
            loss.backward()
        finally:
            self._cell_forward = None
        return {"loss": loss, "y_pred": y_pred}

    def _cell_forward_for(self, batch) -> CellForward:
        """The step's per-cell pass, or a fresh one for ``batch``."""
        if self._cell_forward is not None:
            return self._cell_forward
        codes, n_cells = cell_codes(batch.group, batch.y, self.constraint, batch.n_groups)
        return forward_by_cell(self.infer, batch.X, codes, n_cells, weight=batch.sample_weight)[1]

    def _cell_gradient_setup(self, batch, params):
        """Per-cell pass, losses and gradients (with graph) for ``params``."""
        forward = self._cell_forward_for(batch)
        losses = cell_losses(forward, self.criterion_, batch.y, batch.sample_weight)
        return forward, cell_gradients(losses, params)


def resolve_layers(module: torch.nn.Module, layers) -> list[tuple[str, torch.nn.Module]]:
    """``(name, layer)`` pairs: ``find_layers(module)`` or the layers named in ``layers``.

    Raises
    ------
    ValueError
        If a name is not a submodule of ``module`` or has no ``weight`` tensor.
    """
    from .modules import find_layers

    if layers is None:
        return find_layers(module)
    named = dict(module.named_modules())
    missing = [name for name in layers if name not in named]
    weightless = [
        name
        for name in layers
        if name in named and not isinstance(getattr(named[name], "weight", None), torch.Tensor)
    ]
    if missing or weightless or not layers:
        raise ValueError(
            f"layers must name submodules of {type(module).__name__} that have a weight "
            f"tensor; unknown: {missing}, without weight: {weightless}. Weighted layers: "
            f"{[name for name, _ in find_layers(module)]}."
        )
    return [(name, named[name]) for name in layers]


def taylor_importance(weight: torch.Tensor, grad: torch.Tensor, granularity: str) -> torch.Tensor:
    r"""First-order importance :math:`(g \cdot w)^2` (FAIRER Eq. 8), flattened.

    ``granularity="parameter"``: one score per weight element (the paper);
    ``"unit"``: summed over each output unit's fan-in (and kernel), one score
    per neuron or filter (the authors' code).
    """
    score = (weight * grad).square()
    if granularity == "unit":
        return score.reshape(score.shape[0], -1).sum(1)
    return score.reshape(-1)


def _unit_max(v: torch.Tensor) -> torch.Tensor:
    """``v`` divided by its (detached) largest magnitude; unchanged if that is below ``tiny``."""
    scale = v.detach().abs().max()
    return v / torch.where(scale >= torch.finfo(v.dtype).tiny, scale, torch.ones_like(scale))


def scaled_cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine similarity that stays finite, with a finite gradient, for tiny or zero vectors.

    Each vector is first divided by its (detached) largest magnitude, which
    leaves the cosine and its gradient unchanged but avoids underflow of the
    squared norms. An all-zero (or subnormal) vector is left unscaled, so it
    gives a cosine of 0 and, through the ``eps`` in the norms, a finite
    gradient (scaling it by ``1 / tiny`` would overflow the gradient).
    """
    a, b = _unit_max(a), _unit_max(b)
    eps = torch.finfo(a.dtype).eps
    return (a * b).sum() / ((a.square().sum() + eps).sqrt() * (b.square().sum() + eps).sqrt())
