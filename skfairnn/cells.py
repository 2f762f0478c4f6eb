# SPDX-License-Identifier: BSD-3-Clause
"""The one vocabulary of fairness constraints and the cells they compare.

Every constraint in skfairnn is a statement about *cells*: for demographic
parity a cell is a sensitive group; for equalized odds and equal opportunity
it is a (group, label) pair, and only cells of the same label are compared.
:data:`CONSTRAINT_LABELS` is the single table of which labels each constraint
compares; the estimators' ``constraint`` options, the batch samplers, the
relaxed gaps (:mod:`skfairnn.gaps`), the neuron and influence diagnostics and
the pruner all derive from it.

Cell codes are *group-major*: ``code = 2 * group + y`` for the
label-conditional constraints and ``code = group`` for demographic parity, so
a vector of per-cell statistics reshapes to ``(n_groups, 2)`` and the cells
of one group are adjacent (the order in which the balanced samplers and the
per-cell forward visit them).

fairlearn's Moment names are accepted as documented aliases where a function
takes a constraint name from a user (:func:`check_constraint`):
``"true_positive_rate_parity"`` is ``"equal_opportunity"``. fairlearn's
``"false_positive_rate_parity"`` (equal false-positive rates alone) is not one
of skfairnn's constraints: it is the label-0 half of ``"equalized_odds"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import torch

__all__ = [
    "CONSTRAINT_LABELS",
    "CONSTRAINTS",
    "CONSTRAINT_ALIASES",
    "check_constraint",
    "cell_codes",
    "cell_group_label",
    "cell_pairs",
    "label_masks",
]

#: The labels whose cells each constraint compares; ``None``: whole groups.
CONSTRAINT_LABELS: dict[str, tuple[int | None, ...]] = {
    "demographic_parity": (None,),
    "equalized_odds": (0, 1),
    "equal_opportunity": (1,),
}

#: The constraint names every estimator accepts.
CONSTRAINTS: tuple[str, ...] = tuple(CONSTRAINT_LABELS)

#: fairlearn's Moment names that mean one of :data:`CONSTRAINTS`.
CONSTRAINT_ALIASES: dict[str, str] = {"true_positive_rate_parity": "equal_opportunity"}

_MSG_CONSTRAINT = "{argument} must be one of {allowed}{aliases}; got {got!r}.{hint}"


def check_constraint(constraint: str, *, argument: str = "constraint") -> str:
    """The canonical name of ``constraint`` (aliases resolved).

    Raises
    ------
    ValueError
        Naming ``argument`` and the accepted names, if ``constraint`` is not a
        constraint name or alias.
    """
    if isinstance(constraint, str):
        if constraint in CONSTRAINT_LABELS:
            return constraint
        if constraint in CONSTRAINT_ALIASES:
            return CONSTRAINT_ALIASES[constraint]
    hint = ""
    if constraint == "false_positive_rate_parity":
        hint = (
            " Equal false-positive rates alone are the label-0 half of "
            "'equalized_odds'; use constraint='equalized_odds'."
        )
    raise ValueError(
        _MSG_CONSTRAINT.format(
            argument=argument,
            allowed=list(CONSTRAINTS),
            aliases=f" (or the alias {list(CONSTRAINT_ALIASES)})",
            got=constraint,
            hint=hint,
        )
    )


def cell_codes(group, y, constraint: str, n_groups: int):
    """Cell code of each row and the number of possible codes.

    Parameters
    ----------
    group : LongTensor or ndarray of shape (n,)
        Group codes in ``[0, n_groups)``.
    y : Tensor or ndarray of shape (n,)
        Labels 0/1 (ignored for demographic parity).
    constraint : str
        One of :data:`CONSTRAINTS`.
    n_groups : int
        Number of groups.

    Returns
    -------
    codes : same type as ``group``
        ``group`` for demographic parity, ``2 * group + y`` otherwise.
    n_cells : int
        ``n_groups`` or ``2 * n_groups``.
    """
    if constraint == "demographic_parity":
        return group, n_groups
    if isinstance(group, torch.Tensor):
        return group.long() * 2 + y.long(), 2 * n_groups
    return np.asarray(group).astype(np.int64) * 2 + np.asarray(y).astype(np.int64), 2 * n_groups


def cell_group_label(code: int, constraint: str) -> tuple[int, int | None]:
    """``(group, label)`` of a cell code; the label is ``None`` for demographic parity."""
    if constraint == "demographic_parity":
        return code, None
    return code // 2, code % 2


def cell_pairs(codes: Sequence[int], constraint: str) -> list[list[tuple[int, int]]]:
    """Positions (into ``codes``) of the cell pairs to compare, one list per label.

    Demographic parity compares every pair of groups; equalized odds compares
    groups within each label; equal opportunity within label 1 only. A label
    with fewer than two groups present gives an empty list.
    """
    out = []
    for label in CONSTRAINT_LABELS[constraint]:
        members = [
            position
            for position, code in enumerate(codes)
            if cell_group_label(code, constraint)[1] == label
        ]
        out.append(list(combinations(members, 2)))
    return out


def label_masks(y, constraint: str) -> list:
    """One row mask per compared label (``None``: every row, for demographic parity)."""
    return [None if label is None else y == label for label in CONSTRAINT_LABELS[constraint]]
