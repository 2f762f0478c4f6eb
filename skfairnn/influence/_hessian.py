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

Curvature. The influence approximation (FairIF Eq. 7–9) assumes ``H`` positive
definite, which holds at a strict minimum of a convex model such as logistic
regression. The Hessian of a network's loss away from an exact minimum is
usually indefinite (a 32×32 ReLU MLP after 10 epochs had 55 eigenvalues below
``−δ = −0.01``); then ``H + δ I`` has no meaningful inverse, LiSSA's Neumann
series grows along the negative directions and its answer depends on its
depth. The Gauss-Newton matrix ``Σ_i w_i ℓ''(f_i) ∇f_i ∇f_iᵀ`` is positive
semi-definite for a convex loss and equals the Hessian whenever the logits are
affine in the parameters (:func:`logits_are_affine`); ``curvature="auto"``
picks the Hessian then and Gauss-Newton otherwise (:func:`resolve_curvature`).
:func:`inverse_hvp_check` measures a solution's relative residual and the
curvature along it, from one HVP on at most :data:`CHECK_ROWS` rows.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from sklearn.utils import check_random_state
from torch.func import grad, hessian, jacrev, jvp, vjp, vmap

from ._functional import FunctionalModel, LossFn, bce_with_logits, iter_chunks

__all__ = [
    "CHECK_ROWS",
    "CURVATURES",
    "INVERSE_HVP_METHODS",
    "SolveCheck",
    "dense_hessian",
    "estimate_top_eigenvalue",
    "hvp",
    "inverse_hvp",
    "inverse_hvp_check",
    "logits_are_affine",
    "resolve_curvature",
]

_MAX_EXACT_PARAMS = 20_000
#: curvature matrices; every function taking ``curvature`` also accepts ``"auto"``
#: (:func:`resolve_curvature`)
CURVATURES = ("hessian", "gauss_newton")
#: most rows on which :func:`inverse_hvp_check` evaluates ``(H + δ I) u``; a random
#: subsample of this size is drawn from larger training sets
CHECK_ROWS = 4096


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
    # not materialize_grads=True: with is_grads_batched it returns zeros without the batch
    # dimension (seen on torch 2.13), so a parameter whose gradient does not depend on the
    # parameters gets its batched zeros here
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


def logits_are_affine(
    model: FunctionalModel,
    X,
    *,
    n_rows: int = 64,
    n_directions: int = 2,
    rtol: float = 1e-6,
) -> bool:
    r"""Whether the logits are affine in the model's variable parameters.

    Evaluates the second directional derivative
    :math:`\frac{d^2}{dt^2} f(x, \theta + t v)|_{t=0} = v^\top \nabla^2_\theta f(x)\, v`
    of the logits on the first ``n_rows`` rows along ``n_directions`` fixed
    random directions ``v`` (forward-over-forward mode). It is exactly zero for
    an affine map (logistic regression, or a network of which only the output
    layer's parameters are variable, see :func:`last_layer_parameters`) and of
    the order of the first derivative for a network with a hidden layer
    between two variable layers. When it is zero the loss Hessian
    :math:`\sum_i w_i \ell''_i \nabla f_i \nabla f_i^\top + \sum_i w_i
    \ell'_i \nabla^2 f_i` equals its Gauss-Newton part.

    Parameters
    ----------
    model : FunctionalModel
        The network.
    X : array-like or Tensor
        Input rows (only the first ``n_rows`` are used).
    n_rows : int, default=64
        Rows evaluated.
    n_directions : int, default=2
        Random directions tried (fixed seed, so the answer is deterministic).
    rtol : float, default=1e-6
        The logits count as affine if the largest second derivative is at
        most ``rtol`` times the largest first derivative.

    Returns
    -------
    bool
    """
    X = model.to_tensor(X[:n_rows])
    generator = torch.Generator().manual_seed(0)

    def logits(params):
        return model.logits(params, X)

    for _ in range(n_directions):
        flat = torch.randn(model.n_params, generator=generator, dtype=torch.float64)
        direction = model.unflatten(flat.to(device=model.device, dtype=model.dtype))

        def first(params, direction=direction):
            return jvp(logits, (params,), (direction,))[1]

        slope, second = jvp(first, (model.params,), (direction,))
        if float(second.abs().max()) > rtol * float(slope.abs().max()):
            return False
    return True


