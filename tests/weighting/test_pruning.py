# SPDX-License-Identifier: BSD-3-Clause
"""InfluencePruner: selection rule, strategies, errors, sklearn integration."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skfairnn import ERMClassifier, FairRegClassifier, InfluencePruner, weighting
from skfairnn.cells import CONSTRAINTS
from skfairnn.influence import fairness_influence_scores
from skfairnn.modules import HingeLoss

SMALL = dict(module__hidden_sizes=(8,), max_epochs=2, random_state=0)


@pytest.fixture(scope="module")
def data(biased_data):
    X, y, group = biased_data
    return X[:400], y[:400], group[:400]


def test_keeps_largest_absolute_fairness_scores(data):
    X, y, A = data
    pruner = InfluencePruner(
        FairRegClassifier(constraint="demographic_parity", **SMALL),
        keep_fraction=0.25,
        random_state=0,
    ).fit(X, y, sensitive_features=A)
    assert pruner.sample_weight_.sum() == 100
    assert set(np.unique(pruner.sample_weight_)) == {0.0, 1.0}
    assert pruner.output_ == "logit"  # the default: the paper's f
    np.testing.assert_allclose(
        pruner.scores_,
        fairness_influence_scores(pruner.estimator_, X, y, A, output="logit"),
        rtol=1e-6,
    )
    kept = np.abs(pruner.scores_)[pruner.support_]
    assert kept.min() >= np.abs(pruner.scores_)[~pruner.support_].max()


@pytest.mark.parametrize(
    "estimator, output, expected",
    [
        (FairRegClassifier(constraint="demographic_parity", **SMALL), "auto", "proba"),
        (
            FairRegClassifier(constraint="demographic_parity", gap_scale="logit", **SMALL),
            "auto",
            "logit",
        ),
        (ERMClassifier(**SMALL), "auto", "proba"),  # no penalty: skfairnn's gaps are on p
        (FairRegClassifier(constraint="demographic_parity", **SMALL), "logit", "logit"),
    ],
)
def test_output_auto_follows_the_scoring_networks_gap_scale(data, estimator, output, expected):
    X, y, A = data
    pruner = InfluencePruner(estimator, output=output).fit(X, y, sensitive_features=A)
    assert pruner.output_ == expected
    reference = fairness_influence_scores(pruner.estimator_, X, y, A, output=expected)
    np.testing.assert_allclose(pruner.scores_, reference, rtol=1e-6)
    other = fairness_influence_scores(
        pruner.estimator_, X, y, A, output={"proba": "logit", "logit": "proba"}[expected]
    )
    assert not np.allclose(pruner.scores_, other, rtol=1e-3)


def test_default_output_is_the_papers_logit_and_auto_reads_the_scorer(data):
    X, y, A = data
    assert InfluencePruner().output == "logit"
    assert InfluencePruner(strategy="random", random_state=0).fit(X, y).output_ == "logit"
    assert InfluencePruner()._make_estimator().gap_scale == "proba"
    rand = InfluencePruner(strategy="random", output="auto", random_state=0).fit(X, y)
    assert rand.output_ == "proba"


def test_relaxed_joint_scores_are_eq15(data):
    """``relaxed="joint"``: c = ±1 (Eq. 16); on 30 % minority data it keeps other rows."""
    X, y, A = data
    scorer = FairRegClassifier(constraint="demographic_parity", **SMALL)
    joint = InfluencePruner(scorer, relaxed="joint").fit(X, y, sensitive_features=A)
    conditional = InfluencePruner(scorer).fit(X, y, sensitive_features=A)
    np.testing.assert_allclose(
        joint.scores_,
        fairness_influence_scores(joint.estimator_, X, y, A, relaxed="joint", output="logit"),
        rtol=1e-6,
    )
    assert 0.2 < A.mean() < 0.4 and (joint.support_ != conditional.support_).any()
    # the conditional reading weighs a minority row n / n_z times: it keeps more of them
    assert A[conditional.support_].mean() > A[joint.support_].mean()
    with pytest.raises(ValueError, match="'relaxed' parameter of InfluencePruner"):
        InfluencePruner(scorer, relaxed="marginal").fit(X, y, sensitive_features=A)
    with pytest.raises(ValueError, match="'output' parameter of InfluencePruner"):
        InfluencePruner(scorer, output="probability").fit(X, y, sensitive_features=A)


def test_strategies_differ_and_random_is_seeded(data):
    X, y, A = data
    est = ERMClassifier(**SMALL)
    fair = InfluencePruner(est, keep_fraction=0.3).fit(X, y, sensitive_features=A)
    acc = InfluencePruner(est, keep_fraction=0.3, strategy="accuracy").fit(X, y)
    rand = InfluencePruner(keep_fraction=0.3, strategy="random", random_state=1).fit(X, y)
    again = InfluencePruner(keep_fraction=0.3, strategy="random", random_state=1).fit(X, y)
    assert rand.estimator_ is None
    np.testing.assert_array_equal(rand.support_, again.support_)
    assert (fair.support_ != acc.support_).any() and (fair.support_ != rand.support_).any()


def test_accuracy_scores_are_loss_gradient_norms(data):
    import torch

    X, y, A = data
    pruner = InfluencePruner(ERMClassifier(**SMALL), strategy="accuracy").fit(X[:30], y[:30])
    module = pruner.estimator_.module_
    module.eval()
    expected = []
    for x, t in zip(torch.as_tensor(X[:30]), torch.as_tensor(y[:30], dtype=torch.float32)):
        module.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(
            module(x[None]).reshape(()), t
        ).backward()
        expected.append(torch.cat([p.grad.reshape(-1) for p in module.parameters()]).norm())
    np.testing.assert_allclose(pruner.scores_, torch.stack(expected).numpy(), rtol=1e-4)
    kept = pruner.scores_[pruner.support_]  # §6.1: removed in descending order
    assert kept.max() <= pruner.scores_[~pruner.support_].min()
    np.testing.assert_array_equal(np.sort(pruner.ranking_[:9]), np.flatnonzero(pruner.support_))


def test_hinge_loss():
    logits = np.array([2.0, 0.5, -0.3, -2.0])
    import torch

    loss = HingeLoss(reduction="none")(torch.tensor(logits), torch.tensor([1.0, 1.0, 0.0, 1.0]))
    np.testing.assert_allclose(loss.numpy(), [0.0, 0.5, 0.7, 3.0])
    assert weighting.HingeLoss is HingeLoss  # the old import path keeps working
    clf = FairRegClassifier(criterion=HingeLoss, constraint="demographic_parity", **SMALL)
    X = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    pruner = InfluencePruner(clf, keep_fraction=0.5).fit(X, y, sensitive_features=X[:, 1] > 0)
    assert pruner.sample_weight_.sum() == 30


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_default_scoring_network_penalises_the_pruners_constraint(constraint):
    network = InfluencePruner(constraint=constraint, random_state=0)._make_estimator()
    assert isinstance(network, FairRegClassifier) and network.constraint == constraint


@pytest.mark.parametrize(
    "constraint", ["false_positive_rate_parity", "true_positive_rate_parity", "fairest"]
)
def test_only_the_three_constraint_names(data, constraint):
    """The names of every other estimator; fairlearn aliases are for the functions only."""
    X, y, A = data
    with pytest.raises(ValueError, match="'constraint' parameter of InfluencePruner"):
        InfluencePruner(ERMClassifier(**SMALL), constraint=constraint).fit(
            X, y, sensitive_features=A
        )


@pytest.mark.parametrize("keep_fraction", [0, -0.1, 1.5])
def test_bad_keep_fraction(data, keep_fraction):
    X, y, A = data
    with pytest.raises(ValueError, match="keep_fraction"):
        InfluencePruner(keep_fraction=keep_fraction).fit(X, y, sensitive_features=A)


def test_bad_input(data):
    X, y, A = data
    with pytest.raises(ValueError, match="group"):
        InfluencePruner(ERMClassifier(**SMALL)).fit(X, y, sensitive_features=np.ones(len(X)))
    with pytest.raises(TypeError, match="torch-based skfairnn classifier"):
        InfluencePruner(LogisticRegression()).fit(X, y, sensitive_features=A)
    with pytest.raises(ValueError, match="needs sensitive_features"):
        InfluencePruner(ERMClassifier(**SMALL)).fit(X, y)
    with pytest.raises(ValueError, match="strategy"):
        InfluencePruner(strategy="loss").fit(X, y, sensitive_features=A)


def test_keep_all_and_clone(data):
    X, y, A = data
    pruner = InfluencePruner(
        ERMClassifier(**SMALL), keep_fraction=1.0, aggregate="batch", batch_size=100, random_state=0
    )
    assert clone(pruner).get_params()["keep_fraction"] == 1.0
    assert pruner.fit(X, y, sensitive_features=A).sample_weight_.all()


def test_grid_search_over_keep_fraction(data):
    """Routing of sensitive_features through GridSearchCV to the pruner."""
    X, y, A = data

    class Subsample(sklearn.base.ClassifierMixin, sklearn.base.BaseEstimator):
        """Stand-in for ReweightedClassifier: prune, then fit a classifier on the weights."""

        __metadata_request__fit = {"sensitive_features": True}

        def __init__(self, weighter=None):
            self.weighter = weighter

        def fit(self, X, y, sensitive_features=None):
            self.weighter_ = clone(self.weighter).fit(X, y, sensitive_features=sensitive_features)
            self.clf_ = LogisticRegression().fit(X, y, sample_weight=self.weighter_.sample_weight_)
            self.classes_ = self.clf_.classes_
            return self

        def predict(self, X):
            return self.clf_.predict(X)

    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            Subsample(InfluencePruner(ERMClassifier(**SMALL))),
            {"weighter__keep_fraction": [0.3, 0.6]},
            cv=2,
        ).fit(X, y, sensitive_features=A)
    assert search.best_params_["weighter__keep_fraction"] in (0.3, 0.6)


def test_stratified_keeps_fraction_of_every_cell(data):
    X, y, A = data
    pruner = InfluencePruner(ERMClassifier(**SMALL), keep_fraction=0.25, stratify=True)
    pruner.fit(X, y, sensitive_features=A)
    for a in (0, 1):
        for label in (0, 1):
            cell = (A == a) & (y == label)
            assert abs(pruner.support_[cell].mean() - 0.25) < 0.05
            kept = np.abs(pruner.scores_)[cell & pruner.support_]
            assert kept.min() >= np.abs(pruner.scores_)[cell & ~pruner.support_].max()
    with pytest.raises(ValueError, match="needs sensitive_features"):
        InfluencePruner(strategy="random", stratify=True).fit(X, y)


def test_reweighted_classifier_pipeline_grid_search(data):
    """InfluencePruner through ReweightedClassifier in a Pipeline and GridSearchCV."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skfairnn import ReweightedClassifier

    X, y, A = data
    pipe = make_pipeline(
        StandardScaler(),
        ReweightedClassifier(
            InfluencePruner(FairRegClassifier(constraint="demographic_parity", **SMALL)),
            ERMClassifier(**SMALL),
        ),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            pipe, {"reweightedclassifier__weighter__keep_fraction": [0.3, 0.6]}, cv=2
        ).fit(X, y, sensitive_features=A)
    fitted = search.best_estimator_[-1]
    keep = search.best_params_["reweightedclassifier__weighter__keep_fraction"]
    assert fitted.weighter_.sample_weight_.sum() == round(keep * len(X))
    assert search.predict(X[:5]).shape == (5,)


