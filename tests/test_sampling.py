# SPDX-License-Identifier: BSD-3-Clause
import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skfairnn import ERMClassifier
from skfairnn.sampling import (
    independence_shares,
    label_prior,
    make_batch_sampler,
    stratum_quotas,
)


def _sampler(sampling, groups, y, batch_size=40, seed=0, n_batches=None, sample_weight=None):
    return make_batch_sampler(
        sampling,
        groups=groups,
        y=y,
        batch_size=batch_size,
        generator=torch.Generator().manual_seed(seed),
        n_batches=n_batches,
        sample_weight=sample_weight,
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


def _pruned_weights(groups, y):
    """Weights 0 on every third row and on the whole cell (1, 1), as a pruner leaves them."""
    weight = np.ones(len(y))
    weight[::3] = 0.0
    weight[(groups == 1) & (y == 1)] = 0.0
    return weight


@pytest.mark.parametrize("sampling", ["random", "group_balanced", "cell_balanced", "dp_resampled"])
def test_zero_weight_rows_are_never_drawn(sampling):
    groups, y = np.repeat([0, 1], 50), np.tile([0, 1], 50)
    weight = _pruned_weights(groups, y)
    drawn = torch.cat(list(_sampler(sampling, groups, y, n_batches=20, sample_weight=weight)))
    assert (weight[drawn.numpy()] > 0).all()


def test_zero_weight_cell_counts_as_empty_and_random_covers_the_kept_rows():
    groups, y = np.repeat([0, 1], 50), np.tile([0, 1], 50)
    weight = _pruned_weights(groups, y)
    batch = next(iter(_sampler("cell_balanced", groups, y, 30, sample_weight=weight)))
    cells = groups[batch.numpy()] * 2 + y[batch.numpy()]
    assert np.bincount(cells, minlength=4).tolist() == [10, 10, 10, 0]
    kept = np.flatnonzero(weight > 0)
    batches = list(_sampler("random", groups, y, 20, sample_weight=weight))
    assert len(batches) == -(-len(kept) // 20)
    assert sorted(torch.cat(batches).tolist()) == kept.tolist()
    with pytest.raises(ValueError, match="no positive entry"):
        _sampler("random", groups, y, sample_weight=np.zeros(len(y)))


class _TrainingWeights(Callback):
    """Records the sample weights of every training batch."""

    def initialize(self):
        self.seen = []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            self.seen.append(batch[0]["sample_weight"])


@pytest.mark.parametrize("sampling", ["random", "cell_balanced"])
def test_fit_trains_on_rows_of_positive_weight_only(sampling):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    groups, y = np.repeat([0, 1], 100), np.tile([0, 1], 100)
    record = _TrainingWeights()
    clf = ERMClassifier(sampling=sampling, max_epochs=2, callbacks=[record], random_state=0)
    clf.fit(X, y, sensitive_features=groups, sample_weight=_pruned_weights(groups, y))
    assert record.seen and all((w > 0).all() for w in record.seen)


def test_unknown_sampling():
    with pytest.raises(ValueError, match="sampling must be one of"):
        _sampler("stratified", np.zeros(3), np.zeros(3))


def _dependent_cells():
    """Group 0: 45 positives, 15 negatives; group 1: 10 positives, 30 negatives."""
    groups = np.repeat([0, 1], [60, 40])
    y = np.concatenate([np.repeat([1, 0], [45, 15]), np.repeat([1, 0], [10, 30])])
    return groups, y


def test_dp_resampled_cells_follow_independence():
    # n_a n_y / n^2 with n_0 = 60, n_1 = 40, n_y=0 = 45, n_y=1 = 55 (Kamiran-Calders sizes)
    groups, y = _dependent_cells()
    codes, shares = independence_shares(groups, y)
    assert codes.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(shares, [0.27, 0.33, 0.18, 0.22])
    for batch in _sampler("dp_resampled", groups, y, batch_size=100, n_batches=3):
        cells = groups[batch.numpy()] * 2 + y[batch.numpy()]
        assert np.bincount(cells, minlength=4).tolist() == [27, 33, 18, 22]
    # within each group the labels now follow the overall 55 / 45
    batch = next(iter(_sampler("dp_resampled", groups, y, batch_size=100)))
    for a in (0, 1):
        assert y[batch.numpy()][groups[batch.numpy()] == a].mean() == pytest.approx(0.55)


def test_dp_resampled_rounds_by_largest_remainder():
    groups, y = _dependent_cells()
    # 10 rows: exact 2.7, 3.3, 1.8, 2.2; floors 2, 3, 1, 2; the two largest remainders get one
    batch = next(iter(_sampler("dp_resampled", groups, y, batch_size=10)))
    cells = groups[batch.numpy()] * 2 + y[batch.numpy()]
    assert np.bincount(cells, minlength=4).tolist() == [3, 3, 2, 2]
    assert stratum_quotas([0.98, 0.01, 0.01], 10) == [10, 1, 1]  # no cell drops out


def test_dp_resampled_skips_empty_cells_and_keeps_the_label_prior():
    groups, y = _dependent_cells()
    y = np.where(groups == 1, 0, y)  # cell (1, 1) empty: n_1 = 40, n_y=1 = 45, n_y=0 = 55
    codes, shares = independence_shares(groups, y)
    assert codes.tolist() == [0, 1, 2]
    np.testing.assert_allclose(shares, np.array([60 * 55, 60 * 45, 40 * 55]) / 8200)
    # the resampled distribution has the data's prior (sum_a n_a n_1 / n^2 = n_1 / n) ...
    groups, y = _dependent_cells()
    assert label_prior("dp_resampled", groups=groups, y=y) == pytest.approx(0.55)
    # ... among the rows of positive weight: pruned rows leave 30 + 8 of 80 positives
    weight = np.ones(len(y))
    weight[np.flatnonzero(y == 1)[::4]] = 0.0
    weight[np.flatnonzero(y == 0)[:5]] = 0.0
    kept = weight > 0
    assert label_prior("dp_resampled", groups=groups, y=y, sample_weight=weight) == (
        pytest.approx(y[kept].mean())
    )
