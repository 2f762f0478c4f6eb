# SPDX-License-Identifier: BSD-3-Clause
"""FairIFReweighter: relaxed rates, the Eq. 14 solver, influence vs retraining, fairness."""

import warnings

import numpy as np
import pytest
import torch
from _logistic import L2, fit_logistic
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from skfairnn import ERMClassifier, FairIFReweighter, ReweightedClassifier
from skfairnn.influence import FunctionalModel, dense_hessian
from skfairnn.modules import MLP, LogisticRegressionModule
from skfairnn.weighting._fairif_solver import (
    logistic_noise,
    relaxed_rates,
    solve_fairif_epsilon,
    tpr_tnr_gap_influence,
)


def _split_biased(n_train=400, n_val=400, seed=0):
    rng = np.random.default_rng(seed)
    n = n_train + n_val
    group = (rng.random(n) < 0.35).astype(int)
    signal = rng.normal(size=n)
    y = (signal + 0.9 * group + rng.normal(scale=0.8, size=n) > 0.3).astype(float)
    X = np.column_stack([signal, group + rng.normal(scale=0.3, size=n), rng.normal(size=n)])
    X = torch.as_tensor(X)
    y, group = torch.as_tensor(y), torch.as_tensor(group)
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:], group[n_train:])


def test_relaxed_rates_match_hand_computation():
    logits = torch.tensor([2.0, -1.0, 0.5, 0.0, -3.0], dtype=torch.float64)
    y = torch.tensor([1, 1, 0, 1, 0])
    groups = torch.tensor([0, 0, 0, 1, 1])
    noise = torch.tensor([[0.3, -0.2, 0.1, 0.0, 1.0], [-0.5, 0.4, 0.0, 0.2, -1.0]]).double()
    rates, counts, jacobian = relaxed_rates(logits, y, groups, 2, noise, temperature=0.5)
    soft = torch.sigmoid((logits + noise) / 0.5).mean(0)
    expected = torch.tensor(
        [[(soft[0] + soft[1]) / 2, soft[3]], [1 - soft[2], 1 - soft[4]]], dtype=torch.float64
    )
    torch.testing.assert_close(rates, expected)
    torch.testing.assert_close(counts, torch.tensor([[2.0, 1.0], [1.0, 1.0]]).double())
    auto = torch.autograd.functional.jacobian(
        lambda f: relaxed_rates(f, y, groups, 2, noise, 0.5)[0], logits
    )
    torch.testing.assert_close(jacobian, auto)


def test_averaged_noise_gives_soft_rates_and_cold_sigmoid_gives_hard_rates():
    # the reading documented under ``gumbel_samples``: with noise the relaxed TPR of a
    # confident-but-wrong row is σ(f) (randomised classifier), without noise at small τ
    # it is the hard indicator 1[f > 0]
    logits = torch.tensor([1.0, -0.5, 2.5, -2.0], dtype=torch.float64)
    y, groups = torch.ones(4, dtype=torch.long), torch.tensor([0, 0, 1, 1])
    noisy = relaxed_rates(logits, y, groups, 2, logistic_noise(20000, 4, 0), 0.05)[0]
    soft = torch.sigmoid(logits)
    torch.testing.assert_close(
        noisy[0], torch.stack([soft[:2].mean(), soft[2:].mean()]), atol=0.01, rtol=0
    )
    cold = relaxed_rates(logits, y, groups, 2, logistic_noise(0, 4), 0.05)[0]
    torch.testing.assert_close(cold[0], torch.tensor([0.5, 0.5]).double(), atol=1e-4, rtol=0)


def test_solver_closes_the_gaps_and_is_optimal():
    rng = np.random.default_rng(0)
    influence = rng.normal(size=(200, 2))
    gaps = np.array([0.2, -0.1])
    exact = solve_fairif_epsilon(gaps, influence, 0.0)
    np.testing.assert_allclose(gaps + influence.T @ exact, 0, atol=1e-12)

    def objective(eps, lam):
        return np.sum((gaps + influence.T @ eps) ** 2) + lam * np.linalg.norm(eps)

    for lam in (0.05, 1.0):
        eps = solve_fairif_epsilon(gaps, influence, lam)
        assert np.linalg.norm(eps) < np.linalg.norm(exact)
        for _ in range(20):
            assert objective(eps, lam) <= objective(eps + 1e-3 * rng.normal(size=200), lam)
    too_large = 2.01 * np.linalg.norm(influence @ gaps)
    assert not solve_fairif_epsilon(gaps, influence, too_large).any()


