# SPDX-License-Identifier: BSD-3-Clause
"""Fair-SMOTE: balanced (group, label) cells, reproducible synthetic rows, situation testing."""

import builtins

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from skfairnn import ERMClassifier, FairSMOTEClassifier
from skfairnn._batches import FairDataset, observed_rows, training_tensors
from skfairnn.datasets import make_biased_classification
from skfairnn.methods.fair_smote import fair_smote_resample, situation_testing_weights
from skfairnn.metrics import equalized_odds_difference

pytest.importorskip("imblearn")
# the tiny fits here (2 epochs on a few dozen rows) are not meant to learn the task
pytestmark = [
    pytest.mark.filterwarnings("ignore::skfairnn.exceptions.CollapseWarning"),
    pytest.mark.usefixtures("one_torch_thread"),
]

TINY = dict(max_epochs=2, module__hidden_sizes=(8,), random_state=0)


def _cells(n_per_cell, seed=0):
    """Rows in (group, label) cells of the given sizes (cell code 2 * group + y)."""
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(len(n_per_cell)), n_per_cell)
    X = rng.normal(size=(len(codes), 3)) + codes[:, None]
    return X.astype(np.float32), codes % 2, codes // 2


def test_every_cell_is_oversampled_to_the_largest_within_the_cell():
    X, y, group = _cells([40, 10, 7, 25])
    X_new, y_new, g_new, weight = fair_smote_resample(X, y, group, random_state=0)
    assert_array_equal(np.bincount(2 * g_new + y_new), [40, 40, 40, 40])
    assert_array_equal(X_new[: len(X)], X)  # the rows passed in come first, unchanged
    assert_allclose(weight, 1.0)
    # a synthetic row lies on a segment between two rows of its own cell: inside its cell's box
    for cell in range(4):
        rows, synthetic = 2 * group + y == cell, (2 * g_new + y_new == cell)
        synthetic[: len(X)] = False
        lo, hi = X[rows].min(axis=0), X[rows].max(axis=0)
        assert np.all((X_new[synthetic] >= lo - 1e-6) & (X_new[synthetic] <= hi + 1e-6))


def test_balance_ratio_and_weights():
    X, y, group = _cells([40, 10, 7, 25])
    _, y_new, g_new, _ = fair_smote_resample(X, y, group, balance_ratio=0.5, random_state=0)
    assert_array_equal(np.bincount(2 * g_new + y_new), [40, 20, 20, 25])  # round(0.5 * 40)
    weight = np.ones(len(X))
    weight[:5] = 0.0  # five rows of the largest cell leave it: 35 is the target
    weight[40:50] = 3.0  # cell 1 weighs 3: its synthetic rows too
    _, y_new, g_new, w_new = fair_smote_resample(X, y, group, weight, random_state=0)
    counted = np.bincount(2 * g_new + y_new, weights=w_new > 0)
    assert_array_equal(counted, [35, 35, 35, 35])
    raw = np.concatenate([weight, np.repeat([3.0, 1.0, 1.0], [25, 28, 10])])
    assert_allclose(w_new, raw / raw[raw > 0].mean(), rtol=1e-6)


def test_synthetic_rows_are_fixed_by_random_state():
    X, y, group = _cells([40, 10, 7, 25])
    first = fair_smote_resample(X, y, group, random_state=3)[0]
    assert_array_equal(fair_smote_resample(X, y, group, random_state=3)[0], first)
    assert not np.array_equal(fair_smote_resample(X, y, group, random_state=4)[0], first)


def test_fit_is_reproducible_and_differs_from_erm(biased_data):
    X, y, A = biased_data
    first = FairSMOTEClassifier(**TINY).fit(X, y, sensitive_features=A).predict_proba(X)
    again = FairSMOTEClassifier(**TINY).fit(X, y, sensitive_features=A).predict_proba(X)
    assert_array_equal(first, again)
    erm = ERMClassifier(**TINY).fit(X, y, sensitive_features=A).predict_proba(X)
    assert not np.allclose(first, erm)


def test_small_and_empty_cells_are_clear_errors():
    X, y, group = _cells([40, 5, 7, 25])
    with pytest.raises(ValueError, match=r"k_neighbors=5.*at least k_neighbors \+ 1 = 6"):
        FairSMOTEClassifier(**TINY).fit(X, y, sensitive_features=group)
    FairSMOTEClassifier(k_neighbors=4, **TINY).fit(X, y, sensitive_features=group)
    X, y, group = _cells([40, 0, 7, 25])
    with pytest.raises(ValueError, match=r"sensitive_features.*\(group 0, label 1\)"):
        FairSMOTEClassifier(**TINY).fit(X, y, sensitive_features=group)


