# SPDX-License-Identifier: BSD-3-Clause
"""Minibatch index samplers: random, group-balanced and cell-balanced.

The papers built on Fair Mixup's Adult loop (GCM, FAIRER, RUNNER) train on
*balanced* batches: for demographic parity every iteration draws the same
number of rows from each sensitive group ("group_balanced"), for equalized odds
the same number from each (group, label) cell ("cell_balanced"); the
Oversample baseline is cell-balanced ERM. Each stratum's rows are drawn
without replacement within a batch, and with replacement when a stratum has
fewer rows than its share (as the GCM code falls back to). Strata that have no
rows at all are skipped, so an empty (group, label) cell does not stop
training.

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
    "label_prior",
    "make_batch_sampler",
    "resolve_sampling",
]

SAMPLINGS = ("random", "group_balanced", "cell_balanced")
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
    """Batches with an equal number of rows from every non-empty stratum.

    Parameters
    ----------
    strata : ndarray of shape (n_samples,)
        Stratum code of each row (group, or group × label cell).
    batch_size : int
        Target rows per batch; each of the ``k`` non-empty strata contributes
        ``max(1, batch_size // k)`` rows.
    generator : torch.Generator or None
        Source of randomness.
    n_batches : int or None
        Batches per epoch; ``None`` gives ``ceil(n_samples / batch_size)``.
    """

    def __init__(self, strata, batch_size, *, generator=None, n_batches=None):
        strata = np.asarray(strata)
        self.members = [torch.as_tensor(np.flatnonzero(strata == s)) for s in np.unique(strata)]
        self.per_stratum = max(1, batch_size // len(self.members))
        self.generator = generator
        self.n_batches = n_batches if n_batches is not None else -(-len(strata) // batch_size)

    def __len__(self) -> int:
        return self.n_batches

    def _draw(self, members: torch.Tensor) -> torch.Tensor:
        if len(members) >= self.per_stratum:
            pick = torch.randperm(len(members), generator=self.generator)[: self.per_stratum]
        else:
            pick = torch.randint(len(members), (self.per_stratum,), generator=self.generator)
        return members[pick]

    def __iter__(self) -> Iterator[torch.Tensor]:
        for _ in range(self.n_batches):
            yield torch.cat([self._draw(members) for members in self.members])


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
    sampling: Literal["random", "group_balanced", "cell_balanced"],
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
    sampling : {"random", "group_balanced", "cell_balanced"}
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
        sampler = StratifiedBatchSampler(
            _strata(sampling, groups, y), batch_size, generator=generator, n_batches=n_batches
        )
    return sampler if kept is None else _RowSubset(sampler, torch.as_tensor(kept))


def resolve_sampling(sampling: str, constraint: str | None) -> str:
    """The sampler behind ``sampling``; ``"auto"`` is the papers' loop for ``constraint``.

    ``"auto"`` means group-balanced batches for demographic parity,
    cell-balanced batches for equalized odds and equal opportunity (the loop
    of Fair Mixup, GCM, FAIRER and RUNNER), and random batches without a
    constraint (ERM).
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
    return cell_codes(groups, y, "equalized_odds", 0)[0]


def label_prior(sampling: str, *, groups, y, sample_weight=None) -> float:
    r"""Positive share of the distribution the weighted loss sees under ``sampling``.

    A row's mass is its probability of being drawn (uniform for ``"random"``;
    ``1 / (k * n_s)`` in a balanced sampler with ``k`` non-empty strata, ``n_s``
    rows in the row's stratum) times its sample weight; rows with zero weight
    carry no mass and do not count towards their stratum.

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
        draw = np.zeros_like(y)
        draw[present] = 1.0 / (len(codes) * counts[inverse])
    mass = draw * weight
    return float((mass * y).sum() / mass.sum())
