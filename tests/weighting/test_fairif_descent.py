# SPDX-License-Identifier: BSD-3-Clause
"""FairIF's Eq. (14) by gradient descent: convergence, early stopping, Adam, box, errors."""

import numpy as np
import pytest

from skfairnn import ERMClassifier, FairIFReweighter
from skfairnn.modules import LogisticRegressionModule
from skfairnn.weighting._fairif_descent import (
    check_weight_bounds,
    descend_fairif_epsilon,
    fairif_epsilon,
)
from skfairnn.weighting._fairif_solver import solve_fairif_epsilon


def _problem(n=40, m=2, seed=0):
    rng = np.random.default_rng(seed)
    return np.array([0.3, -0.2, 0.1][:m]), rng.normal(size=(n, m))


def test_long_descent_reaches_the_minimum_norm_solution():
    gaps, influence = _problem()
    # λ = 0: the minimum-norm ε with d + Aᵀε = 0 is −A (AᵀA)⁻¹ d
    by_hand = -influence @ np.linalg.solve(influence.T @ influence, gaps)
    epsilon, lr = descend_fairif_epsilon(gaps, influence, 0.0, epochs=3000)
    np.testing.assert_allclose(epsilon, by_hand, atol=1e-10)
    top = np.linalg.eigvalsh(influence.T @ influence).max()
    assert lr == pytest.approx(1 / (2 * top))


def test_long_descent_reaches_the_closed_form_on_a_strictly_convex_case():
    # three rows, three constraints, A A^T invertible: J is strictly convex
    influence = np.array([[1.0, 0.2, 0.0], [0.3, -1.0, 0.5], [0.0, 0.4, 2.0]])
    gaps = np.array([0.5, -0.3, 0.2])
    for lam in (0.1, 0.5):
        closed = solve_fairif_epsilon(gaps, influence, lam)
        # the closed form is stationary: 2 A (d + Aᵀε) + λ ε / ‖ε‖ = 0
        stationarity = 2 * influence @ (gaps + influence.T @ closed)
        stationarity += lam * closed / np.linalg.norm(closed)
        np.testing.assert_allclose(stationarity, 0, atol=1e-9)
        epsilon, _ = descend_fairif_epsilon(gaps, influence, lam, epochs=20000)
        np.testing.assert_allclose(epsilon, closed, atol=1e-8)
        adam, _ = descend_fairif_epsilon(
            gaps, influence, lam, optimizer="adam", lr=1e-3, epochs=20000
        )
        np.testing.assert_allclose(adam, closed, atol=1e-3)


def test_early_stopped_descent_is_the_hand_iterate_with_a_smaller_norm():
    gaps, influence = _problem()
    s, basis = np.linalg.eigh(influence.T @ influence)
    p = basis.T @ gaps
    lr = 0.2 / s.max()
    norms = []
    for t in (1, 5, 20, 100):
        epsilon, used = descend_fairif_epsilon(gaps, influence, 0.0, epochs=t, lr=lr)
        assert used == lr
        # c_{t+1} = c_t − 2η (p + s c_t) from c_0 = 0, and ε = A V c
        coef = -p / s * (1 - (1 - 2 * lr * s) ** t)
        np.testing.assert_allclose(epsilon, influence @ (basis @ coef), rtol=1e-10, atol=1e-14)
        norms.append(np.linalg.norm(epsilon))
    limit = np.linalg.norm(solve_fairif_epsilon(gaps, influence, 0.0))
    assert np.all(np.diff(norms) > 0)
    assert norms[-1] < limit
    assert norms[0] < 0.5 * limit


def test_the_factor_units_give_the_same_plain_descent_and_a_scaled_adam_step():
    gaps, influence = _problem()
    paper, _ = descend_fairif_epsilon(gaps, influence, 0.05, epochs=7)
    factor, _ = descend_fairif_epsilon(gaps, influence, 0.05, epochs=7, units="factor")
    np.testing.assert_allclose(paper, factor, rtol=1e-10)
    # Adam's first step is −lr g / (|g| + 1e-8) per coordinate, about −lr sign(g), with
    # g = 2 A d at ε = 0 in paper units and 2 A d / n for the factor u = n ε
    n = len(influence)
    grad = 2 * influence @ gaps
    one, _ = descend_fairif_epsilon(gaps, influence, 0.05, optimizer="adam", epochs=1)
    np.testing.assert_allclose(one, -1e-4 * grad / (np.abs(grad) + 1e-8), rtol=1e-12)
    one, _ = descend_fairif_epsilon(
        gaps, influence, 0.05, optimizer="adam", epochs=1, units="factor"
    )
    expected = -1e-4 * (grad / n) / (np.abs(grad / n) + 1e-8) / n
    np.testing.assert_allclose(one, expected, rtol=1e-12)