def test_decision_rule_sees_only_the_rows_passed_to_fit():
    X, y, group = _cells([40, 10, 7, 25])
    X_new, y_new, g_new, w_new = fair_smote_resample(X, y, group, random_state=0)
    dataset = FairDataset(X_new, y_new, group=g_new, sample_weight=w_new, sampling="random",
                          n_batches=None, seed=0, device="cpu", n_observed=len(X))  # fmt: skip
    tensors, y_seen, _ = training_tensors(observed_rows(dataset))
    assert_array_equal(tensors["X"].numpy(), X)
    assert_array_equal(y_seen.numpy(), y)
    subset = torch.utils.data.Subset(dataset, [0, len(X) + 1, 3])
    assert list(observed_rows(subset).indices) == [0, 3]
    # the decision rule's positive rate is measured on the 82 rows passed to fit, not 160
    clf = FairSMOTEClassifier(**TINY).fit(X, y, sensitive_features=group)
    assert clf.history[-1, "train_positive_rate"] == pytest.approx(
        np.mean(clf.decision_function(X) >= 0)
    )


def test_reduces_the_equalized_odds_gap_of_erm():
    X, y, a = make_biased_classification(2000, bias="distribution_shift", random_state=0)
    Xt, yt, at = make_biased_classification(2000, bias="distribution_shift", random_state=100)
    params = dict(max_epochs=10, module__hidden_sizes=(16,), lr=1e-2, random_state=0)
    gaps = {}
    for cls in (ERMClassifier, FairSMOTEClassifier):
        clf = cls(**params).fit(X, y, sensitive_features=a)
        gaps[cls] = equalized_odds_difference(yt, clf.predict(Xt), sensitive_features=at)
    # measured: ERM 0.705, Fair-SMOTE 0.517
    assert gaps[FairSMOTEClassifier] < gaps[ERMClassifier] - 0.1


def test_situation_testing_drops_rows_whose_prediction_flips_with_the_group():
    rng = np.random.default_rng(0)
    n = 600
    group = rng.integers(0, 2, n)
    signal = rng.normal(size=n)
    X = np.column_stack([signal, 3.0 * group, rng.normal(size=n)]).astype(np.float32)
    y = (signal + 1.5 * group + rng.normal(scale=0.3, size=n) > 0.75).astype(int)
    weight = situation_testing_weights(X, y, group, column=1, random_state=0)
    # by hand: the same logistic regression, predictions with column 1 swapped between 0 and 3
    from sklearn.linear_model import LogisticRegression

    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    model = LogisticRegression(C=1.0, solver="liblinear", random_state=seed).fit(X, y)
    flipped = X.copy()
    flipped[:, 1] = 3.0 - X[:, 1]
    changed = model.predict(X) != model.predict(flipped)
    assert 0 < changed.sum() < n
    assert_array_equal(weight == 0, changed)
    clf = FairSMOTEClassifier(situation_testing=1, **TINY).fit(X, y, sensitive_features=group)
    assert clf.predict(X).shape == (n,)


def test_situation_testing_needs_the_group_as_a_binary_column():
    X, y, group = _cells([40, 10, 7, 25])
    with pytest.raises(ValueError, match="situation_testing=0 .*group 0 has"):
        FairSMOTEClassifier(situation_testing=0, **TINY).fit(X, y, sensitive_features=group)
    with pytest.raises(ValueError, match="situation_testing=7 .*3 columns"):
        FairSMOTEClassifier(situation_testing=7, **TINY).fit(X, y, sensitive_features=group)
    with pytest.raises(ValueError, match="situation_testing='sex'"):
        FairSMOTEClassifier(situation_testing="sex", **TINY).fit(X, y, sensitive_features=group)


def test_without_groups_the_data_is_unchanged(biased_data):
    X, y, _ = biased_data
    with pytest.warns(UserWarning, match="without sensitive_features"):
        smote = FairSMOTEClassifier(**TINY).fit(X, y)
    erm = ERMClassifier(**TINY).fit(X, y)
    assert_allclose(smote.predict_proba(X), erm.predict_proba(X), atol=1e-6)


def test_missing_imbalanced_learn_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_imblearn(name, *args, **kwargs):
        if name.startswith("imblearn"):
            raise ImportError("No module named 'imblearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_imblearn)
    X, y, group = _cells([40, 10, 7, 25])
    with pytest.raises(ImportError, match=r"skfairnn\[smote\]"):
        FairSMOTEClassifier(**TINY).fit(X, y, sensitive_features=group)
