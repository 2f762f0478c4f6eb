# SPDX-License-Identifier: BSD-3-Clause
"""Sensitive features through Pipeline, GridSearchCV and cross_validate."""

import numpy as np
import pytest
import sklearn
from fairlearn.metrics import equalized_odds_difference
from sklearn.compose import make_column_transformer
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skfairnn import FairRegClassifier

SMALL = dict(max_epochs=2, batch_size=64, module__hidden_sizes=(8,), random_state=0)


class RecordingFairReg(FairRegClassifier):
    """Remembers the sensitive features each fit received."""

    def fit(self, X, y, *, sensitive_features=None, sample_weight=None):
        self.seen_groups_ = None if sensitive_features is None else np.asarray(sensitive_features)
        return super().fit(X, y, sensitive_features=sensitive_features, sample_weight=sample_weight)


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    A = rng.integers(0, 2, 300)
    X = rng.normal(size=(300, 4))
    X[:, 0] += A
    y = (X[:, 0] + rng.normal(size=300) > 0.5).astype(int)
    return X, y, A


def test_grid_search_routes_groups_to_fit_and_scorer(routing, data):
    X, y, A = data
    eod = make_scorer(equalized_odds_difference, greater_is_better=False).set_score_request(
        sensitive_features=True
    )
    pipe = make_pipeline(StandardScaler(), RecordingFairReg(**SMALL))
    search = GridSearchCV(
        pipe,
        {"recordingfairreg__fairness_weight": [0.0, 1.0]},
        scoring={"acc": "accuracy", "eod": eod},
        refit="acc",
        cv=3,
    ).fit(X, y, sensitive_features=A)
    assert np.all(search.cv_results_["mean_test_eod"] <= 0)
    np.testing.assert_array_equal(search.best_estimator_[-1].seen_groups_, A)


def test_cross_validate_slices_groups_per_fold(routing, data):
    X, y, A = data
    result = cross_validate(
        make_pipeline(StandardScaler(), FairRegClassifier(**SMALL)),
        X,
        y,
        params={"sensitive_features": A},
        cv=3,
        return_estimator=True,
    )
    assert all(len(est[-1].sensitive_groups_) == 2 for est in result["estimator"])


def test_groups_can_be_renamed_through_set_fit_request(routing, data):
    X, y, A = data
    clf = RecordingFairReg(**SMALL).set_fit_request(sensitive_features="race")
    make_pipeline(StandardScaler(), clf).fit(X, y, race=A)
    np.testing.assert_array_equal(clf.seen_groups_, A)
    with pytest.raises(TypeError, match="not routed to any object"):
        make_pipeline(StandardScaler(), clf).fit(X, y, sensitive_features=A)


def test_routing_off_uses_the_step_dunder(data):
    X, y, A = data
    pipe = make_pipeline(StandardScaler(), RecordingFairReg(**SMALL))
    pipe.fit(X, y, recordingfairreg__sensitive_features=A)
    np.testing.assert_array_equal(pipe[-1].seen_groups_, A)


def test_column_transformer_pipeline_with_categorical_columns(routing):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"job": rng.choice(["a", "b", "c"], 200), "age": rng.normal(40, 9, 200)})
    y = (frame["age"] > 40).astype(int)
    sex = rng.choice(["F", "M"], 200)
    pre = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["job"]), (StandardScaler(), ["age"])
    )
    pipe = make_pipeline(pre, FairRegClassifier(**SMALL)).fit(frame, y, sensitive_features=sex)
    assert pipe.predict_proba(frame).shape == (200, 2)
