# SPDX-License-Identifier: BSD-3-Clause
"""Tests of adversarial debiasing (skfairnn.methods.adversarial)."""

import copy
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from skfairnn import AdversarialClassifier, ERMClassifier
from skfairnn.exceptions import FairnessWarning
from skfairnn.gaps import fairness_gap
from skfairnn.methods.adversarial import ZhangAdversary, projected_gradients

CONSTRAINTS = ["demographic_parity", "equalized_odds", "equal_opportunity"]
FAST = dict(module__hidden_sizes=(32,), lr=1e-3, adversary_lr=1e-2, random_state=0)


def hard_gap(clf, X, y, group, constraint):
    """The constraint's gap (ΔDP, ΔTPR+ΔFPR, ΔTPR) of the hard predictions."""
    pred = torch.as_tensor(clf.predict(X), dtype=torch.float64)
    y_t = torch.as_tensor(y, dtype=torch.float64)
    group_t = torch.as_tensor(group, dtype=torch.long)
    return float(fairness_gap(constraint, pred, y_t, group_t, int(group.max()) + 1))


def one_batch(X, y, group):
    inputs = {
        "X": torch.as_tensor(X),
        "group": torch.as_tensor(group, dtype=torch.long),
        "sample_weight": torch.ones(len(X)),
    }
    return inputs, torch.as_tensor(y, dtype=torch.long)


@pytest.fixture(scope="module")
def erm(biased_data):
    """ERM reference on the biased data (never refitted)."""
    X, y, _ = biased_data
    params = {k: v for k, v in FAST.items() if k != "adversary_lr"}
    return ERMClassifier(max_epochs=30, **params).fit(X, y)


# ---------------------------------------------------------------- update rule
def test_projected_gradients_matches_formula_and_is_orthogonal():
    gen = torch.Generator().manual_seed(0)
    gp = [torch.randn(3, 4, generator=gen), torch.randn(4, generator=gen)]
    ga = [torch.randn(3, 4, generator=gen), torch.randn(4, generator=gen)]
    flat_p = torch.cat([g.flatten() for g in gp])
    flat_a = torch.cat([g.flatten() for g in ga])
    alpha = 0.7
    update = torch.cat([u.flatten() for u in projected_gradients(gp, ga, alpha)])
    expected = flat_p - (flat_p @ flat_a) / (flat_a @ flat_a) * flat_a - alpha * flat_a
    torch.testing.assert_close(update, expected)
    # without the α term the update is orthogonal to ∇_W L_A over all weights
    no_alpha = torch.cat([u.flatten() for u in projected_gradients(gp, ga, 0.0)])
    assert abs(float(no_alpha @ flat_a)) < 1e-5
    reversal = torch.cat([u.flatten() for u in projected_gradients(gp, ga, alpha, False)])
    torch.testing.assert_close(reversal, flat_p - alpha * flat_a)


def test_projected_gradients_zero_adversary_gradient_is_task_gradient():
    gp = [torch.ones(3)]
    update = projected_gradients(gp, [torch.zeros(3)], 2.0)
    torch.testing.assert_close(update[0], gp[0])


