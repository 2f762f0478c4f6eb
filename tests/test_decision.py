# SPDX-License-Identifier: BSD-3-Clause
"""Decisions for the data's prior (prior_correction) and the collapse warning."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import FixedThresholdClassifier, TunedThresholdClassifierCV

from skfairnn import CollapseWarning, ERMClassifier, FairRegClassifier, GCMClassifier
from skfairnn._decision import (
    PRIOR_CORRECTIONS,
    match_rate_offset,
    max_accuracy_offset,
    prior_shift_offset,
    ranking_auc,
)
from skfairnn.datasets import make_biased_classification
from skfairnn.sampling import label_prior

RULES = (*PRIOR_CORRECTIONS, None)
SAMPLINGS = ("random", "group_balanced", "cell_balanced")


@pytest.fixture(scope="module")
def rare():
    """5 % positives, two groups."""
    return make_biased_classification(
        1200, bias="class_size", positive_fraction=0.05, random_state=0
    )[:3]


def test_offsets_against_brute_force():
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.1).astype(int)
    logits = rng.normal(size=500) + 2.0 * y - 1.0

    def accuracy(offset):
        return np.mean((logits + offset >= 0) == y)

    best = max(accuracy(b) for b in np.linspace(-6, 6, 4001))
    chosen = max_accuracy_offset(logits, y)
    standard_error = np.sqrt(best * (1 - best) / len(y))
    assert best - standard_error - 1e-9 <= accuracy(chosen) <= best
    # on rare positives the plain maximum is "predict nothing"; the rule keeps positives
    weak = rng.normal(size=500) + 0.8 * y
    best_weak = max(np.mean((weak + b >= 0) == y) for b in np.linspace(-6, 6, 4001))
    nothing = np.mean(y == 0)
    assert best_weak - nothing < np.sqrt(best_weak * (1 - best_weak) / len(y))
    assert np.mean(weak + max_accuracy_offset(weak, y) >= 0) > 0.02
    assert np.mean(logits + match_rate_offset(logits, 0.1) >= 0) == pytest.approx(0.1)
    assert np.mean(logits + match_rate_offset(logits, 0.0) >= 0) == 0.0
    assert prior_shift_offset(0.5, 0.5) == 0.0
    assert prior_shift_offset(0.1, 0.5) == pytest.approx(np.log(0.1 / 0.9))


def test_label_prior_of_each_sampler():
    groups = np.array([0, 0, 0, 0, 1, 1])
    y = np.array([0, 0, 0, 1, 0, 1])
    assert label_prior("random", groups=groups, y=y) == pytest.approx(2 / 6)
    # group-balanced: each group half the mass; P(y=1 | g) = 1/4 and 1/2
    assert label_prior("group_balanced", groups=groups, y=y) == pytest.approx(0.375)
    assert label_prior("cell_balanced", groups=groups, y=y) == pytest.approx(0.5)
    weight = np.array([1, 1, 1, 0, 1, 1.0])  # group 0's positive cell is empty
    assert label_prior("cell_balanced", groups=groups, y=y, sample_weight=weight) == (
        pytest.approx(1 / 3)
    )


@pytest.mark.parametrize("rule", RULES)
def test_predict_agrees_with_decision_function_and_proba(rare, rule):
    X, y, A = rare
    clf = GCMClassifier(prior_correction=rule, max_epochs=2, random_state=0)
    clf.fit(X, y, sensitive_features=A)
    decision = clf.decision_function(X)
    predicted = clf.predict(X)
    np.testing.assert_array_equal(predicted, clf.classes_[(decision >= 0).astype(int)])
    np.testing.assert_array_equal(predicted, clf.classes_[clf.predict_proba(X).argmax(1)])
    assert (clf.decision_offset_ == 0.0) == (rule is None)
    assert "train_auc" in clf.history[-1] and "decision_offset" in clf.history[-1]


def test_balanced_batches_no_longer_over_predict_positives(rare):
    """The issue's failure: cell-balanced batches at 0.5 predict positives at several times
    the base rate; the default decision keeps the rate near it and the accuracy up."""
    X, y, A = rare
    raw = FairRegClassifier(prior_correction=None, max_epochs=5, random_state=0)
    raw.fit(X, y, sensitive_features=A)
    shipped = FairRegClassifier(max_epochs=5, random_state=0).fit(X, y, sensitive_features=A)
    assert raw.predict(X).mean() > 3 * y.mean()
    assert shipped.predict(X).mean() < 2 * y.mean()
    assert np.mean(shipped.predict(X) == y) > np.mean(raw.predict(X) == y) + 0.1
    # the same network underneath: only the offset differs
    np.testing.assert_allclose(
        raw.decision_function(X) + shipped.decision_offset_, shipped.decision_function(X)
    )


@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("rule", RULES)
def test_a_collapsed_fit_always_warns(rare, sampling, rule):
    """λ=100 on 5 % positives: whenever the fit has lost its ranking or predicts one class,
    the CollapseWarning names fairness_weight, whatever the sampling and decision rule."""
    X, y, A = rare
    clf = FairRegClassifier(
        fairness_weight=100.0,
        sampling=sampling,
        prior_correction=rule,
        max_epochs=3,
        lr=1e-2,
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y, sensitive_features=A)
    collapse = [w for w in caught if issubclass(w.category, CollapseWarning)]
    scores = clf.decision_function(X)
    auc = roc_auc_score(y, scores)
    one_class = len(np.unique(clf.predict(X))) == 1
    if auc <= 0.55 or one_class:
        assert collapse, f"collapsed (AUC {auc:.3f}, one class {one_class}) without a warning"
        assert "fairness_weight" in str(collapse[0].message)


def test_collapse_warning_fires_under_every_rule_when_ranking_is_lost(rare):
    """A rate-based check alone would miss a rate-matched collapse: the AUC check catches it."""
    X, y, A = rare
    for rule in RULES:
        clf = FairRegClassifier(
            fairness_weight=100.0, sampling="random", prior_correction=rule,
            max_epochs=3, lr=1e-2, random_state=0,
        )  # fmt: skip
        with pytest.warns(CollapseWarning, match="fairness_weight"):
            clf.fit(X, y, sensitive_features=A)
        assert roc_auc_score(y, clf.decision_function(X)) <= 0.6


def test_a_healthy_fit_does_not_warn(rare):
    X, y, A = rare
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        ERMClassifier(max_epochs=5, random_state=0).fit(X, y)


def test_threshold_wrappers_of_scikit_learn(rare):
    X, y, A = rare
    fixed = FixedThresholdClassifier(
        ERMClassifier(max_epochs=2, random_state=0),
        threshold=0.0,
        response_method="decision_function",
    ).fit(X, y)
    inner = fixed.estimator_
    np.testing.assert_array_equal(fixed.predict(X), inner.predict(X))
    with sklearn.config_context(enable_metadata_routing=True):
        tuned = TunedThresholdClassifierCV(
            GCMClassifier(max_epochs=2, random_state=0),
            scoring="balanced_accuracy",
            cv=2,
            random_state=0,
        ).fit(X, y, sensitive_features=A)
    assert tuned.predict(X).shape == y.shape
    assert 0 < tuned.predict(X).mean() < 1
    assert np.isfinite(tuned.best_threshold_)


@pytest.mark.parametrize("n, decimals", [(2, 3), (7, 0), (500, 1), (5000, 3)])
def test_ranking_auc_is_roc_auc_score_with_ties(n, decimals):
    rng = np.random.default_rng(n)
    scores = np.round(rng.normal(size=n), decimals)  # decimals=0: mostly ties
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    assert ranking_auc(scores, y) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert ranking_auc(-scores, y) == pytest.approx(1 - roc_auc_score(y, scores), abs=1e-12)
