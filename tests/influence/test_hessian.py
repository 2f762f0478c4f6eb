# SPDX-License-Identifier: BSD-3-Clause
"""skfairnn.influence against loop and dense references on tiny models."""

import numpy as np
import pytest
import torch
from _logistic import fit_logistic

from skfairnn.influence import (
    FunctionalModel,
    bce_with_logits,
    dense_hessian,
    grad_dot,
    hvp,
    inverse_hvp,
    inverse_hvp_check,
    last_layer_parameters,
    logits_are_affine,
    mean_loss_grad,
    per_sample_grads,
    resolve_curvature,
)
from skfairnn.modules import MLP, LogisticRegressionModule


def _data(n=60, d=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=generator, dtype=torch.float64)
    y = (X[:, 0] + 0.5 * torch.randn(n, generator=generator, dtype=torch.float64) > 0).double()
    return X, y


def _mlp(d=4, seed=0):
    torch.manual_seed(seed)
    return MLP(d, (5,), activation="tanh").double()


def _loop_grads(module, X, y):
    rows = []
    for i in range(len(X)):
        module.zero_grad()
        bce_with_logits(module(X[i : i + 1]), y[i : i + 1]).sum().backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in module.parameters()]))
    return torch.stack(rows)


def test_per_sample_grads_match_loop():
    X, y = _data()
    module = _mlp()
    expected = _loop_grads(module, X, y)
    got = per_sample_grads(FunctionalModel(module), X, y, chunk_size=7)
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("method", ["jvp", "vmap"])
def test_grad_dot_matches_dense_product(method):
    X, y = _data()
    module = _mlp()
    model = FunctionalModel(module)
    vectors = torch.randn(3, model.n_params, dtype=torch.float64)
    expected = _loop_grads(module, X, y) @ vectors.T
    got = grad_dot(model, X, y, vectors, chunk_size=11, method=method)
    torch.testing.assert_close(got, expected)
    single = grad_dot(model, X, y, vectors[0], method=method)
    torch.testing.assert_close(single, expected[:, 0])


def test_mean_loss_grad_matches_autograd():
    X, y = _data()
    module = _mlp()
    weights = torch.rand(len(X), dtype=torch.float64)
    (weights * bce_with_logits(module(X), y)).mean().backward()
    expected = torch.cat([p.grad.reshape(-1) for p in module.parameters()])
    got = mean_loss_grad(FunctionalModel(module), X, y, weights=weights, chunk_size=13)
    torch.testing.assert_close(got, expected)


def _autograd_hessian(module, X, y, weights):
    model = FunctionalModel(module)
    flat = model.flatten(model.params)

    def loss(theta):
        return (weights * bce_with_logits(model.logits(model.unflatten(theta), X), y)).mean()

    return torch.autograd.functional.hessian(loss, flat)


def test_hvp_and_dense_hessian_match_autograd():
    X, y = _data()
    module = _mlp()
    model = FunctionalModel(module)
    weights = torch.rand(len(X), dtype=torch.float64)
    expected = _autograd_hessian(module, X, y, weights)
    torch.testing.assert_close(dense_hessian(model, X, y, weights=weights, chunk_size=17), expected)
    vectors = torch.randn(2, model.n_params, dtype=torch.float64)
    got = hvp(model, X, y, vectors, weights=weights, chunk_size=9)
    torch.testing.assert_close(got, vectors @ expected)


def test_gauss_newton_is_psd_and_equals_hessian_for_logistic_regression():
    X, y = _data()
    mlp = FunctionalModel(_mlp())
    gauss_newton = dense_hessian(mlp, X, y, curvature="gauss_newton")
    assert torch.linalg.eigvalsh(gauss_newton).min() > -1e-10
    vectors = torch.randn(2, mlp.n_params, dtype=torch.float64)
    torch.testing.assert_close(
        hvp(mlp, X, y, vectors, curvature="gauss_newton", chunk_size=8), vectors @ gauss_newton
    )
    linear = FunctionalModel(LogisticRegressionModule(4).double())
    torch.testing.assert_close(
        dense_hessian(linear, X, y, curvature="gauss_newton"), dense_hessian(linear, X, y)
    )


@pytest.mark.parametrize("method", ["exact", "cg", "lissa"])
def test_inverse_hvp_matches_exact_inverse_on_logistic_regression(method):
    X, y = _data(n=200)
    model = FunctionalModel(fit_logistic(X, y))
    damping = 1e-3
    matrix = _autograd_hessian(model.module, X, y, torch.ones(len(X), dtype=torch.float64))
    vectors = torch.randn(2, model.n_params, dtype=torch.float64)
    expected = torch.linalg.solve(matrix + damping * torch.eye(model.n_params), vectors.T).T
    got = inverse_hvp(
        model,
        X,
        y,
        vectors,
        method=method,
        damping=damping,
        depth=300,
        repeats=4,
        batch_size=200,
        random_state=0,
    )
    error = (got - expected).norm(dim=1) / expected.norm(dim=1)
    assert error.max() < (0.1 if method == "lissa" else 1e-6)