class _GroupOneFirst(InfluencePruner):
    """Scores that rank every row of group 1 above group 0 (a skewed kept set)."""

    def _score(self, X, y, sensitive_features, rng):
        return np.asarray(sensitive_features, dtype=float) + rng.random_sample(len(X)) * 0.1


def test_warns_when_the_kept_rows_nearly_lose_a_group(data):
    X, y, A = data
    est = ERMClassifier(**SMALL)
    share = float(np.mean(A == 1))
    with pytest.warns(UserWarning, match=r"sensitive_features=0 against"):
        _GroupOneFirst(est, keep_fraction=share / 2).fit(X, y, sensitive_features=A)
    # within-cell ranking keeps every group: no warning
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*against", category=UserWarning)
        _GroupOneFirst(est, keep_fraction=share / 2, stratify=True).fit(X, y, sensitive_features=A)


@pytest.mark.parametrize("method", ["fairer", "gcm"])
def test_pruned_rows_retrain_gradient_matching_methods(method):
    """Pruning a whole (group, label) cell (weights 0) used to make FAIRER diverge."""
    from skfairnn import FairerClassifier, GCMClassifier, ReweightedClassifier
    from skfairnn.datasets import make_biased_classification

    X, y, A = make_biased_classification(400, random_state=0)
    pruner = InfluencePruner(ERMClassifier(**SMALL), keep_fraction=0.2, strategy="accuracy")
    net = {
        "fairer": FairerClassifier(alignment_weight=0.1, constraint="equalized_odds", **SMALL),
        "gcm": GCMClassifier(**SMALL),
    }[method]
    clf = ReweightedClassifier(pruner, net).fit(X, y, sensitive_features=A)
    kept = clf.weighter_.sample_weight_
    assert kept[(A == 1) & (y == 0)].sum() == 0  # the whole cell (1, 0) is pruned
    assert np.isfinite(clf.estimator_.history[:, "train_loss"]).all()
    assert clf.predict(X[:5]).shape == (5,)