def _gap_influence(train, val, module, noise):
    return tpr_tnr_gap_influence(
        FunctionalModel(module),
        *train,
        *val,
        2,
        noise=noise,
        inverse_hvp_params={"method": "exact", "damping": 2 * L2},
    )


def _relaxed_gaps(module, val, noise):
    with torch.no_grad():
        rates, _, _ = relaxed_rates(module(val[0]), val[1], val[2], 2, noise, 1.0)
    return (rates[:, 0] - rates[:, 1]).numpy()


def test_predicted_gap_changes_correlate_with_retraining():
    """Influence predictions vs actual retraining on small random re-weightings."""
    train, val = _split_biased()
    n = len(train[0])
    base = fit_logistic(*train, torch.ones(n, dtype=torch.float64))
    noise = logistic_noise(10, len(val[0]), 0)
    influence = _gap_influence(train, val, base, noise)
    before = _relaxed_gaps(base, val, noise)
    np.testing.assert_allclose(influence.gaps, before)
    rng = np.random.default_rng(0)
    predicted, actual = [], []
    for _ in range(12):
        epsilon = 0.3 * rng.normal(size=n) / n
        weights = torch.as_tensor(1 + n * epsilon)
        retrained = fit_logistic(*train, weights, start=base)
        predicted.append(influence.predict(epsilon) - influence.gaps)
        actual.append(_relaxed_gaps(retrained, val, noise) - before)
    predicted, actual = np.concatenate(predicted), np.concatenate(actual)
    assert np.corrcoef(predicted, actual)[0, 1] > 0.8
    assert np.mean(np.sign(predicted) == np.sign(actual)) > 0.8
    np.testing.assert_allclose(actual, predicted, atol=0.3 * np.abs(actual).max())


def test_solved_weights_shrink_the_retrained_validation_gaps():
    train, val = _split_biased()
    n = len(train[0])
    base = fit_logistic(*train, torch.ones(n, dtype=torch.float64))
    noise = logistic_noise(10, len(val[0]), 0)
    influence = _gap_influence(train, val, base, noise)
    epsilon = solve_fairif_epsilon(influence.gaps, influence.influence, 0.0)
    weights = torch.as_tensor(np.clip(1 + n * epsilon, 0, None))
    after = _relaxed_gaps(fit_logistic(*train, weights, start=base), val, noise)
    assert np.abs(after).sum() < 0.5 * np.abs(influence.gaps).sum()


def _logistic_net(**kwargs):
    params = dict(optimizer=torch.optim.LBFGS, batch_size=-1, max_epochs=2, lr=1, random_state=0)
    return ERMClassifier(LogisticRegressionModule, **{**params, **kwargs})


def _aod(pred, y, group):
    tpr = [pred[(group == a) & (y == 1)].mean() for a in (0, 1)]
    tnr = [1 - pred[(group == a) & (y == 0)].mean() for a in (0, 1)]
    return 0.5 * (abs(tpr[0] - tpr[1]) + abs(tnr[0] - tnr[1]))


def test_fairif_lowers_test_aod_with_groups_on_validation_rows_only(biased_data):
    X, y, group = biased_data
    train, test = slice(0, 2000), slice(2000, None)
    rng = np.random.default_rng(42)  # not the fixture's seed: its draws made the groups
    known = np.where(rng.random(2000) < 0.3, group[train], None).astype(object)
    original = _logistic_net().fit(X[train], y[train])
    fair = ReweightedClassifier(
        FairIFReweighter(_logistic_net(), hessian="exact", random_state=0), _logistic_net()
    ).fit(X[train], y[train], sensitive_features=known)
    weighter = fair.weighter_
    np.testing.assert_array_equal(weighter.validation_mask_, known != None)  # noqa: E711
    assert (weighter.sample_weight_[weighter.validation_mask_] == 0).all()
    assert np.abs(weighter.predicted_gaps_).max() < 0.1 * np.abs(weighter.validation_gaps_).max()
    # "auto" keeps Eq. 7's Hessian for logistic regression (= Gauss-Newton there)
    assert weighter.curvature_ == "hessian" and weighter.solve_residual_ < 1e-4
    before = _aod(original.predict(X[test]), y[test], group[test])
    after = _aod(fair.predict(X[test]), y[test], group[test])
    assert after < 0.6 * before
    accuracy = [np.mean(m.predict(X[test]) == y[test]) for m in (original, fair)]
    assert accuracy[1] > accuracy[0] - 0.06  # strong label shift: EO costs some accuracy