def test_lissa_divergence_is_reported():
    X, y = _data()
    model = FunctionalModel(fit_logistic(X, y))
    with pytest.raises(FloatingPointError, match="LiSSA diverged"):
        inverse_hvp(
            model,
            X,
            y,
            torch.ones(model.n_params, dtype=torch.float64),
            scale=1e-3,
            depth=300,
            random_state=0,
        )


def test_last_layer_restriction_gives_the_sub_block():
    X, y = _data()
    module = MLP(4, (5, 3)).double()
    names = last_layer_parameters(module, 1)
    assert names == ["net.4.weight", "net.4.bias"]
    full = per_sample_grads(FunctionalModel(module), X, y)
    last = per_sample_grads(FunctionalModel(module, names), X, y)
    torch.testing.assert_close(last, full[:, -last.shape[1] :])


def test_bad_arguments_are_named():
    X, y = _data()
    model = FunctionalModel(_mlp())
    with pytest.raises(ValueError, match="method must be one of"):
        inverse_hvp(model, X, y, torch.ones(model.n_params), method="newton")
    with pytest.raises(ValueError, match="curvature must be one of"):
        inverse_hvp(model, X, y, torch.ones(model.n_params), curvature="fisher")
    with pytest.raises(ValueError, match="variable parameters"):
        model.unflatten(torch.ones(3))
    with pytest.raises(ValueError, match="not parameters"):
        FunctionalModel(_mlp(), ["nope"])
    with pytest.raises(ValueError, match="method must be one of"):
        grad_dot(model, X, y, torch.ones(model.n_params), method="loop")
    big = FunctionalModel(MLP(200, (200,)))
    with pytest.raises(ValueError, match="too large"):
        dense_hessian(big, torch.zeros(2, 200), torch.zeros(2))
    assert np.isfinite(model.n_params)


def test_auto_curvature_is_the_hessian_only_where_the_logits_are_affine():
    X, _ = _data()
    linear = FunctionalModel(LogisticRegressionModule(4).double())
    module = MLP(4, (5, 3)).double()
    last = FunctionalModel(module, last_layer_parameters(module, 1))
    assert logits_are_affine(linear, X) and logits_are_affine(last, X)
    assert not logits_are_affine(FunctionalModel(module), X)
    assert not logits_are_affine(FunctionalModel(module, last_layer_parameters(module, 2)), X)
    assert not logits_are_affine(FunctionalModel(_mlp()), X)  # tanh
    assert resolve_curvature(linear, X, "auto") == "hessian"
    assert resolve_curvature(FunctionalModel(module), X, "auto") == "gauss_newton"
    assert resolve_curvature(FunctionalModel(module), X, "hessian") == "hessian"
    with pytest.raises(ValueError, match="curvature must be one of"):
        resolve_curvature(linear, X, "fisher")


def test_inverse_hvp_with_auto_curvature_solves_the_resolved_system():
    X, y = _data()
    mlp = FunctionalModel(_mlp())
    vectors = torch.randn(2, mlp.n_params, dtype=torch.float64)
    matrix = dense_hessian(mlp, X, y, curvature="gauss_newton") + 0.1 * torch.eye(mlp.n_params)
    got = inverse_hvp(mlp, X, y, vectors, method="exact", curvature="auto", damping=0.1)
    torch.testing.assert_close(got, torch.linalg.solve(matrix, vectors.T).T)


def test_inverse_hvp_check_measures_residual_and_curvature():
    X, y = _data(n=80)
    mlp = FunctionalModel(_mlp())
    vectors = torch.randn(2, mlp.n_params, dtype=torch.float64)
    for curvature in ("hessian", "gauss_newton"):
        matrix = dense_hessian(mlp, X, y, curvature=curvature) + 0.05 * torch.eye(mlp.n_params)
        solution, check = inverse_hvp(
            mlp, X, y, vectors, method="exact", curvature=curvature, damping=0.05, return_check=True
        )
        assert check.residual.max() < 1e-10 and check.n_rows == 80
        wrong = solution + 0.1 * torch.randn_like(solution)
        check = inverse_hvp_check(mlp, X, y, wrong, vectors, curvature=curvature, damping=0.05)
        expected = (wrong @ matrix - vectors).norm(dim=1) / vectors.norm(dim=1)
        torch.testing.assert_close(check.residual, expected)
        rayleigh = (wrong * (wrong @ matrix)).sum(1) / (wrong * wrong).sum(1)
        torch.testing.assert_close(check.rayleigh, rayleigh)
        if curvature == "gauss_newton":
            assert (check.rayleigh >= 0.05 - 1e-12).all()
    # a random subsample of max_rows rows, and inf for a non-finite solution
    sub = inverse_hvp_check(mlp, X, y, wrong, vectors, max_rows=30, random_state=0)
    assert sub.n_rows == 30 and torch.isfinite(sub.residual).all()
    wrong[1, 0] = float("nan")
    broken = inverse_hvp_check(mlp, X, y, wrong, vectors)
    assert torch.isfinite(broken.residual[0]) and broken.residual[1] == float("inf")
