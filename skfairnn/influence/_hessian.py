# SPDX-License-Identifier: BSD-3-Clause
"""Hessian-vector products and inverse-Hessian-vector products.

The Hessian is that of the weighted mean training loss
``L(θ) = (1/n) Σ_i w_i ℓ(z_i, θ)`` at the trained parameters (FairIF Eq. 7),
plus a damping term ``δ I`` that keeps the system well posed when the network
is not at an exact, strictly convex minimum. Three solvers of
``(H + δ I) x = v`` share one signature (:func:`inverse_hvp`):

``"lissa"``
    The stochastic recursion of Agarwal et al. as FairIF App. C states it
    (Koh & Liang's ``get_inverse_hvp_lissa``):
    ``h_j = v + h_{j-1} − (H_B h_{j-1} + δ h_{j-1}) / s`` on a fresh minibatch
    ``B`` per step, ``x = h_J / s``, repeated ``repeats`` times and averaged.
    The scale ``s`` must exceed the largest eigenvalue of ``H_B + δ I``; by
    default it is estimated by power iteration. Cost: ``depth × repeats``
    minibatch HVPs, independent of ``n``.
``"cg"``
    Conjugate gradients on full-data HVPs (streamed in chunks); exact in
    exact arithmetic, each iteration costs about three passes over the data.
``"exact"``
    Forms the dense ``P × P`` Hessian and solves; for small models and tests.

Several right-hand sides ``(k, P)`` are solved together: each HVP is one
``vmap`` over the ``k`` vectors, so FairIF's two vectors (TPR and TNR) cost
about one solve.
"""

from __future__ import annotations

import math

import torch
from sklearn.utils import check_random_state
from torch.func import grad, hessian, jacrev, jvp, vjp, vmap

from ._functional import FunctionalModel, LossFn, bce_with_logits, iter_chunks

__all__ = [
    "CURVATURES",
    "INVERSE_HVP_METHODS",
    "dense_hessian",
    "estimate_top_eigenvalue",
    "hvp",
    "inverse_hvp",
]

_MAX_EXACT_PARAMS = 20_000
CURVATURES = ("hessian", "gauss_newton")


def _weighted_loss(model: FunctionalModel, loss: LossFn):
    def total_loss(params, X, y, w):
        return (w * loss(model.logits(params, X), y)).sum()

    return total_loss


def _prepare(model: FunctionalModel, X, y, weights):
    X, y = model.to_tensor(X), model.to_tensor(y)
    weights = torch.ones(len(X)) if weights is None else weights
    return X, y, model.to_tensor(weights)


