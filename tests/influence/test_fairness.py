# SPDX-License-Identifier: BSD-3-Clause
"""Fairness influence scores (Wang et al. 2022, Eq. 12–35) against hand references."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from skfairnn import ERMClassifier, FairRegClassifier, diagnostics
from skfairnn.cells import CONSTRAINT_LABELS, CONSTRAINTS
from skfairnn.influence import (
    constraint_gradient,
    fairness_influence_scores,
    network_outputs,
    ntk_matrix,
    pairwise_fairness_influence,
)


def _data(n=120, n_groups=2, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.integers(0, n_groups, size=n)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    X[:, 0] += A
    y = (X[:, 0] + rng.normal(size=n) > 0.5).astype(int)
    return X, y, A


@pytest.fixture(scope="module")
def fitted():
    """One small fitted net shared by the tests (never refitted)."""
    torch.manual_seed(0)
    X, y, A = _data()
    net = FairRegClassifier(
        constraint="demographic_parity", module__hidden_sizes=(6,), max_epochs=2, random_state=0
    ).fit(X, y, sensitive_features=A)
    return net, X, y, A


def _surrogate(f, y, group, labels, surrogate, relaxed="conditional"):
    """The surrogate φ over the label cells ``labels`` (None: all rows) as a torch scalar.

    Table 1 relaxed (conditional means, or Eq. 15's joint expectations
    ``J_g = Σ_cell f·1[z=g] / n`` against their mean over the groups), Eq. 27 covariance.
    """
    total = f.sum() * 0
    for label in labels:
        mask = torch.ones_like(f, dtype=bool) if label is None else torch.as_tensor(y == label)
        fc, gc = f[mask], torch.as_tensor(group)[mask]
        if surrogate == "relaxed" and relaxed == "joint":
            joint = torch.stack([(fc * (gc == g)).sum() / len(f) for g in gc.unique()])
            total = total + (joint - joint.mean()).abs().sum()
            continue
        for g in gc.unique():
            in_g = (gc == g).to(f.dtype)
            if surrogate == "relaxed":
                total = total + ((fc * in_g).sum() / in_g.sum() - fc.mean()).abs()
            else:
                total = total + 0.5 * ((in_g - in_g.mean()) * fc).mean().abs()
    return total


@pytest.mark.parametrize("constraint", CONSTRAINTS)
@pytest.mark.parametrize("surrogate", ["relaxed", "covariance"])
@pytest.mark.parametrize("n_groups", [2, 3])
def test_constraint_gradient_is_n_times_surrogate_gradient(constraint, surrogate, n_groups):
    X, y, A = _data(n=60, n_groups=n_groups, seed=n_groups)
    f = torch.as_tensor(np.random.default_rng(3).normal(size=60), dtype=torch.float64)
    f.requires_grad_()
    labels = CONSTRAINT_LABELS[constraint]
    (expected,) = torch.autograd.grad(_surrogate(f, y, A, labels, surrogate), f)
    got = constraint_gradient(f.detach().numpy(), y, A, constraint=constraint, surrogate=surrogate)
    np.testing.assert_allclose(got, 60 * expected.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("constraint", CONSTRAINTS)
@pytest.mark.parametrize("n_groups", [2, 3])
def test_joint_constraint_gradient_is_n_times_surrogate_gradient(constraint, n_groups):
    X, y, A = _data(n=60, n_groups=n_groups, seed=n_groups)
    f = torch.as_tensor(np.random.default_rng(4).normal(size=60), dtype=torch.float64)
    f.requires_grad_()
    labels = CONSTRAINT_LABELS[constraint]
    (expected,) = torch.autograd.grad(_surrogate(f, y, A, labels, "relaxed", "joint"), f)
    got = constraint_gradient(f.detach().numpy(), y, A, constraint=constraint, relaxed="joint")
    np.testing.assert_allclose(got, 60 * expected.numpy(), rtol=1e-10, atol=1e-12)


# Unbalanced tiny data: four rows of group 1 with f = 1, one row of group 0 with f = 3.
_TINY_F = np.array([1.0, 1.0, 1.0, 1.0, 3.0])
_TINY_Z = np.array([1, 1, 1, 1, 0])
_TINY_Y = np.array([1, 1, 0, 0, 1])


def test_relaxed_conditional_and_joint_by_hand():
    """Eq. 15–16 and 21 with conditional means and with the joint expectations."""
    f, z, y = _TINY_F, _TINY_Z, _TINY_Y
    # DP, conditional: m_1 = 1 < m_0 = 3, so group 0 is favoured; c_i = ±n / n_{z_i}
    np.testing.assert_allclose(
        constraint_gradient(f, y, z, relaxed="conditional"), [-5 / 4] * 4 + [5 / 1]
    )
    # DP, joint (Eq. 15 as printed): J_1 = 4/5 > J_0 = 3/5, so group 1 is favoured; c_i = α = ±1
    np.testing.assert_allclose(constraint_gradient(f, y, z, relaxed="joint"), [1, 1, 1, 1, -1])
    # equal TPR, y = 1 cell {0, 1, 4}: conditional m_1 = 1 < m_0 = 3, c = 5 (-1/2, -1/2, +1/1)
    eo = dict(constraint="equal_opportunity")
    np.testing.assert_allclose(
        constraint_gradient(f, y, z, relaxed="conditional", **eo), [-2.5, -2.5, 0, 0, 5]
    )
    # joint (Eq. 21): J_1 = 2/5 < J_0 = 3/5, group 0 favoured; α_{z,y} = ±1 on y = 1, else 0
    np.testing.assert_allclose(
        constraint_gradient(f, y, z, relaxed="joint", **eo), [-1, -1, 0, 0, 1]
    )
    # equalized odds adds the y = 0 cell {2, 3}, which holds one group only (no gap, c = 0)
    for relaxed in ("conditional", "joint"):
        np.testing.assert_allclose(
            constraint_gradient(f, y, z, constraint="equalized_odds", relaxed=relaxed),
            constraint_gradient(f, y, z, relaxed=relaxed, **eo),
        )
    # the covariance surrogate has no conditional/joint reading
    np.testing.assert_array_equal(
        constraint_gradient(f, y, z, surrogate="covariance", relaxed="joint"),
        constraint_gradient(f, y, z, surrogate="covariance"),
    )


def test_joint_scores_equal_explicit_ntk_sum(fitted):
    net, X, y, A = fitted
    f = network_outputs(net.module_, X).numpy()
    favoured = int(f[A == 1].sum() >= f[A == 0].sum())  # Eq. 14 on joint expectations
    c = np.where(A == favoured, 1.0, -1.0)  # α of Eq. 16
    K = ntk_matrix(net.module_, X).double().numpy()
    expected = c * (K @ c) / len(X)  # Eq. 35
    got = fairness_influence_scores(net, X, y, A, relaxed="joint", batch_size=17)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())
    conditional = fairness_influence_scores(net, X, y, A)
    assert not np.allclose(got, conditional * (got.std() / conditional.std()), rtol=1e-2)
    pairwise = pairwise_fairness_influence(net, X, y, A, relaxed="joint")
    np.testing.assert_allclose(pairwise, c[:, None] * K, rtol=1e-4, atol=1e-6 * np.abs(K).max())


@pytest.mark.parametrize("surrogate", ["relaxed", "covariance"])
def test_equalized_odds_is_tpr_plus_fpr(surrogate):  # Eq. 25
    X, y, A = _data(n=50)
    f = torch.as_tensor(np.random.default_rng(0).normal(size=50), dtype=torch.float64)
    f.requires_grad_()
    (fpr,) = torch.autograd.grad(_surrogate(f, y, A, (0,), surrogate), f)  # Eq. 23–24
    f = f.detach().numpy()
    tpr = constraint_gradient(f, y, A, constraint="equal_opportunity", surrogate=surrogate)
    np.testing.assert_allclose(
        constraint_gradient(f, y, A, constraint="equalized_odds", surrogate=surrogate),
        tpr + 50 * fpr.numpy(),
        rtol=1e-10,
        atol=1e-12,
    )


def test_fairlearn_alias_and_the_removed_fpr_name():
    X, y, A = _data(n=50)
    f = np.random.default_rng(0).normal(size=50)
    np.testing.assert_array_equal(
        constraint_gradient(f, y, A, constraint="true_positive_rate_parity"),
        constraint_gradient(f, y, A, constraint="equal_opportunity"),
    )
    with pytest.raises(
        ValueError, match="constraint must be one of.*use constraint='equalized_odds'"
    ):
        constraint_gradient(f, y, A, constraint="false_positive_rate_parity")


def test_diagnostics_reexports_the_influence_scores():
    for name in ("constraint_gradient", "fairness_influence_scores", "pairwise_fairness_influence"):
        assert getattr(diagnostics, name) is globals()[name]


@pytest.mark.parametrize("constraint", CONSTRAINTS)
@pytest.mark.parametrize("surrogate", ["relaxed", "covariance"])
def test_scores_equal_explicit_ntk_sum(fitted, constraint, surrogate):
    net, X, y, A = fitted
    f = network_outputs(net.module_, X).numpy()
    c = constraint_gradient(f, y, A, constraint=constraint, surrogate=surrogate)
    K = ntk_matrix(net.module_, X).double().numpy()
    expected = c * (K @ c) / len(X)  # Eq. 35 with the kernel written out
    got = fairness_influence_scores(
        net, X, y, A, constraint=constraint, surrogate=surrogate, batch_size=17
    )
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())
    pairwise = pairwise_fairness_influence(net, X, y, A, constraint=constraint, surrogate=surrogate)
    np.testing.assert_allclose(
        (pairwise * c[None]).mean(1), expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max()
    )


def test_proba_output_scores(fitted):
    net, X, y, A = fitted
    f = network_outputs(net.module_, X, output="proba").numpy()
    c = constraint_gradient(f, y, A)
    K = ntk_matrix(net.module_, X, output="proba").double().numpy()
    got = fairness_influence_scores(net, X, y, A, output="proba")
    np.testing.assert_allclose(got, c * (K @ c) / len(X), rtol=1e-4, atol=1e-9)


def test_paper_sign_convention_and_flip(fitted):
    net, X, y, A = fitted
    f = network_outputs(net.module_, X).numpy()
    favoured = int(f[A == 1].mean() >= f[A == 0].mean())
    c = constraint_gradient(f, y, A)
    assert (c[A == favoured] > 0).all() and (c[A != favoured] < 0).all()  # α = ±1
    pairwise = pairwise_fairness_influence(net, X, y, A)
    aggregate = fairness_influence_scores(net, X, y, A)
    flipped = FairRegClassifier(module__hidden_sizes=(6,), max_epochs=0).fit(
        X, y, sensitive_features=A
    )
    flipped.module_.load_state_dict(net.module_.state_dict())
    with torch.no_grad():  # f -> -f: the other group becomes the favoured one
        flipped.module_.net[-1].weight.neg_()
        flipped.module_.net[-1].bias.neg_()
    c_flip = constraint_gradient(network_outputs(flipped.module_, X).numpy(), y, A)
    assert (c_flip[A == favoured] < 0).all()
    np.testing.assert_allclose(
        pairwise_fairness_influence(flipped, X, y, A), -pairwise, rtol=1e-5, atol=1e-8
    )
    # aggregated scores are quadratic in c: unchanged by the flip (documented)
    np.testing.assert_allclose(
        fairness_influence_scores(flipped, X, y, A), aggregate, rtol=1e-4, atol=1e-8
    )


def test_row_order_invariance(fitted):
    net, X, y, A = fitted
    perm = np.random.default_rng(5).permutation(len(X))
    scores = fairness_influence_scores(net, X, y, A, constraint="equalized_odds")
    permuted = fairness_influence_scores(
        net, X[perm], y[perm], A[perm], constraint="equalized_odds", batch_size=7
    )
    np.testing.assert_allclose(permuted, scores[perm], rtol=1e-4, atol=1e-8)


def test_covariance_is_rescaled_relaxed_for_two_groups(fitted):  # Corollary 4.2
    net, X, y, A = fitted
    pi1 = A.mean()
    relaxed = fairness_influence_scores(net, X, y, A)
    cov = fairness_influence_scores(net, X, y, A, surrogate="covariance")
    np.testing.assert_allclose(cov, (pi1 * (1 - pi1)) ** 2 * relaxed, rtol=1e-5, atol=1e-10)


def test_batch_aggregate_is_blockwise(fitted):
    net, X, y, A = fitted
    got = fairness_influence_scores(net, X, y, A, aggregate="batch", batch_size=40)
    for rows in np.array_split(np.arange(len(X)), 3):
        block = fairness_influence_scores(net, X[rows], y[rows], A[rows])
        np.testing.assert_allclose(got[rows], block, rtol=1e-5, atol=1e-9)


def test_multigroup_scores(fitted):
    X, y, A = _data(n=90, n_groups=3, seed=1)
    net = ERMClassifier(module__hidden_sizes=(4,), max_epochs=1, random_state=0).fit(X, y)
    f = network_outputs(net.module_, X).numpy()
    c = constraint_gradient(f, y, A)
    K = ntk_matrix(net.module_, X).double().numpy()
    got = fairness_influence_scores(net, X, y, A.astype(str))
    expected = c * (K @ c) / len(X)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


def test_bad_input(fitted):
    net, X, y, A = fitted
    with pytest.raises(ValueError, match="at least two|two groups|one group"):
        fairness_influence_scores(net, X, y, np.zeros(len(X)))
    with pytest.raises(TypeError, match="net must be a fitted skfairnn"):
        fairness_influence_scores(LogisticRegression().fit(X, y), X, y, A)
    with pytest.raises(ValueError, match="constraint must be one of"):
        fairness_influence_scores(net, X, y, A, constraint="fairest")
    with pytest.raises(ValueError, match="label-0 half of 'equalized_odds'"):
        pairwise_fairness_influence(net, X, y, A, constraint="false_positive_rate_parity")
    with pytest.raises(ValueError, match="surrogate must be one of"):
        fairness_influence_scores(net, X, y, A, surrogate="mine")
    with pytest.raises(ValueError, match="aggregate must be one of"):
        fairness_influence_scores(net, X, y, A, aggregate="epoch")
    with pytest.raises(ValueError, match="relaxed must be one of"):
        fairness_influence_scores(net, X, y, A, relaxed="marginal")
    with pytest.raises(ValueError, match="relaxed must be one of"):
        constraint_gradient(np.zeros(3), [0, 1, 1], [0, 1, 0], relaxed="marginal")