def test_all_rows_known_holds_out_a_stratified_validation_set(biased_data):
    X, y, group = biased_data
    X, y, group = X[:600], y[:600], group[:600]
    weighter = FairIFReweighter(
        _logistic_net(),
        validation_fraction=0.25,
        hessian="cg",
        include_validation=True,
        random_state=0,
    ).fit(X, y, sensitive_features=group)
    mask = weighter.validation_mask_
    assert mask.sum() == 150
    assert abs(group[mask].mean() - group.mean()) < 0.02
    assert (weighter.sample_weight_[mask] == 1).all()
    train_weights = weighter.sample_weight_[~mask]
    assert (train_weights >= 0).all() and train_weights.std() > 0
    assert weighter.estimator_.n_features_in_ == X.shape[1]


def test_more_than_two_groups_equalises_every_pair():
    rng = np.random.default_rng(1)
    n = 900
    group = rng.integers(0, 3, size=n)
    X = np.column_stack([rng.normal(size=n) + 0.5 * group, rng.normal(size=n)]).astype("float32")
    y = (X[:, 0] + rng.normal(size=n) > 0.5).astype(int)
    known = np.where(rng.random(n) < 0.4, np.array(["a", "b", "c"])[group], None)
    weighter = FairIFReweighter(
        _logistic_net(), l2_weight=0.0, hessian="exact", random_state=0
    ).fit(X, y, sensitive_features=known)
    pairs = [(m, a, b) for m, a, b in weighter.constraints_]
    assert pairs == [
        (m, a, b) for m in ("tpr", "tnr") for a, b in (("a", "b"), ("a", "c"), ("b", "c"))
    ]
    # all pairs shrink together (exactly 0 before clipping negative weights at 0)
    predicted, before = np.abs(weighter.predicted_gaps_), np.abs(weighter.validation_gaps_)
    assert predicted.max() < 0.25 * before.max()


def test_last_layer_restriction_and_lissa_on_an_mlp(biased_data):
    X, y, group = biased_data
    X, y, group = X[:800], y[:800], group[:800]
    known = np.where(np.arange(800) % 3 == 0, group, None).astype(object)
    net = ERMClassifier(MLP, module__hidden_sizes=(8,), max_epochs=3, random_state=0)
    weighter = FairIFReweighter(
        net, influence_layers=1, lissa_depth=50, curvature="gauss_newton", random_state=0
    ).fit(X, y, sensitive_features=known)
    assert weighter.gap_influence_.shape == (int((known == None).sum()), 2)  # noqa: E711
    assert np.isfinite(weighter.sample_weight_).all()


@pytest.mark.parametrize(
    ("sensitive_features", "error", "match"),
    [
        (None, ValueError, "needs sensitive_features"),
        ([None] * 40, ValueError, "missing .* on all 40 rows"),
        (["a"] * 10 + [None] * 30, ValueError, "at least two groups"),
    ],
)
def test_bad_groups_are_clear_errors(sensitive_features, error, match):
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = np.arange(40) % 2
    with pytest.raises(error, match=match):
        FairIFReweighter(_logistic_net()).fit(X, y, sensitive_features=sensitive_features)


def test_estimators_that_cannot_be_used_are_clear_errors():
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = np.arange(40) % 2
    A = np.arange(40) % 3 == 0
    with pytest.raises(TypeError, match="sample_weight"):
        FairIFReweighter(KNeighborsClassifier()).fit(X, y, sensitive_features=A)
    with pytest.raises(TypeError, match="module_"):
        FairIFReweighter(LogisticRegression()).fit(X, y, sensitive_features=A)
    with pytest.raises(ValueError, match="l2_weight"):
        FairIFReweighter(l2_weight=-1).fit(X, y, sensitive_features=A)


def test_registry_entries_build_unfitted_meta_estimators():
    from skfairnn.benchmarks.methods import METHODS

    for name in ("fairif", "reweighting"):
        estimator = METHODS[name]("equalized_odds", 0, True)
        assert isinstance(estimator, ReweightedClassifier)
        assert not getattr(estimator.estimator, "initialized_", False)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fairif_on_cuda_matches_cpu(biased_data):
    X, y, group = biased_data
    known = np.where(np.arange(len(y)) % 4 == 0, group, None).astype(object)
    weights = []
    for device in ("cpu", "cuda"):
        net = ERMClassifier(
            MLP, module__hidden_sizes=(16,), max_epochs=3, device=device, random_state=0
        )
        weighter = FairIFReweighter(net, curvature="gauss_newton", hessian="cg", random_state=0)
        weights.append(weighter.fit(X, y, sensitive_features=known).sample_weight_)
    np.testing.assert_allclose(weights[0], weights[1], atol=0.05)