def test_weight_bounds_are_kept_during_the_descent():
    gaps, influence = _problem(n=60)
    n = len(influence)
    free, _ = descend_fairif_epsilon(gaps, influence, 0.0, epochs=500)
    assert (1 + n * free).min() < 0.5  # the box below binds
    for optimizer in ("sgd", "adam"):
        boxed, _ = descend_fairif_epsilon(
            gaps,
            influence,
            0.0,
            epochs=500,
            optimizer=optimizer,
            units="factor",
            lr=1e-2 if optimizer == "adam" else "auto",
            weight_bounds=(0.5, 1.5),
        )
        factor = 1 + n * boxed
        assert factor.min() >= 0.5 - 1e-12 and factor.max() <= 1.5 + 1e-12
        assert np.isclose(factor.min(), 0.5) or np.isclose(factor.max(), 1.5)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"solver": "newton"}, "solver must be one of"),
        ({"solver": "gradient_descent", "optimizer": "lbfgs"}, "epsilon_optimizer must be"),
        ({"solver": "gradient_descent", "units": "rows"}, "epsilon_units must be"),
        ({"solver": "gradient_descent", "epochs": 0}, "epsilon_epochs must be"),
        ({"solver": "gradient_descent", "lr": 0.0}, "epsilon_lr must be"),
        ({"solver": "gradient_descent", "lr": 10.0}, "diverge"),
        ({"solver": "gradient_descent", "weight_bounds": (1.2, 2)}, "weight_bounds must be"),
        ({"solver": "gradient_descent", "weight_bounds": "0,2"}, "weight_bounds must be"),
        ({"weight_bounds": (0, None)}, "weight_bounds needs solver='gradient_descent'"),
    ],
)
def test_bad_options_are_clear_errors(options, match):
    gaps, influence = _problem()
    with pytest.raises(ValueError, match=match):
        fairif_epsilon(gaps, influence, 0.1, **options)


def test_check_weight_bounds_fills_open_ends():
    assert check_weight_bounds(None) is None
    assert check_weight_bounds((None, None)) == (0.0, np.inf)
    assert check_weight_bounds([0.2, 3]) == (0.2, 3.0)


def test_reweighter_with_gradient_descent_matches_the_closed_form_when_run_long():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3)).astype("float32")
    group = rng.random(400) < 0.4
    y = (X[:, 0] + 0.8 * group + rng.normal(scale=0.7, size=400) > 0.3).astype(int)
    X[:, 1] += group
    A = np.where(rng.random(400) < 0.5, None, group).astype(object)
    est = ERMClassifier(LogisticRegressionModule, max_epochs=30, lr=0.05, random_state=0)
    common = {"hessian": "exact", "l2_weight": 0.0, "random_state": 0}
    closed = FairIFReweighter(est, **common).fit(X, y, sensitive_features=A)
    descent = FairIFReweighter(est, solver="gradient_descent", epsilon_epochs=5000, **common)
    descent.fit(X, y, sensitive_features=A)
    assert closed.epsilon_lr_ is None and descent.epsilon_lr_ > 0
    assert np.linalg.norm(closed.epsilon_) > 0
    np.testing.assert_allclose(descent.epsilon_, closed.epsilon_, rtol=1e-6, atol=1e-12)
    short = FairIFReweighter(est, solver="gradient_descent", epsilon_epochs=2, **common)
    short.fit(X, y, sensitive_features=A)
    assert np.linalg.norm(short.epsilon_) < np.linalg.norm(closed.epsilon_)
    with pytest.raises(ValueError, match="weight_bounds needs"):
        FairIFReweighter(est, weight_bounds=(0, 2), **common).fit(X, y, sensitive_features=A)
