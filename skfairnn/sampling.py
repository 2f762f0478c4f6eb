# SPDX-License-Identifier: BSD-3-Clause
"""Minibatch index samplers: random, group-balanced, cell-balanced and DP-resampled.

The papers built on Fair Mixup's Adult loop (GCM, FAIRER, RUNNER) train on
*balanced* batches: for demographic parity every iteration draws the same
number of rows from each sensitive group ("group_balanced"), for equalized odds
the same number from each (group, label) cell ("cell_balanced"); the
Oversample baseline is cell-balanced ERM.

"dp_resampled" is the resampling of Kamiran and Calders (2012, "uniform
sampling"; ``dalex.fairness.resample``), which GCM's demographic-parity
experiment (§4.3, "Experiments on Other Fairness Metrics") draws its cells
with: every (group, label) cell gets the share of the batch it would have if
the label were independent of the group, :math:`n_a n_y / n^2` (``n_a`` rows in
group ``a``, ``n_y`` with label ``y``, ``n`` in all). Each group keeps its
share :math:`n_a / n` of the batch, and within every group the labels follow
the overall distribution :math:`n_y / n`: the label-group association that
makes demographic parity conflict with accuracy is removed from the data the
network sees. Kamiran and Calders resample the data set once; here every
batch is drawn with the resampled composition (a random batch of the
resampled data has it in expectation): a cell's quota per batch is its share
of ``batch_size`` rounded to whole rows by largest remainders, at least one
row.

Each stratum's rows are drawn without replacement within a batch, and with
replacement when a stratum has fewer rows than its quota (as the GCM code
falls back to). Strata that have no rows at all are skipped, so an empty
(group, label) cell does not stop training.

Rows with sample weight 0 (e.g. rows pruned by
:class:`~skfairnn.InfluencePruner` or FairIF, through
:class:`~skfairnn.ReweightedClassifier`) are never drawn: every sampler draws
among the rows of positive weight only, and a stratum whose rows all have
weight 0 counts as empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import torch

from .cells import cell_codes

__all__ = [
    "SAMPLINGS",
    "SAMPLING_OPTIONS",
    "RandomBatchSampler",
    "StratifiedBatchSampler",
    "independence_shares",
    "label_prior",
    "make_batch_sampler",
    "resolve_sampling",
    "stratum_quotas",
]

SAMPLINGS = ("random", "group_balanced", "cell_balanced", "dp_resampled")
#: ``sampling`` values an estimator accepts: the samplers, and "auto"
SAMPLING_OPTIONS = ("auto", *SAMPLINGS)


class RandomBatchSampler:
    """Shuffled (or, for prediction, sequential) batches of row indices.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    batch_size : int
        Rows per batch (the last batch may be smaller).
    shuffle : bool
        Draw a fresh permutation each epoch.
    generator : torch.Generator or None
        Source of randomness for the permutation.
    n_batches : int or None
        Batches per epoch; ``None`` is one pass over the data. More batches
        than one pass continue with a new permutation.
    """

    def __init__(self, n_samples, batch_size, *, shuffle, generator=None, n_batches=None):
        self.n_samples = n_samples
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.n_batches = n_batches

    def __len__(self) -> int:
        if self.n_batches is not None:
            return self.n_batches
        return -(-self.n_samples // self.batch_size)

    def _order(self) -> torch.Tensor:
        if self.shuffle:
            return torch.randperm(self.n_samples, generator=self.generator)
        return torch.arange(self.n_samples)

    def __iter__(self) -> Iterator[torch.Tensor]:
        produced = 0
        while produced < len(self):
            order = self._order()
            for start in range(0, self.n_samples, self.batch_size):
                if produced == len(self):
                    return
                yield order[start : start + self.batch_size]
                produced += 1


class StratifiedBatchSampler:
    """Batches with a fixed number of rows from every non-empty stratum.

    Parameters
    ----------
    strata : ndarray of shape (n_samples,)
        Stratum code of each row (group, or group × label cell).
    batch_size : int
        Target rows per batch; without ``shares`` each of the ``k`` non-empty
        strata contributes ``max(1, batch_size // k)`` rows.
    generator : torch.Generator or None
        Source of randomness.
    n_batches : int or None
        Batches per epoch; ``None`` gives ``ceil(n_samples / batch_size)``.
    shares : ndarray of shape (k,) or None, default=None
        Share of the batch of each non-empty stratum (ascending stratum
        code); the quotas are ``shares * batch_size`` rounded by largest
        remainders (:func:`stratum_quotas`). ``None``: equal quotas.
    """

    def __init__(self, strata, batch_size, *, generator=None, n_batches=None, shares=None):
        strata = np.asarray(strata)
        self.members = [torch.as_tensor(np.flatnonzero(strata == s)) for s in np.unique(strata)]
        if shares is None:
            self.quotas = [max(1, batch_size // len(self.members))] * len(self.members)
        else:
            self.quotas = stratum_quotas(shares, batch_size)
        self.generator = generator
        self.n_batches = n_batches if n_batches is not None else -(-len(strata) // batch_size)

    def __len__(self) -> int:
        return self.n_batches

    def _draw(self, members: torch.Tensor, quota: int) -> torch.Tensor:
        if len(members) >= quota:
            pick = torch.randperm(len(members), generator=self.generator)[:quota]
        else:
            pick = torch.randint(len(members), (quota,), generator=self.generator)
        return members[pick]

    def __iter__(self) -> Iterator[torch.Tensor]:
        for _ in range(self.n_batches):
            yield torch.cat(
                [self._draw(members, quota) for members, quota in zip(self.members, self.quotas)]
            )


def stratum_quotas(shares, batch_size: int) -> list[int]:
    """Whole rows per stratum: ``shares * batch_size`` by largest remainders, at least 1.

    The floors of ``shares * batch_size`` are raised by one row, largest
    fractional part first, until they sum to ``batch_size``; a stratum whose
    quota rounds to 0 still gets one row (the batch is then that much larger).
    """
    exact = np.asarray(shares, dtype=np.float64) * batch_size / np.sum(shares)
    quotas = np.floor(exact).astype(np.int64)
    short = batch_size - int(quotas.sum())
    order = np.argsort(-(exact - quotas), kind="stable")
    quotas[order[:short]] += 1
    return np.maximum(quotas, 1).tolist()


def independence_shares(groups: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Cell codes and shares of DP resampling: :math:`n_a n_y / n^2` per non-empty cell.

    Kamiran and Calders' "uniform sampling" (the resampling of
    ``dalex.fairness.resample`` that GCM §4.3 uses for demographic
    parity): the size each (group, label) cell would have if the label were
    independent of the group. Cells without rows are left out and the other
    shares renormalised.

    Returns
    -------
    codes : ndarray of int
        The non-empty cells' codes ``2 * group + y``, ascending.
    shares : ndarray of float
        Their shares of a batch (summing to 1).
    """
    groups, y = np.asarray(groups).astype(np.int64), np.asarray(y).astype(np.int64)
    codes = np.unique(groups * 2 + y)
    group_size = np.bincount(groups)
    label_size = np.bincount(y, minlength=2)
    shares = (group_size[codes // 2] * label_size[codes % 2]).astype(np.float64)
    return codes, shares / shares.sum()


class _RowSubset:
    """Batches of a sampler over a subset of the rows, mapped back to row indices."""

    def __init__(self, sampler, rows: torch.Tensor):
        self.sampler = sampler
        self.rows = rows

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[torch.Tensor]:
        for batch in self.sampler:
            yield self.rows[batch]


def make_batch_sampler(
    sampling: Literal["random", "group_balanced", "cell_balanced", "dp_resampled"],
    *,
    groups: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    generator: torch.Generator | None,
    n_batches: int | None = None,
    sample_weight: np.ndarray | None = None,
):
    """Return the training batch sampler named by ``sampling``.

    Parameters
    ----------
    sampling : {"random", "group_balanced", "cell_balanced", "dp_resampled"}
        See the module docstring.
    groups, y : ndarray of shape (n_samples,)
        Integer group codes and encoded labels (0/1).
    batch_size : int
        Rows per batch.
    generator : torch.Generator or None
        Seeded generator for reproducible batches.
    n_batches : int or None
        Batches per epoch (``None``: one pass over the rows of positive
        weight).
    sample_weight : ndarray of shape (n_samples,) or None, default=None
        Rows of weight 0 are never drawn; ``None`` draws among all rows.

    Raises
    ------
    ValueError
        If ``sampling`` is unknown or no row has positive weight.
    """
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}; got {sampling!r}.")
    groups, y = np.asarray(groups), np.asarray(y)
    positive = None if sample_weight is None else np.asarray(sample_weight) > 0
    kept = None if positive is None or positive.all() else np.flatnonzero(positive)
    if kept is not None:
        if not len(kept):
            raise ValueError("sample_weight has no positive entry; there is no row to draw.")
        groups, y = groups[kept], y[kept]
    if sampling == "random":
        sampler = RandomBatchSampler(
            len(y), batch_size, shuffle=True, generator=generator, n_batches=n_batches
        )
    else:
        shares = independence_shares(groups, y)[1] if sampling == "dp_resampled" else None
        sampler = StratifiedBatchSampler(
            _strata(sampling, groups, y),
            batch_size,
            generator=generator,
            n_batches=n_batches,
            shares=shares,
        )
    return sampler if kept is None else _RowSubset(sampler, torch.as_tensor(kept))


def resolve_sampling(sampling: str, constraint: str | None) -> str:
    """The sampler behind ``sampling``; ``"auto"`` is the papers' loop for ``constraint``.

    ``"auto"`` means group-balanced batches for demographic parity,
    cell-balanced batches for equalized odds and equal opportunity (the loop
    of Fair Mixup, GCM, FAIRER and RUNNER), and random batches without a
    constraint (ERM). GCM's demographic-parity variant of §4.3
    (``dp_cells="label_cells"``) resolves it to ``"dp_resampled"`` itself.
    """
    if sampling != "auto":
        return sampling
    if constraint is None:
        return "random"
    return "group_balanced" if constraint == "demographic_parity" else "cell_balanced"


def _strata(sampling: str, groups: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    if sampling == "random":
        return None
    if sampling == "group_balanced":
        return np.asarray(groups)
    # cell_balanced and dp_resampled: one stratum per (group, label) cell
    return cell_codes(groups, y, "equalized_odds", 0)[0]


def label_prior(sampling: str, *, groups, y, sample_weight=None) -> float:
    r"""Positive share of the distribution the weighted loss sees under ``sampling``.

    A row's mass is its probability of being drawn (uniform for ``"random"``;
    ``q_s / n_s`` in a stratified sampler, with ``n_s`` rows in the row's
    stratum and ``q_s`` the stratum's share of a batch: ``1 / k`` for ``k``
    non-empty strata in a balanced sampler, :func:`independence_shares` for
    ``"dp_resampled"``, before rounding to whole rows) times its sample
    weight; rows with zero weight carry no mass and do not count towards their
    stratum.

    Returns
    -------
    float
        :math:`\sum_i m_i y_i / \sum_i m_i`.
    """
    y = np.asarray(y, dtype=np.float64)
    weight = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, float)
    strata = _strata(sampling, groups, y.astype(np.int64))
    draw = np.ones_like(y)
    if strata is not None:
        present = weight > 0
        codes, inverse, counts = np.unique(strata[present], return_inverse=True, return_counts=True)
        shares = np.full(len(codes), 1.0 / len(codes))
        if sampling == "dp_resampled":
            kept_groups, kept_y = np.asarray(groups)[present], y[present].astype(np.int64)
            shares = independence_shares(kept_groups, kept_y)[1]
        draw = np.zeros_like(y)
        draw[present] = shares[inverse] / counts[inverse]
    mass = draw * weight
    return float((mass * y).sum() / mass.sum())