@pytest.mark.parametrize("projection", [True, False])
def test_train_step_moves_weights_along_the_update_rule(biased_data, projection):
    """One SGD step on a tiny net equals -lr times the paper's update direction."""
    X, y, group = (a[:64] for a in biased_data)
    lr, adv_lr, alpha = 0.1, 0.05, 0.5
    clf = AdversarialClassifier(
        module__hidden_sizes=(3,),
        adversary__hidden_sizes=(2,),
        constraint="equalized_odds",
        fairness_weight=alpha,
        projection=projection,
        optimizer=torch.optim.SGD,
        adversary_optimizer=torch.optim.SGD,
        lr=lr,
        adversary_lr=adv_lr,
        max_epochs=0,
        random_state=0,
    ).fit(X, y, sensitive_features=group)
    predictor, adversary = copy.deepcopy(clf.module_), copy.deepcopy(clf.adversary_)

    # independent computation of ∇_W L_P, ∇_W L_A, ∇_U L_A
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y, dtype=torch.float32)
    logits = predictor(X_t)
    task = F.binary_cross_entropy_with_logits(logits, y_t)
    adv = F.binary_cross_entropy_with_logits(
        adversary(logits, y_t), torch.as_tensor(group, dtype=torch.float32)
    )
    W, U = list(predictor.parameters()), list(adversary.parameters())
    g_p = torch.cat([g.flatten() for g in torch.autograd.grad(task, W, retain_graph=True)])
    g_a_all = torch.autograd.grad(adv, W + U)
    g_a = torch.cat([g.flatten() for g in g_a_all[: len(W)]])
    g_u = torch.cat([g.flatten() for g in g_a_all[len(W) :]])
    coef = alpha + (g_p @ g_a) / (g_a @ g_a) if projection else alpha
    direction = (g_p - coef * g_a).detach()
    g_a, g_u = g_a.detach(), g_u.detach()

    clf.history.new_epoch()
    clf.history.new_batch()
    clf.train_step(one_batch(X, y, group))
    step_w = torch.cat([(n - o).flatten() for n, o in zip(clf.module_.parameters(), W)]).detach()
    step_u = torch.cat([(n - o).flatten() for n, o in zip(clf.adversary_.parameters(), U)]).detach()
    torch.testing.assert_close(step_w, -lr * direction, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(step_u, -adv_lr * g_u, rtol=1e-4, atol=1e-6)
    if projection:  # the update minus its α term is orthogonal to ∇_W L_A
        residual = (step_w / -lr + alpha * g_a) @ g_a
        assert abs(float(residual)) < 1e-4 * float(g_a @ g_a) + 1e-7


# ------------------------------------------------------------- the adversary
def test_adversary_learns_group_from_frozen_biased_predictor(biased_data, erm):
    X, y, group = biased_data
    clf = AdversarialClassifier(
        module=copy.deepcopy(erm.module_),
        optimizer__lr=0.0,
        adversary_lr=1e-2,
        max_epochs=6,
        random_state=0,
    ).fit(X, y, sensitive_features=group)
    for frozen, trained in zip(erm.module_.parameters(), clf.module_.parameters()):
        torch.testing.assert_close(frozen, trained)
    losses = [np.mean([b["adversary_loss"] for b in epoch["batches"]]) for epoch in clf.history]
    assert losses[-1] < losses[0] - 0.02
    # below the entropy of the group prior: the adversary reads A off the scores
    prior = group.mean()
    entropy = -(prior * np.log(prior) + (1 - prior) * np.log(1 - prior))
    assert losses[-1] < entropy - 0.02
    with torch.no_grad():
        logits = clf.module_(torch.as_tensor(X))
        guess = clf.adversary_(logits, torch.as_tensor(y, dtype=torch.float32))
    assert roc_auc_score(group, guess.numpy()) > 0.65
    assert float(clf.adversary_.scale.detach()) != pytest.approx(0.1)  # c of Sec. 6 is learned


def test_equal_opportunity_adversary_ignores_negative_rows(biased_data):
    X, y, group = (a[:50] for a in biased_data)
    clf = AdversarialClassifier(constraint="equal_opportunity", max_epochs=0)
    clf.fit(X, y, sensitive_features=group)
    assert isinstance(clf.adversary_, ZhangAdversary) and not clf.adversary_.use_label
    gen = torch.Generator().manual_seed(1)
    logits, y = torch.randn(8, generator=gen), torch.tensor([1.0, 0.0] * 4)
    group = torch.tensor([0, 1, 1, 0, 0, 1, 1, 1])
    flipped = torch.where(y == 0, 1 - group, group)
    losses = []
    for g in (group, flipped):  # changing A on y=0 rows leaves L_A unchanged
        batch = _fair_batch(logits, y, g)
        losses.append(clf.adversary_loss(batch, logits))
    torch.testing.assert_close(losses[0], losses[1])
    none_positive = _fair_batch(logits, torch.zeros(8), group)
    assert torch.isfinite(clf.adversary_loss(none_positive, logits))


def _fair_batch(logits, y, group, n_groups=2):
    from skfairnn import FairBatch

    return FairBatch(logits[:, None], y, group, torch.ones(len(y)), n_groups)


# ------------------------------------------------------------------ fairness
@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_adversary_reduces_gap_vs_erm(biased_data, erm, constraint):
    X, y, group = biased_data
    clf = AdversarialClassifier(constraint=constraint, max_epochs=30, **FAST)
    clf.fit(X, y, sensitive_features=group)
    gap_erm = hard_gap(erm, X, y, group, constraint)
    gap_adv = hard_gap(clf, X, y, group, constraint)
    assert gap_erm > 0.1
    assert gap_adv < 0.5 * gap_erm
    assert clf.score(X, y) > erm.score(X, y) - 0.06
    assert len(np.unique(clf.predict(X))) == 2


def test_without_sensitive_features_trains_as_erm(biased_data):
    X, y, _ = (a[:500] for a in biased_data)
    params = dict(module__hidden_sizes=(8,), max_epochs=3, random_state=0)
    with pytest.warns(FairnessWarning):
        clf = AdversarialClassifier(**params).fit(X, y)
    reference = ERMClassifier(**params).fit(X, y)
    np.testing.assert_allclose(clf.decision_function(X), reference.decision_function(X))
    assert "adversary_loss" not in clf.history[-1, "batches", -1]


def test_three_groups_softmax_adversary():
    rng = np.random.default_rng(0)
    n = 1500
    group = rng.integers(0, 3, size=n)
    signal = rng.normal(size=n)
    y = (signal + 0.6 * group + rng.normal(scale=0.5, size=n) > 0.6).astype(int)
    X = np.column_stack([signal, group + rng.normal(scale=0.2, size=n)]).astype(np.float32)
    params = dict(max_epochs=30, module__hidden_sizes=(16,), lr=1e-3, random_state=0)
    erm = ERMClassifier(**params).fit(X, y)
    clf = AdversarialClassifier(adversary_lr=1e-2, **params).fit(X, y, sensitive_features=group)
    assert clf.adversary_.body[-1].out_features == 3
    # L_A is the softmax cross-entropy over the three groups
    logits, y_t, g_t = torch.randn(6), torch.ones(6), torch.tensor([0, 1, 2, 2, 1, 0])
    expected = F.cross_entropy(clf.adversary_(logits, y_t), g_t)
    loss = clf.adversary_loss(_fair_batch(logits, y_t, g_t, 3), logits)
    torch.testing.assert_close(loss, expected)
    gap_erm = hard_gap(erm, X, y, group, "demographic_parity")
    gap_adv = hard_gap(clf, X, y, group, "demographic_parity")
    assert gap_adv < 0.5 * gap_erm
    assert len(np.unique(clf.predict(X))) == 2


# ------------------------------------------------------------ sklearn glue
def test_clone_pickle_set_params(biased_data):
    X, y, group = (a[:300] for a in biased_data)
    clf = AdversarialClassifier(
        max_epochs=2, module__hidden_sizes=(4,), adversary__hidden_sizes=(3,), random_state=0
    )
    cloned = clone(clf)
    assert cloned.get_params()["adversary__hidden_sizes"] == (3,)
    clf.fit(X, y, sensitive_features=group)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.decision_function(X), clf.decision_function(X))
    torch.testing.assert_close(
        restored.adversary_.state_dict(), clf.adversary_.state_dict(), rtol=0, atol=0
    )

    clf.set_params(adversary__hidden_sizes=(5, 2))
    assert [m.out_features for m in clf.adversary_.body if hasattr(m, "out_features")] == [5, 2, 1]
    assert clf.adversary_optimizer_.param_groups[0]["params"][0] is next(
        clf.adversary_.parameters()
    )
    clf.set_params(adversary_lr=0.05)
    assert clf.adversary_optimizer_.param_groups[0]["lr"] == 0.05
    clf.set_params(adversary_optimizer__lr=0.02, lr=0.003)
    assert clf.adversary_optimizer_.param_groups[0]["lr"] == 0.02
    assert clf.optimizer_.param_groups[0]["lr"] == 0.003
    clf.fit(X, y, sensitive_features=group)


def test_adversary_lr_defaults_to_lr_and_optimizers_are_disjoint(biased_data):
    X, y, group = (a[:200] for a in biased_data)
    clf = AdversarialClassifier(max_epochs=1, lr=0.004, module__hidden_sizes=(4,))
    clf.fit(X, y, sensitive_features=group)
    assert clf.adversary_optimizer_.param_groups[0]["lr"] == 0.004
    predictor_ids = {id(p) for p in clf._predictor_params()}
    assert not predictor_ids & {id(p) for p in clf.adversary_.parameters()}
    assert predictor_ids == {id(p) for p in clf.module_.parameters()}


@pytest.mark.parametrize(
    "params, name",
    [
        ({"fairness_weight": -1.0}, "fairness_weight"),
        ({"constraint": "fairest"}, "constraint"),
        ({"adversary_lr": 0.0}, "adversary_lr"),
        ({"projection": "yes"}, "projection"),
    ],
)
def test_bad_parameters_raise(biased_data, params, name):
    X, y, group = (a[:50] for a in biased_data)
    with pytest.raises(ValueError, match=name):
        AdversarialClassifier(max_epochs=1, **params).fit(X, y, sensitive_features=group)
