# SPDX-License-Identifier: BSD-3-Clause
"""Differentiable group gaps: relaxed ΔDP, ΔEO and ΔEOp on probabilities.

One primitive, :func:`group_means`, computes a (weighted) mean of any per-sample
quantity for every group with ``index_add`` (no Python loop over samples).
Every relaxed gap is a short function on it:

* ``demographic_parity``: spread of ``E[p | A=a]`` over groups;
* ``equal_opportunity``: spread of ``E[p | A=a, Y=1]``;
* ``equalized_odds``: spread of ``E[p | A=a, Y=0]`` plus (``agg="sum"``) or
  max with (``agg="max"``) the spread of ``E[p | A=a, Y=1]``.

With two groups the *spread* is ``|m_0 - m_1|`` and the gaps are exactly the
GapReg/Fair-Mixup penalties (Chuang & Mroueh 2021, used by GCM, FAIRER and
RUNNER): ``|mean p(X_0) - mean p(X_1)|`` and ``Σ_y |mean p(X_0y) - mean p(X_1y)|``.
With more groups the spread is ``max_a m_a - min_a m_a``, the worst pair, which
is also fairlearn's ``method="between_groups"`` difference. Groups absent from
a batch (or a label cell) are left out; with fewer than two groups present the
spread is a zero that keeps the graph, so a batch never yields NaN.
"""

from __future__ import annotations

from typing import Literal

import torch

from .cells import CONSTRAINTS, cell_codes, label_masks

__all__ = [
    "CONSTRAINTS",
    "GAPS",
    "group_means",
    "group_spread",
    "demographic_parity_gap",
    "equal_opportunity_gap",
    "equalized_odds_gap",
    "fairness_gap",
    "spread_by_label",
]


def group_means(
    values: torch.Tensor,
    groups: torch.Tensor,
    n_groups: int,
    weights: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted mean of ``values`` within each group.

    Parameters
    ----------
    values : Tensor of shape (n,) or (n, d)
        Per-sample quantity (probabilities, activations, ...).
    groups : LongTensor of shape (n,)
        Group code of each sample, in ``[0, n_groups)``.
    n_groups : int
        Number of groups.
    weights : Tensor of shape (n,), default=None
        Sample weights; ``None`` means 1.
    mask : BoolTensor of shape (n,), default=None
        Samples to include (e.g. ``y == 1`` for a label cell).

    Returns
    -------
    means : Tensor of shape (n_groups,) or (n_groups, d)
        Group means; 0 for a group without (weighted) samples.
    totals : Tensor of shape (n_groups,)
        Total weight of each group; 0 marks an absent group.
    """
    if weights is None:
        weights = torch.ones_like(groups, dtype=values.dtype)
    weights = weights.to(values.dtype)
    if mask is not None:
        weights = weights * mask.to(values.dtype)
    totals = values.new_zeros(n_groups).index_add_(0, groups, weights)
    weighted = values * (weights if values.dim() == 1 else weights[:, None])
    sums = values.new_zeros((n_groups, *values.shape[1:])).index_add_(0, groups, weighted)
    safe = totals.clamp_min(torch.finfo(values.dtype).tiny)
    means = sums / (safe if values.dim() == 1 else safe[:, None])
    return means, totals


def group_spread(means: torch.Tensor, totals: torch.Tensor) -> torch.Tensor:
    """``max - min`` of the group means over the groups present (along the last axis).

    With two present groups this is ``|m_0 - m_1|``; with one it is 0, and
    with none a zero connected to the graph, so a batch never yields NaN. The
    rule is evaluated on the device (no host synchronisation). With two
    groups it is computed as :math:`|m_0 - m_1|` times "both present": the
    same value and gradient in fewer kernels (a training step launches them
    every batch).

    Parameters
    ----------
    means, totals : Tensor of shape (n_groups,) or (k, n_groups)
        Output of :func:`group_means`; a 2-D input gives one spread per row.
    """
    if means.shape[-1] == 2:  # |m_0 - m_1| when both are present, else 0: fewer kernels
        both = (totals > 0).all(-1).to(means.dtype)
        return (means[..., 0] - means[..., 1]).abs() * both
    absent = totals <= 0
    high = means.masked_fill(absent, float("-inf")).amax(-1)
    low = means.masked_fill(absent, float("inf")).amin(-1)
    # high >= low whenever a group is present; with none, -inf - inf clamps to a zero
    # whose gradient is zero (no NaN), without a where() and an extra reduction
    return (high - low).clamp_min(0.0)


def demographic_parity_gap(
    scores: torch.Tensor,
    y: torch.Tensor,
    groups: torch.Tensor,
    n_groups: int,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Relaxed ΔDP: :math:`\max_a E[p|A=a] - \min_a E[p|A=a]`.

    ``y`` is accepted for a uniform signature and ignored.
    """
    return group_spread(*group_means(scores, groups, n_groups, weights))


def equal_opportunity_gap(
    scores: torch.Tensor,
    y: torch.Tensor,
    groups: torch.Tensor,
    n_groups: int,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Relaxed ΔEOp: spread of :math:`E[p|A=a, Y=1]` (true-positive rates)."""
    return group_spread(*group_means(scores, groups, n_groups, weights, mask=y == 1))


def equalized_odds_gap(
    scores: torch.Tensor,
    y: torch.Tensor,
    groups: torch.Tensor,
    n_groups: int,
    weights: torch.Tensor | None = None,
    agg: Literal["sum", "max"] = "sum",
) -> torch.Tensor:
    r"""Relaxed ΔEO: :math:`\sum_{y\in\{0,1\}} \mathrm{spread}_a E[p|A=a,Y=y]`.

    ``agg="sum"`` is the papers' ΔTPR + ΔFPR; ``agg="max"`` is fairlearn's
    worst case ``max(ΔTPR, ΔFPR)``.
    """
    cells, n_cells = cell_codes(groups, y, "equalized_odds", n_groups)  # one index_add
    means, totals = group_means(scores, cells, n_cells, weights)
    per_label = group_spread(means.view(n_groups, 2).T, totals.view(n_groups, 2).T)
    if agg == "sum":
        return per_label.sum()
    if agg == "max":
        return per_label.max()
    raise ValueError(f"agg must be 'sum' or 'max'; got {agg!r}.")


GAPS = {
    "demographic_parity": demographic_parity_gap,
    "equalized_odds": equalized_odds_gap,
    "equal_opportunity": equal_opportunity_gap,
}


def spread_by_label(
    values: torch.Tensor,
    y: torch.Tensor,
    groups: torch.Tensor,
    n_groups: int,
    constraint: str,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Spread of the group means of ``values``, summed over the constraint's labels.

    For ``values`` of shape (n, d) the spread is per column (shape (d,)): the
    neuron discrimination of RUNNER uses it on activations.
    """
    total = None
    for mask in label_masks(y, constraint):
        means, totals = group_means(values, groups, n_groups, weights, mask=mask)
        spread = group_spread(means.movedim(0, -1), totals)
        total = spread if total is None else total + spread
    return total


def fairness_gap(
    constraint: str,
    scores: torch.Tensor,
    y: torch.Tensor,
    groups: torch.Tensor,
    n_groups: int,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Relaxed gap named by ``constraint`` (one of :data:`skfairnn.cells.CONSTRAINTS`)."""
    try:
        gap = GAPS[constraint]
    except KeyError:
        raise ValueError(
            f"constraint must be one of {sorted(CONSTRAINTS)}; got {constraint!r}."
        ) from None
    return gap(scores, y, groups, n_groups, weights)
