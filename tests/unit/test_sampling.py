# SPDX-License-Identifier: BSD-3-Clause
import numpy as np
import pytest
import torch

from skfairnn.sampling import make_batch_sampler


def _sampler(sampling, groups, y, batch_size=40, seed=0, n_batches=None):
    return make_batch_sampler(
        sampling,
        groups=groups,
        y=y,
        batch_size=batch_size,
        generator=torch.Generator().manual_seed(seed),
        n_batches=n_batches,
    )


def test_random_covers_each_row_once_per_epoch():
    y = np.zeros(103, dtype=int)
    batches = list(_sampler("random", np.zeros(103, dtype=int), y))
    assert len(batches) == 3
    assert sorted(torch.cat(batches).tolist()) == list(range(103))


def test_group_balanced_draws_equal_counts():
    groups = np.array([0] * 90 + [1] * 10)
    y = np.arange(100) % 2
    for batch in _sampler("group_balanced", groups, y, batch_size=40):
        counts = np.bincount(groups[batch.numpy()], minlength=2)
        assert counts.tolist() == [20, 20]
        # the minority has fewer rows than its share: drawn with replacement
        assert len(batch) == 40


def test_cell_balanced_skips_empty_cells():
    groups = np.array([0] * 50 + [1] * 50)
    y = np.array([0, 1] * 25 + [0] * 50)  # cell (1, 1) is empty
    batch = next(iter(_sampler("cell_balanced", groups, y, batch_size=30)))
    cells = groups[batch.numpy()] * 2 + y[batch.numpy()]
    assert sorted(np.bincount(cells, minlength=4).tolist()) == [0, 10, 10, 10]


def test_without_replacement_within_a_batch_when_possible():
    groups = np.repeat([0, 1], 100)
    batch = next(iter(_sampler("group_balanced", groups, np.zeros(200, dtype=int), 100)))
    assert len(set(batch.tolist())) == 100


def test_same_seed_same_batches_and_n_batches():
    groups = np.repeat([0, 1], 50)
    y = np.tile([0, 1], 50)
    first = [b.tolist() for b in _sampler("cell_balanced", groups, y, seed=3, n_batches=7)]
    second = [b.tolist() for b in _sampler("cell_balanced", groups, y, seed=3, n_batches=7)]
    assert first == second and len(first) == 7


def test_unknown_sampling():
    with pytest.raises(ValueError, match="sampling must be one of"):
        _sampler("stratified", np.zeros(3), np.zeros(3))
