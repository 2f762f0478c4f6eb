# SPDX-License-Identifier: BSD-3-Clause
"""ReweightedClassifier (routing, delegation) and KamiranCaldersReweighter."""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfairnn import (
    ERMClassifier,
    FairIFReweighter,
    KamiranCaldersReweighter,
    ReweightedClassifier,
)
from skfairnn.modules import LogisticRegressionModule


class Recorder(ClassifierMixin, BaseEstimator):
    """Classifier that records the metadata its fit received."""

    __metadata_request__fit = {"sensitive_features": True, "sample_weight": True}

    def fit(self, X, y, sample_weight=None, sensitive_features=None):
        self.classes_ = np.unique(y)
        self.received_ = {"sample_weight": sample_weight, "sensitive_features": sensitive_features}
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


class ConstantWeighter(BaseEstimator):
    """Weighter giving row i the weight i + 1, recording its metadata."""

    __metadata_request__fit = {"sensitive_features": True, "sample_weight": True}

    def fit(self, X, y, *, sensitive_features=None, sample_weight=None):
        self.received_ = {"sample_weight": sample_weight, "sensitive_features": sensitive_features}
        self.sample_weight_ = np.arange(1.0, len(y) + 1)
        return self


def _data(n=60):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] > 0).astype(int)
    A = np.where(X[:, 1] > 0, "a", "b")
    return X, y, A


def test_kamiran_calders_makes_group_and_label_independent():
    X, y, A = _data(200)
    y = np.where(A == "a", (X[:, 0] > -0.5), (X[:, 0] > 0.7)).astype(int)
    weights = KamiranCaldersReweighter().fit(X, y, sensitive_features=A).sample_weight_
    for group in ("a", "b"):
        rate = weights[(A == group) & (y == 1)].sum() / weights[A == group].sum()
        assert rate == pytest.approx(np.average(y, weights=weights))
    assert weights.sum() == pytest.approx(len(y))
    user = np.where(np.arange(200) % 2 == 0, 2.0, 1.0)
    weighted = KamiranCaldersReweighter().fit(X, y, sensitive_features=A, sample_weight=user)
    combined = weighted.sample_weight_ * user
    for group in ("a", "b"):
        rate = combined[(A == group) & (y == 1)].sum() / combined[A == group].sum()
        assert rate == pytest.approx(np.average(y, weights=combined))
    with pytest.raises(ValueError, match="needs sensitive_features"):
        KamiranCaldersReweighter().fit(X, y)


def test_weights_are_multiplied_and_groups_passed_without_routing():
    X, y, A = _data()
    user = np.full(len(y), 2.0)
    clf = ReweightedClassifier(ConstantWeighter(), Recorder()).fit(
        X, y, sensitive_features=A, sample_weight=user
    )
    np.testing.assert_array_equal(clf.weighter_.received_["sensitive_features"], A)
    np.testing.assert_array_equal(clf.weighter_.received_["sample_weight"], user)
    np.testing.assert_array_equal(
        clf.estimator_.received_["sample_weight"], 2.0 * np.arange(1, len(y) + 1)
    )
    np.testing.assert_array_equal(clf.estimator_.received_["sensitive_features"], A)


def test_groups_with_missing_values_are_not_passed_to_the_estimator():
    X, y, A = _data()
    partial = np.where(np.arange(len(y)) < 20, A, None).astype(object)
    for routing in (False, True):
        with sklearn.config_context(enable_metadata_routing=routing):
            clf = ReweightedClassifier(ConstantWeighter(), Recorder())
            clf.fit(X, y, sensitive_features=partial)
        assert clf.estimator_.received_["sensitive_features"] is None
        assert clf.weighter_.received_["sensitive_features"] is partial


@pytest.mark.parametrize("estimator", [LogisticRegression(), HistGradientBoostingClassifier()])
def test_works_with_sklearn_estimators_and_delegates(estimator):
    X, y, A = _data()
    for routing in (False, True):
        with sklearn.config_context(enable_metadata_routing=routing):
            clf = ReweightedClassifier(KamiranCaldersReweighter(), estimator)
            clf.fit(X, y, sensitive_features=A, sample_weight=np.ones(len(y)))
        reference = clone(estimator).fit(X, y, sample_weight=clf.weighter_.sample_weight_)
        np.testing.assert_array_equal(clf.classes_, [0, 1])
        np.testing.assert_allclose(clf.predict_proba(X), reference.predict_proba(X))
        np.testing.assert_array_equal(clf.predict(X), reference.predict(X))
        np.testing.assert_allclose(clf.decision_function(X), reference.decision_function(X))
    without_proba = ReweightedClassifier(KamiranCaldersReweighter(), Recorder())
    assert not hasattr(without_proba, "predict_proba")


def test_estimator_without_sample_weight_is_a_clear_error():
    X, y, A = _data()
    with pytest.raises(TypeError, match="KNeighborsClassifier has no sample_weight"):
        ReweightedClassifier(KamiranCaldersReweighter(), KNeighborsClassifier()).fit(
            X, y, sensitive_features=A
        )


def test_grid_search_over_fairif_l2_weight_in_a_pipeline():
    rng = np.random.default_rng(0)
    n = 300
    group = rng.integers(0, 2, size=n)
    X = np.column_stack([rng.normal(size=n) + group, rng.normal(size=n)]).astype("float32")
    y = (X[:, 0] + rng.normal(size=n) > 0.5).astype(int)
    A = np.where(rng.random(n) < 0.5, group, None).astype(object)
    net = ERMClassifier(
        LogisticRegressionModule,
        optimizer=torch.optim.LBFGS,
        batch_size=-1,
        max_epochs=1,
        lr=1,
        random_state=0,
    )
    pipe = make_pipeline(
        StandardScaler(),
        ReweightedClassifier(FairIFReweighter(net, hessian="exact", random_state=0), net),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            pipe, {"reweightedclassifier__weighter__l2_weight": [0.01, 10.0]}, cv=2
        ).fit(X, y, sensitive_features=A)
    assert search.best_params_["reweightedclassifier__weighter__l2_weight"] in (0.01, 10.0)
    fitted = search.best_estimator_[-1]
    assert fitted.weighter_.validation_mask_.sum() == (A != None).sum()  # noqa: E711
    assert search.predict(X).shape == (n,)


def test_routing_sends_groups_to_an_in_processing_estimator_when_complete():
    X, y, A = _data()
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(), ReweightedClassifier(ConstantWeighter(), Recorder()))
        pipe.fit(X, y, sensitive_features=A)
    fitted = pipe[-1]
    np.testing.assert_array_equal(fitted.estimator_.received_["sensitive_features"], A)
    np.testing.assert_array_equal(
        fitted.estimator_.received_["sample_weight"], np.arange(1, len(y) + 1)
    )


@pytest.mark.parametrize("weight", [[1.0, -1.0], "shape", [np.nan, 1.0]])
def test_bad_user_sample_weight_is_a_clear_error(weight):
    X, y, A = [[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1], ["a", "a", "b", "b"]
    weight = np.ones(3) if isinstance(weight, str) else np.array(weight * 2)
    clf = ReweightedClassifier(KamiranCaldersReweighter(), LogisticRegression())
    with pytest.raises(ValueError, match="sample_weight must"):
        clf.fit(X, y, sensitive_features=A, sample_weight=weight)