def resolve_curvature(model: FunctionalModel, X, curvature: str) -> str:
    """The curvature matrix ``"auto"`` stands for, or ``curvature`` itself.

    ``"auto"`` is ``"hessian"`` when the logits are affine in the variable
    parameters (:func:`logits_are_affine`; then the Hessian of a convex loss
    is positive semi-definite and equals the Gauss-Newton matrix, FairIF's
    Table 4 setting) and ``"gauss_newton"`` otherwise (a network, whose
    Hessian is usually indefinite away from an exact minimum).

    Parameters
    ----------
    model : FunctionalModel
        The network at the trained parameters.
    X : array-like or Tensor
        Training rows (the first 64 are used for the test).
    curvature : {"auto", "hessian", "gauss_newton"}
        Requested curvature.

    Returns
    -------
    {"hessian", "gauss_newton"}
    """
    if curvature == "auto":
        return "hessian" if logits_are_affine(model, X) else "gauss_newton"
    if curvature not in CURVATURES:
        raise ValueError(
            f"curvature must be one of {sorted(('auto', *CURVATURES))}; got {curvature!r}."
        )
    return curvature


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
    curvature : {"hessian", "gauss_newton", "auto"}, default="hessian"
        The exact Hessian, or its Gauss-Newton part ``Σ_i w_i ℓ''_i J_iᵀ J_i``
        (positive semi-definite; equal to the Hessian for linear models);
        ``"auto"``: see :func:`resolve_curvature`.
    chunk_size : int or None, default=8192
        Rows per chunk (the products are summed over chunks).

    Returns
    -------
    Tensor of the shape of ``vectors``
    """
    curvature = resolve_curvature(model, X, curvature)
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
    curvature = resolve_curvature(model, X, curvature)
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
                f"LiSSA diverged (scale={scale:.4g}, curvature={curvature!r}); the scale must "
                "exceed the largest eigenvalue of the minibatch Hessian plus damping, and the "
                "Hessian plus damping must be positive definite: pass a larger "
                "lissa_scale/scale, a larger damping or a larger batch size, or use "
                "curvature='gauss_newton' (positive semi-definite) for a network."
            )
        estimates += h / scale
    return estimates / repeats


INVERSE_HVP_METHODS = {"lissa": _solve_lissa, "cg": _solve_cg, "exact": _solve_exact}


class SolveCheck(NamedTuple):
    """Accuracy of a solution ``u`` of ``(H + δ I) u = g``, one entry per right-hand side.

    Attributes
    ----------
    residual : Tensor of shape (k,)
        Relative residual ``‖(H + δ I) u − g‖ / ‖g‖`` (``inf`` for a
        non-finite ``u``).
    rayleigh : Tensor of shape (k,)
        Curvature along the solution, ``uᵀ (H + δ I) u / uᵀ u``. It is at
        least ``δ`` for a positive semi-definite ``H``; a negative value proves
        ``H + δ I`` indefinite, so that ``u`` is no minimiser's influence.
    n_rows : int
        Rows on which ``H`` was evaluated.
    """

    residual: torch.Tensor
    rayleigh: torch.Tensor
    n_rows: int


def inverse_hvp_check(
    model: FunctionalModel,
    X,
    y,
    solution: torch.Tensor,
    vectors: torch.Tensor,
    *,
    weights=None,
    loss: LossFn = bce_with_logits,
    curvature: str = "hessian",
    damping: float = 0.01,
    max_rows: int | None = CHECK_ROWS,
    chunk_size: int | None = 8192,
    random_state=None,
) -> SolveCheck:
    """Relative residual of an inverse-HVP solution and the curvature along it.

    One HVP of ``solution`` with ``H``, the curvature of the weighted mean
    loss over the rows ``X, y`` (all of them, or a random subsample of
    ``max_rows``), gives ``‖(H + δ I) u − g‖ / ‖g‖`` and
    ``uᵀ (H + δ I) u / uᵀ u`` for each right-hand side. An exact or CG
    solution has a residual near 0 (up to the subsample's sampling noise);
    LiSSA's last minibatch step leaves about ``(H − H_B) u`` (measured
    0.04–0.25 for batches of 256, with solutions within cosine 0.98–1.0 of the
    exact one); a solve of an indefinite system, where LiSSA's series grows,
    typically gives values far above 1 and a negative curvature.

    Parameters
    ----------
    model : FunctionalModel
        The network at the trained parameters.
    X, y : array-like or Tensor
        Training rows defining ``H``.
    solution : Tensor of shape (P,) or (k, P)
        The solution ``u``.
    vectors : Tensor of the shape of ``solution``
        The right-hand sides ``g``.
    weights : array-like of shape (n,), default=None
        Row weights ``w_i``.
    loss : callable, default=bce_with_logits
        Per-row loss.
    curvature : {"auto", "hessian", "gauss_newton"}, default="hessian"
        The curvature matrix the solution was computed for.
    damping : float, default=0.01
        ``δ``.
    max_rows : int or None, default=CHECK_ROWS
        Rows of the subsample (4096); ``None`` uses every row.
    chunk_size : int or None, default=8192
        Rows per chunk of the HVP.
    random_state : int, RandomState instance or None, default=None
        Draws the subsample.

    Returns
    -------
    SolveCheck
    """
    curvature = resolve_curvature(model, X, curvature)
    X, y, w = _prepare(model, X, y, weights)
    if max_rows is not None and len(X) > max_rows:
        rows = torch.as_tensor(
            check_random_state(random_state).choice(len(X), size=max_rows, replace=False)
        ).to(X.device)
        X, y, w = X[rows], y[rows], w[rows]
    solution = solution.reshape(-1, model.n_params).to(device=model.device, dtype=model.dtype)
    vectors = vectors.reshape(-1, model.n_params).to(device=model.device, dtype=model.dtype)
    finite = torch.isfinite(solution).all(1)
    safe = torch.where(finite[:, None], solution, torch.zeros_like(solution))
    product = hvp(
        model, X, y, safe, weights=w, loss=loss, curvature=curvature, chunk_size=chunk_size
    )
    product = product + damping * safe
    residual = (product - vectors).norm(dim=1) / vectors.norm(dim=1).clamp_min(1e-300)
    rayleigh = (safe * product).sum(1) / (safe * safe).sum(1).clamp_min(1e-300)
    infinite = torch.full_like(residual, math.inf)
    residual = torch.where(finite & torch.isfinite(residual), residual, infinite)
    rayleigh = torch.where(finite, rayleigh, torch.full_like(rayleigh, math.nan))
    return SolveCheck(residual.detach(), rayleigh.detach(), len(X))


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
    return_check: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, SolveCheck]:
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
    curvature : {"hessian", "gauss_newton", "auto"}, default="hessian"
        ``H`` is the Hessian (FairIF Eq. 7) or its positive semi-definite
        Gauss-Newton part (see :func:`hvp`), which keeps LiSSA and CG stable
        on non-convex networks; ``"auto"`` is the Hessian when the logits are
        affine in the parameters and Gauss-Newton otherwise
        (:func:`resolve_curvature`). The Hessian of a network away from an
        exact minimum is usually indefinite, and then no solver returns a
        meaningful answer (see the module docstring).
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
    return_check : bool, default=False
        Also return :func:`inverse_hvp_check` of the solution (one more HVP,
        on at most :data:`CHECK_ROWS` rows).

    Returns
    -------
    solution : Tensor of the shape of ``vectors``
    check : SolveCheck
        Only with ``return_check=True``.
    """
    try:
        solver = INVERSE_HVP_METHODS[method]
    except KeyError:
        raise ValueError(
            f"method must be one of {sorted(INVERSE_HVP_METHODS)}; got {method!r}."
        ) from None
    curvature = resolve_curvature(model, X, curvature)
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
    result = solution[0] if single else solution
    if not return_check:
        return result
    check = inverse_hvp_check(
        model,
        X,
        y,
        solution,
        vectors,
        weights=weights,
        loss=loss,
        curvature=curvature,
        damping=damping,
        chunk_size=chunk_size,
        random_state=random_state,
    )
    return result, check