def _logit_curvature(loss: LossFn, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``∂²ℓ(f_i, y_i)/∂f_i²`` for each row."""

    def one(f, t):
        return loss(f.unsqueeze(0), t.unsqueeze(0)).sum()

    return vmap(grad(grad(one)))(logits.detach(), target)


def _batched_hvp(model, loss, X, y, w, vectors, curvature="hessian") -> torch.Tensor:
    """``Σ_{i in batch} w_i ∇²ℓ_i`` (or its Gauss-Newton part) times each row of ``vectors``."""
    if curvature == "gauss_newton":
        return _batched_gnvp(model, loss, X, y, w, vectors)
    # reverse-over-reverse with batched cotangents: the fastest route measured on CPU
    with torch.enable_grad():
        leaves = {name: p.detach().requires_grad_(True) for name, p in model.params.items()}
        inputs = list(leaves.values())
        total = _weighted_loss(model, loss)(leaves, X, y, w)
        gradient = torch.autograd.grad(total, inputs, create_graph=True)
        tangents = list(model.unflatten(vectors).values())
        products = torch.autograd.grad(
            gradient, inputs, grad_outputs=tangents, is_grads_batched=True, allow_unused=True
        )
    products = [torch.zeros_like(t) if p is None else p for p, t in zip(products, tangents)]
    return model.flatten(dict(zip(leaves, products))).detach()


def _batched_gnvp(model, loss, X, y, w, vectors) -> torch.Tensor:
    """Gauss-Newton product ``Σ_i w_i ℓ''(f_i) J_iᵀ J_i v`` (PSD for convex ℓ)."""
    logits, pullback = vjp(lambda p: model.logits(p, X), model.params)
    weight = w * _logit_curvature(loss, logits, y)

    def one(tangent):
        direction = jvp(lambda p: model.logits(p, X), (model.params,), (tangent,))[1]
        return pullback(weight * direction)[0]

    return model.flatten(vmap(one)(model.unflatten(vectors)))


def hvp(
    model: FunctionalModel,
    X,
    y,
    vectors: torch.Tensor,
    *,
    weights=None,
    loss: LossFn = bce_with_logits,
    curvature: str = "hessian",
    chunk_size: int | None = 8192,
) -> torch.Tensor:
    """Hessian of ``(1/n) Σ_i w_i ℓ(z_i, θ)`` times one or more vectors.

    Parameters
    ----------
    model : FunctionalModel
        The network at the trained parameters.
    X, y : array-like or Tensor
        The rows defining the Hessian (all training rows, or a minibatch).
    vectors : Tensor of shape (P,) or (k, P)
        Flat parameter-space vectors.
    weights : array-like of shape (n,), default=None
        Row weights ``w_i`` (1 if None).
    loss : callable, default=bce_with_logits
        Per-row loss.
    curvature : {"hessian", "gauss_newton"}, default="hessian"
        The exact Hessian, or its Gauss-Newton part ``Σ_i w_i ℓ''_i J_iᵀ J_i``
        (positive semi-definite; equal to the Hessian for linear models).
    chunk_size : int or None, default=8192
        Rows per chunk (the products are summed over chunks).

    Returns
    -------
    Tensor of the shape of ``vectors``
    """
    single = vectors.dim() == 1
    vectors = vectors.reshape(-1, model.n_params).to(device=model.device, dtype=model.dtype)
    X, y, w = _prepare(model, X, y, weights)
    total = torch.zeros_like(vectors)
    for rows in iter_chunks(len(X), chunk_size):
        total += _batched_hvp(model, loss, X[rows], y[rows], w[rows], vectors, curvature)
    total = total / len(X)
    return total[0] if single else total


def dense_hessian(
    model: FunctionalModel,
    X,
    y,
    *,
    weights=None,
    loss: LossFn = bce_with_logits,
    curvature: str = "hessian",
    chunk_size: int | None = 8192,
) -> torch.Tensor:
    """The dense ``P × P`` Hessian of ``(1/n) Σ_i w_i ℓ(z_i, θ)`` (or Gauss-Newton matrix).

    Raises
    ------
    ValueError
        If the model has more than 20,000 variable parameters.
    """
    if model.n_params > _MAX_EXACT_PARAMS:
        raise ValueError(
            f"The dense Hessian of {model.n_params} parameters is too large "
            f"(limit {_MAX_EXACT_PARAMS}); use method='lissa' or 'cg', or restrict the "
            "influence computation to the last layers."
        )
    X, y, w = _prepare(model, X, y, weights)
    total_loss = _weighted_loss(model, loss)
    flat = model.flatten(model.params)
    result = torch.zeros(model.n_params, model.n_params, device=model.device, dtype=model.dtype)
    for rows in iter_chunks(len(X), chunk_size):
        if curvature == "gauss_newton":

            def chunk_logits(theta, rows=rows):
                return model.logits(model.unflatten(theta), X[rows])

            matrix = jacrev(chunk_logits)(flat)
            logits = model.logits(model.params, X[rows])
            weight = w[rows] * _logit_curvature(loss, logits, y[rows])
            result += matrix.T @ (weight[:, None] * matrix)
            continue

        def flat_loss(theta, rows=rows):
            return total_loss(model.unflatten(theta), X[rows], y[rows], w[rows])

        result += hessian(flat_loss)(flat)
    return result / len(X)


def estimate_top_eigenvalue(
    model: FunctionalModel,
    X,
    y,
    *,
    weights=None,
    loss: LossFn = bce_with_logits,
    curvature: str = "hessian",
    n_iter: int = 20,
    random_state=None,
) -> float:
    """Largest eigenvalue of the Hessian on the rows given, by power iteration."""
    generator = torch.Generator().manual_seed(_seed(random_state))
    vector = torch.randn(model.n_params, generator=generator).to(model.device, model.dtype)
    value = 0.0
    for _ in range(n_iter):
        vector = vector / vector.norm().clamp_min(1e-30)
        product = hvp(model, X, y, vector, weights=weights, loss=loss, curvature=curvature)
        value = float(vector @ product)
        vector = product
    return abs(value)


def _seed(random_state) -> int:
    return int(check_random_state(random_state).randint(2**31 - 1))


def _solve_exact(model, X, y, vectors, *, weights, loss, curvature, damping, chunk_size, **_):
    matrix = dense_hessian(
        model, X, y, weights=weights, loss=loss, curvature=curvature, chunk_size=chunk_size
    )
    matrix = matrix + damping * torch.eye(model.n_params, device=matrix.device, dtype=matrix.dtype)
    return torch.linalg.solve(matrix, vectors.T).T


def _solve_cg(
    model, X, y, vectors, *, weights, loss, curvature, damping, chunk_size, max_iter, tol, **_
):
    def operator(v):
        product = hvp(
            model, X, y, v, weights=weights, loss=loss, curvature=curvature, chunk_size=chunk_size
        )
        return product + damping * v

    solution = torch.zeros_like(vectors)
    residual = vectors.clone()
    direction = residual.clone()
    rs_old = (residual * residual).sum(1)
    threshold = (tol**2) * rs_old
    for _ in range(max_iter):
        if bool((rs_old <= threshold).all()):
            break
        product = operator(direction)
        alpha = rs_old / (direction * product).sum(1).clamp_min(1e-300)
        solution += alpha[:, None] * direction
        residual -= alpha[:, None] * product
        rs_new = (residual * residual).sum(1)
        direction = residual + (rs_new / rs_old.clamp_min(1e-300))[:, None] * direction
        rs_old = rs_new
    return solution


def _solve_lissa(
    model,
    X,
    y,
    vectors,
    *,
    weights,
    loss,
    curvature,
    damping,
    scale,
    depth,
    repeats,
    batch_size,
    random_state,
    **_,
):
    X, y, w = _prepare(model, X, y, weights)
    n_rows = len(X)
    batch_size = min(batch_size, n_rows)
    rng = check_random_state(random_state)
    if scale is None:
        rows = rng.choice(n_rows, size=min(n_rows, 4 * batch_size), replace=False)
        top = estimate_top_eigenvalue(
            model, X[rows], y[rows], weights=w[rows], loss=loss, curvature=curvature, n_iter=10
        )
        scale = 2.0 * (top + damping)
    generator = torch.Generator().manual_seed(_seed(rng))
    estimates = torch.zeros_like(vectors)
    for _ in range(repeats):
        h = vectors.clone()
        for _ in range(depth):
            batch = torch.randint(n_rows, (batch_size,), generator=generator).to(X.device)
            product = _batched_hvp(model, loss, X[batch], y[batch], w[batch], h, curvature)
            product = product / batch_size
            h = vectors + h - (product + damping * h) / scale
        if not bool(torch.isfinite(h).all()):
            raise FloatingPointError(
                f"LiSSA diverged (scale={scale:.4g}); the scale must exceed the largest "
                "eigenvalue of the minibatch Hessian plus damping: pass a larger "
                "lissa_scale/scale, a larger damping or a larger batch size."
            )
        estimates += h / scale
    return estimates / repeats


INVERSE_HVP_METHODS = {"lissa": _solve_lissa, "cg": _solve_cg, "exact": _solve_exact}


def inverse_hvp(
    model: FunctionalModel,
    X,
    y,
    vectors: torch.Tensor,
    *,
    method: str = "lissa",
    weights=None,
    loss: LossFn = bce_with_logits,
    curvature: str = "hessian",
    damping: float = 0.01,
    scale: float | None = None,
    depth: int = 1000,
    repeats: int = 1,
    batch_size: int = 256,
    max_iter: int = 100,
    tol: float = 1e-6,
    chunk_size: int | None = 8192,
    random_state=None,
) -> torch.Tensor:
    """Solve ``(H + δ I) x = v`` for one or more right-hand sides.

    ``H`` is the Hessian of ``(1/n) Σ_i w_i ℓ(z_i, θ)`` over the rows
    ``X, y`` at the model's parameters.

    Parameters
    ----------
    model : FunctionalModel
        The network at the trained parameters.
    X, y : array-like or Tensor
        Training rows defining the Hessian.
    vectors : Tensor of shape (P,) or (k, P)
        Right-hand sides ``v``.
    method : {"lissa", "cg", "exact"}, default="lissa"
        Solver (see the module docstring).
    weights : array-like of shape (n,), default=None
        Row weights ``w_i``.
    loss : callable, default=bce_with_logits
        Per-row loss.
    curvature : {"hessian", "gauss_newton"}, default="hessian"
        ``H`` is the Hessian (FairIF Eq. 7) or its positive semi-definite
        Gauss-Newton part (see :func:`hvp`), which keeps LiSSA and CG stable
        on non-convex networks.
    damping : float, default=0.01
        ``δ``, added to the Hessian's diagonal (Koh & Liang's default).
    scale : float, default=None
        LiSSA's scale ``s``; ``None`` estimates the top eigenvalue of a
        minibatch Hessian (10 power iterations on ``4 × batch_size`` rows) and
        takes twice it plus ``δ``.
    depth : int, default=1000
        LiSSA recursion depth ``J``.
    repeats : int, default=1
        LiSSA repetitions ``T`` averaged.
    batch_size : int, default=256
        LiSSA minibatch size ``B``.
    max_iter : int, default=100
        CG iterations.
    tol : float, default=1e-6
        CG relative residual tolerance.
    chunk_size : int or None, default=8192
        Rows per chunk in full-data HVPs (CG, exact).
    random_state : int, RandomState instance or None, default=None
        Seeds LiSSA's minibatches and the power iteration.

    Returns
    -------
    Tensor of the shape of ``vectors``
    """
    try:
        solver = INVERSE_HVP_METHODS[method]
    except KeyError:
        raise ValueError(
            f"method must be one of {sorted(INVERSE_HVP_METHODS)}; got {method!r}."
        ) from None
    if curvature not in CURVATURES:
        raise ValueError(f"curvature must be one of {list(CURVATURES)}; got {curvature!r}.")
    if not (damping >= 0 and math.isfinite(damping)):
        raise ValueError(f"damping must be a finite non-negative number; got {damping!r}.")
    single = vectors.dim() == 1
    vectors = vectors.reshape(-1, model.n_params).to(device=model.device, dtype=model.dtype)
    solution = solver(
        model,
        X,
        y,
        vectors,
        weights=weights,
        loss=loss,
        curvature=curvature,
        damping=damping,
        scale=scale,
        depth=depth,
        repeats=repeats,
        batch_size=batch_size,
        max_iter=max_iter,
        tol=tol,
        chunk_size=chunk_size,
        random_state=random_state,
    )
    return solution[0] if single else solution
