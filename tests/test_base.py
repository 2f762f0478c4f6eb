# SPDX-License-Identifier: BSD-3-Clause
"""The FairNetClassifier contract, checked through ERMClassifier and FairRegClassifier."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skfairnn import (
    ERMClassifier,
    FairMixupClassifier,
    FairnessWarning,
    FairRegClassifier,
    GCMClassifier,
)
from skfairnn.modules import ConvNet

SMALL = dict(max_epochs=3, batch_size=64, module__hidden_sizes=(8,), random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(int)
    A = rng.integers(0, 2, 200)
    return X, y, A


def test_predict_proba_shape_and_label_round_trip(data):
    X, y, _ = data
    labels = np.where(y == 1, "spam", "ham")
    clf = ERMClassifier(**SMALL).fit(X, labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    assert set(clf.predict(X)) <= {"spam", "ham"}
    assert clf.classes_.tolist() == ["ham", "spam"]
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])
    assert clf.decision_function(X).shape == (200,)


def test_random_state_makes_fits_identical(data):
    X, y, A = data
    first = FairRegClassifier(**SMALL).fit(X, y, sensitive_features=A).predict_proba(X)
    second = FairRegClassifier(**SMALL).fit(X, y, sensitive_features=A).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    other = FairRegClassifier(**{**SMALL, "random_state": 1}).fit(X, y, sensitive_features=A)
    assert not np.allclose(first, other.predict_proba(X))


def test_global_torch_rng_is_left_alone(data):
    X, y, _ = data
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    ERMClassifier(**SMALL).fit(X, y)
    assert torch.rand(1) == expected


def test_pandas_and_torch_inputs(data):
    X, y, A = data
    frame = pd.DataFrame(X, columns=list("abcd"))
    clf = FairRegClassifier(**SMALL).fit(frame, pd.Series(y), sensitive_features=pd.Series(A))
    assert clf.feature_names_in_.tolist() == list("abcd")
    clf_t = FairRegClassifier(**SMALL).fit(torch.tensor(X), torch.tensor(y), sensitive_features=A)
    np.testing.assert_allclose(clf.predict_proba(frame), clf_t.predict_proba(X), atol=1e-6)


def test_sample_weight_changes_the_fit_and_zero_weight_rows_are_ignored(data):
    X, y, _ = data
    weights = np.ones(len(y))
    weights[:100] = 0.0
    # same rows, same order of batches: zero-weight rows must not contribute to the gradient
    # (their labels do count towards the base rate that prior_correction matches)
    weighted = ERMClassifier(**SMALL, prior_correction=None).fit(X, y, sample_weight=weights)
    flipped = y.copy()
    flipped[:100] = 1 - flipped[:100]
    relabelled = ERMClassifier(**SMALL, prior_correction=None)
    relabelled.fit(X, flipped, sample_weight=weights)
    np.testing.assert_allclose(weighted.predict_proba(X), relabelled.predict_proba(X), atol=1e-5)
    plain = ERMClassifier(**SMALL).fit(X, y)
    assert not np.allclose(plain.predict_proba(X), weighted.predict_proba(X))


def test_string_and_intersectional_groups_train_with_finite_output(data):
    X, y, A = data
    sex = np.where(A == 1, "F", "M")
    race = np.array(["b", "w", "a", "w"] * 50)
    clf = FairRegClassifier(**SMALL).fit(
        X, y, sensitive_features=pd.DataFrame({"s": sex, "r": race})
    )
    assert len(clf.sensitive_groups_) == 6
    assert np.isfinite(clf.predict_proba(X)).all()
    losses = clf.history[:, "train_loss"]
    assert np.isfinite(losses).all()


def test_empty_cell_trains_with_finite_loss(data):
    X, y, A = data
    A = A.copy()
    A[(A == 1) & (y == 1)] = 0  # group 1 has no positive row
    for sampling in ("random", "cell_balanced", "group_balanced"):
        clf = FairRegClassifier(**SMALL, sampling=sampling, constraint="equalized_odds")
        clf.fit(X, y, sensitive_features=A)
        assert np.isfinite(clf.history[:, "train_loss"]).all()
        assert np.isfinite(clf.history[:, "train_fairness_penalty"]).all()


def test_fairness_penalty_is_logged_and_absent_without_groups(data):
    X, y, A = data
    clf = FairRegClassifier(**SMALL).fit(X, y, sensitive_features=A)
    assert len(clf.history[:, "train_fairness_penalty"]) == SMALL["max_epochs"]
    with pytest.warns(FairnessWarning, match="without sensitive_features"):
        plain = FairRegClassifier(**SMALL).fit(X, y)
    assert "train_fairness_penalty" not in plain.history[-1]
    assert plain.sensitive_groups_ is None


def test_fairreg_reduces_the_equalized_odds_gap(biased_data):
    X, y, group = biased_data
    common = dict(
        max_epochs=15,
        batch_size=256,
        lr=3e-3,
        module__hidden_sizes=(16,),
        random_state=0,
        sampling="random",
    )

    def eo_gap(clf):
        pred = clf.predict(X)
        rates = [[pred[(group == g) & (y == k)].mean() for g in (0, 1)] for k in (0, 1)]
        return sum(abs(r[0] - r[1]) for r in rates)

    erm = ERMClassifier(**common).fit(X, y, sensitive_features=group)
    fair = FairRegClassifier(fairness_weight=3.0, **common).fit(X, y, sensitive_features=group)
    assert eo_gap(erm) > 0.15
    assert eo_gap(fair) < 0.6 * eo_gap(erm)
    assert fair.score(X, y) > 0.7
    assert 0.05 < fair.predict(X).mean() < 0.95


def test_three_groups_reduce_the_worst_pair_gap(biased_data):
    X, y, group = biased_data
    three = group + (np.arange(len(group)) % 3 == 0) * (group == 0) * 2
    common = dict(
        max_epochs=15,
        batch_size=256,
        lr=3e-3,
        module__hidden_sizes=(16,),
        random_state=0,
        constraint="demographic_parity",
        sampling="random",
    )

    def dp_gap(clf):
        rates = [clf.predict(X)[three == g].mean() for g in range(3)]
        return max(rates) - min(rates)

    erm = FairRegClassifier(fairness_weight=0.0, **common).fit(X, y, sensitive_features=three)
    fair = FairRegClassifier(fairness_weight=3.0, **common).fit(X, y, sensitive_features=three)
    assert dp_gap(fair) < 0.6 * dp_gap(erm)


def test_images_train_with_a_cnn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3, 8, 8)).astype(np.float32)
    y = (X[:, 0].mean((1, 2)) > 0).astype(int)
    clf = FairRegClassifier(module=ConvNet, module__channels=(4,), max_epochs=2, batch_size=32)
    clf.fit(X, y, sensitive_features=rng.integers(0, 2, 64))
    assert clf.predict_proba(X).shape == (64, 2)
    with pytest.raises(ValueError):
        clf.predict(X[:, :2])


def test_clone_pickle_and_set_params(data):
    X, y, A = data
    clf = FairRegClassifier(**SMALL).fit(X, y, sensitive_features=A)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    fresh = clone(clf).set_params(fairness_weight=0.5, module__hidden_sizes=(4,))
    assert fresh.get_params()["fairness_weight"] == 0.5
    fresh.fit(X, y, sensitive_features=A)
    assert fresh.module_.net[0].out_features == 4


def test_warm_start_and_partial_fit_continue_training(data):
    X, y, A = data
    clf = FairRegClassifier(**SMALL).fit(X, y, sensitive_features=A)
    clf.partial_fit(X, y, sensitive_features=A)
    assert len(clf.history) == 2 * SMALL["max_epochs"]
    with pytest.raises(ValueError, match="not seen during fit"):
        clf.partial_fit(X, y, sensitive_features=A + 5)


BAD_INPUTS = [
    (lambda X, y, A: (np.where(np.arange(len(X))[:, None] == 3, np.nan, X), y, A), {}, "NaN"),
    (lambda X, y, A: (np.where(np.arange(len(X))[:, None] == 3, np.inf, X), y, A), {}, "infinity"),
    (lambda X, y, A: (X, y, np.where(np.arange(len(A)) == 2, np.nan, A)), {}, "sensitive_features"),
    (lambda X, y, A: (X, y, A[:-1]), {}, "sensitive_features has 199 rows"),
    (lambda X, y, A: (X, y + np.linspace(0, 0.5, len(y)), A), {}, "continuous|Unknown label"),
    (lambda X, y, A: (X, np.column_stack([y, y]), A), {}, "y"),
    (lambda X, y, A: (X[:, 0], y, A), {}, "2D array"),
    (lambda X, y, A: (X[:0], y[:0], A[:0]), {}, "0 sample"),
    (lambda X, y, A: (X, y % 2 + (np.arange(len(y)) % 3 == 0), A), {}, "Only binary"),
    (lambda X, y, A: (X, y, np.zeros_like(A)), {}, "single group"),
    (lambda X, y, A: (X, y, A), {"fairness_weight": -1.0}, "fairness_weight"),
    (lambda X, y, A: (X, y, A), {"constraint": "fairest"}, "constraint"),
    (lambda X, y, A: (X, y, A), {"sampling": "stratified"}, "sampling"),
]


@pytest.mark.parametrize("cls", [FairRegClassifier, FairMixupClassifier])
@pytest.mark.parametrize("make, params, message", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(data, make, params, message, cls):
    X, y, A = make(*data)
    with pytest.raises((ValueError, TypeError), match=message):
        cls(**SMALL, **params).fit(X, y, sensitive_features=A)


def test_bad_sample_weight(data):
    X, y, A = data
    with pytest.raises(ValueError, match="sample_weight must be finite and non-negative"):
        ERMClassifier(**SMALL).fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(200,\)"):
        ERMClassifier(**SMALL).fit(X, y, sample_weight=np.ones(3))


def test_predict_errors(data):
    X, y, A = data
    with pytest.raises(NotFittedError):
        ERMClassifier().predict(X)
    clf = ERMClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])


def test_module_with_wrong_output_shape_is_named(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="one logit per row"):
        ERMClassifier(
            module=torch.nn.Linear, module__in_features=4, module__out_features=2, max_epochs=1
        ).fit(X, y)


def test_sparse_input_is_densified(data):
    import scipy.sparse as sp

    X, y, A = data
    dense = FairRegClassifier(**SMALL).fit(X, y, sensitive_features=A)
    sparse = FairRegClassifier(**SMALL).fit(sp.csr_matrix(X), y, sensitive_features=A)
    np.testing.assert_allclose(dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X)))


def test_diverging_training_raises_a_clear_error(data):
    X, y, _ = data
    with pytest.raises(FloatingPointError, match="training diverged. Lower lr"):
        ERMClassifier(**{**SMALL, "lr": 1e30}, optimizer=torch.optim.SGD).fit(X * 1e10, y)


def test_iterator_train_batch_size_is_honoured(data):
    X, y, A = data
    n = 200
    clf = FairRegClassifier(
        batch_size=100,
        iterator_train__batch_size=10,
        sampling="random",
        max_epochs=1,
        module__hidden_sizes=(4,),
        random_state=0,
    ).fit(X[:n], y[:n], sensitive_features=A[:n])
    assert clf.history[-1, "train_batch_count"] == n // 10
    assert {b["train_batch_size"] for b in clf.history[-1, "batches"]} == {10}
    # the evaluation iterator's batch size only changes how predictions are batched
    other = clone(clf).set_params(iterator_valid__batch_size=7)
    other.fit(X[:n], y[:n], sensitive_features=A[:n])
    np.testing.assert_allclose(
        other.decision_function(X[:20]), clf.decision_function(X[:20]), rtol=1e-5, atol=1e-6
    )


def test_a_fit_leaves_no_private_state_on_the_estimator(data):
    from skorch import NeuralNet

    X, y, A = data
    clf = GCMClassifier(**SMALL).fit(X, y, sensitive_features=A)
    plain = NeuralNet(
        torch.nn.Linear(X.shape[1], 1),
        torch.nn.BCEWithLogitsLoss,
        max_epochs=1,
        train_split=None,
        verbose=0,
    )
    plain.fit(X.astype(np.float32), y.astype(np.float32)[:, None])
    skorch_private = {k for k in vars(plain) if k.startswith("_")}
    ours = {k for k in vars(clf) if k.startswith("_")}
    assert ours <= skorch_private, ours - skorch_private
    assert clf.n_groups_ == 2
    # the per-fit objects (tensors, generator) are not pickled with the model
    assert b"Generator" not in pickle.dumps(clf)