def _small_mlp_problem():
    """300 rows, a 16×16 ReLU MLP after 60 epochs: its Hessian is indefinite."""
    from skfairnn.datasets import make_biased_classification

    X, y, group = make_biased_classification(300, 5, random_state=0)
    known = np.where(np.arange(300) % 3 == 0, group, None).astype(object)
    net = ERMClassifier(module__hidden_sizes=(16, 16), max_epochs=60, random_state=0)
    return X.astype(np.float32), y, known, net


def _fit_capturing_solve(monkeypatch, weighter, X, y, known):
    """Fit ``weighter``; return the right-hand sides and the solution of its inverse HVP."""
    from skfairnn.weighting import _fairif_solver

    solve = _fairif_solver.inverse_hvp
    captured = {}

    def spy(model, X_train, y_train, vectors, **kwargs):
        result = solve(model, X_train, y_train, vectors, **kwargs)
        captured["vectors"] = vectors.detach().double()
        solution = result[0] if isinstance(result, tuple) else result
        captured["solution"] = solution.detach().double()
        return result

    monkeypatch.setattr(_fairif_solver, "inverse_hvp", spy)
    weighter.fit(X, y, sensitive_features=known)
    monkeypatch.undo()
    return captured["vectors"], captured["solution"]


def test_default_inverse_hvp_on_an_mlp_agrees_with_the_exact_solve(monkeypatch):
    # the default (LiSSA, depth 300) against the library's dense solve with the same
    # default curvature; with the Hessian of this MLP (indefinite) LiSSA's answer was
    # unrelated to it (cosine about 0) and no error was raised
    X, y, known, net = _small_mlp_problem()
    default = FairIFReweighter(net, random_state=0)
    vectors, solution = _fit_capturing_solve(monkeypatch, default, X, y, known)
    exact = FairIFReweighter(net, hessian="exact", random_state=0)
    exact_vectors, exact_solution = _fit_capturing_solve(monkeypatch, exact, X, y, known)
    torch.testing.assert_close(vectors, exact_vectors)  # same stage one, same right-hand sides
    cosine = torch.nn.functional.cosine_similarity(solution, exact_solution, dim=1)
    assert cosine.min() > 0.95
    ratio = solution.norm(dim=1) / exact_solution.norm(dim=1)
    assert ((ratio > 0.8) & (ratio < 1.25)).all()
    # the default is the positive semi-definite Gauss-Newton matrix for a network
    assert default.curvature_ == exact.curvature_ == "gauss_newton"
    model = FunctionalModel(default.estimator_.module_)
    train = ~default.validation_mask_
    matrix = dense_hessian(model, X[train], y[train].astype(np.float32), curvature="gauss_newton")
    assert torch.linalg.eigvalsh(matrix.double()).min() > -1e-5


def test_solve_residual_warns_for_lissa_on_an_indefinite_hessian_only():
    from skfairnn.exceptions import InfluenceSolveWarning
    from skfairnn.weighting._fairif_solver import RESIDUAL_THRESHOLD

    X, y, known, net = _small_mlp_problem()
    for depth in (50, 300):
        forced = FairIFReweighter(net, curvature="hessian", lissa_depth=depth, random_state=0)
        with pytest.warns(InfluenceSolveWarning, match="curvature='gauss_newton'"):
            forced.fit(X, y, sensitive_features=known)
        assert forced.curvature_ == "hessian"
        assert forced.solve_residual_ > 1e3 * RESIDUAL_THRESHOLD
        # negative curvature along u, or NaN where (H + δI)u overflowed float32
        assert forced.solve_rayleigh_ < 0 or np.isnan(forced.solve_rayleigh_)
    default = FairIFReweighter(net, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InfluenceSolveWarning)
        default.fit(X, y, sensitive_features=known)
    # the case is indefinite: Hessian eigenvalues below −δ
    train = ~default.validation_mask_
    model = FunctionalModel(default.estimator_.module_)
    hessian = dense_hessian(model, X[train], y[train].astype(np.float32))
    assert torch.linalg.eigvalsh(hessian.double()).min() < -default.damping
    assert default.solve_residual_ < RESIDUAL_THRESHOLD
    assert default.solve_rayleigh_ >= 0.99 * default.damping  # Gauss-Newton + δI ⪰ δI
