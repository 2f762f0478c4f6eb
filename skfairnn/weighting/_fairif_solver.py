# SPDX-License-Identifier: BSD-3-Clause
"""FairIF's influence estimates and the solver of its Eq. (14) (Wang, Wu & He, WSDM 2024).

:func:`tpr_tnr_gap_influence` measures the Gumbel-softmax-relaxed TPR and TNR
gaps between the validation groups (Sec. 4.2) and, through influence
functions, how each training row's weight moves them (Eq. 9–13): two
inverse-Hessian-vector products, ``2 (G - 1)`` for ``G`` groups (one per
rate for two), and one streamed pass of Jacobian-vector products over
the training rows; nothing of size ``n × P`` or ``n × n`` is formed. Every
solve is checked by its relative residual, with an
:class:`~skfairnn.exceptions.InfluenceSolveWarning` when it is poor.
:func:`solve_fairif_epsilon` then minimises Eq. (14) exactly. The estimator
that runs both is :class:`~skfairnn.FairIFReweighter`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import torch
from sklearn.utils import check_random_state

from ..exceptions import InfluenceSolveWarning
from ..influence import (
    FunctionalModel,
    SolveCheck,
    grad_dot,
    inverse_hvp,
    resolve_curvature,
)

__all__ = [
    "METRICS",
    "RESIDUAL_THRESHOLD",
    "GapInfluence",
    "logistic_noise",
    "relaxed_rates",
    "solve_fairif_epsilon",
    "tpr_tnr_gap_influence",
]

METRICS = ("tpr", "tnr")
#: Relative residual ``‖(H + δ I) u − g‖ / ‖g‖`` of the inverse-HVP solve above
#: which an :class:`~skfairnn.exceptions.InfluenceSolveWarning` is emitted. Sound
#: LiSSA solves keep 0.04–0.25 from their last minibatch step (batches of 256; cosine
#: 0.98–1.0 with the exact solve at depth 300–1200), so 0.1 would flag them. LiSSA on
#: an indefinite Hessian measured 1.4 to overflow once its series grows; a short
#: recursion that has not grown yet can stay below (then a negative ``uᵀ(H + δ I)u``
#: often still warns, but not always: the check is a safety net, Gauss-Newton the fix).
RESIDUAL_THRESHOLD = 0.5


def logistic_noise(n_draws: int, n_rows: int, random_state=None) -> torch.Tensor:
    """Differences of two Gumbel(0, 1) draws (i.e. Logistic(0, 1)), shape ``(S, n)``.

    ``n_draws=0`` gives a single row of zeros (the noise-free tempered sigmoid).
    """
    if n_draws == 0:
        return torch.zeros(1, n_rows, dtype=torch.float64)
    rng = check_random_state(random_state)
    uniform = rng.uniform(1e-12, 1 - 1e-12, size=(n_draws, n_rows))
    return torch.as_tensor(np.log(uniform) - np.log1p(-uniform))


def relaxed_rates(
    logits: torch.Tensor,
    y: torch.Tensor,
    groups: torch.Tensor,
    n_groups: int,
    noise: torch.Tensor,
    temperature: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Gumbel-softmax-relaxed TPR and TNR of each group, with their logit derivatives.

    The hard prediction :math:`\mathbb 1[f > 0]` is the argmax of the two
    logits :math:`(0, f)`; its Gumbel-softmax relaxation [1]_ is
    :math:`s = \sigma((f + g_1 - g_0)/\tau)`, averaged over the ``S`` noise
    draws given. :math:`F_{TPR}` of a group is the mean of :math:`s` over its
    positives, :math:`F_{TNR}` the mean of :math:`1 - s` over its negatives
    (Sec. 4.2 of FairIF).

    Returns
    -------
    rates : Tensor of shape (2, n_groups)
        Row 0 TPR, row 1 TNR; 0 for an empty cell.
    counts : Tensor of shape (2, n_groups)
        Rows per cell (positives, negatives).
    jacobian : Tensor of shape (2, n_groups, n)
        ``∂ rates / ∂ logits``.

    References
    ----------
    .. [1] Jang, Gu & Poole, "Categorical Reparameterization with
       Gumbel-Softmax", ICLR 2017.
    """
    noise = noise.to(logits)
    soft = torch.sigmoid((logits[None, :] + noise) / temperature)
    positive = soft.mean(0)
    slope = (soft * (1 - soft)).mean(0) / temperature
    membership = torch.nn.functional.one_hot(groups, n_groups).T.to(logits)  # (G, n)
    cells = torch.stack([membership * (y == 1), membership * (y == 0)])  # (2, G, n)
    counts = cells.sum(-1)
    shares = cells / counts.clamp_min(1)[..., None]
    rates = torch.stack([shares[0] @ positive, shares[1] @ (1 - positive)])
    jacobian = torch.stack([shares[0] * slope, -shares[1] * slope])
    return rates, counts, jacobian


@dataclass
class GapInfluence:
    """Validation gaps and the linearised effect of each training row's weight on them.

    Attributes
    ----------
    gaps : ndarray of shape (M,)
        ``diff(D^s, F, θ*) = F(D^g) − F(D^h)`` of each constraint.
    influence : ndarray of shape (n_train, M)
        ``influence[i, c]``: change of gap ``c`` per unit of ``ε_i``,
        ``(∇F̄(D^h) − ∇F̄(D^g))ᵀ H⁻¹ w_i ∇ℓ(z_i, θ*)`` (Eq. 13).
    constraints : list of tuple
        ``(metric, g, h)`` with ``metric`` in ``("tpr", "tnr")`` and group codes.
    curvature : {"hessian", "gauss_newton"}
        Curvature matrix ``H`` the influence was computed with.
    solve_residual : float
        Largest relative residual ``‖(H + δ I) u − g‖ / ‖g‖`` of the solved
        vectors ``u ≈ (H + δ I)⁻¹ g`` (see
        :func:`~skfairnn.influence.inverse_hvp_check`).
    solve_rayleigh : float
        Smallest curvature ``uᵀ (H + δ I) u / uᵀ u`` along them; negative
        when ``H + δ I`` is indefinite.
    """

    gaps: np.ndarray
    influence: np.ndarray
    constraints: list
    curvature: str = "hessian"
    solve_residual: float = math.nan
    solve_rayleigh: float = math.nan

    def predict(self, epsilon: np.ndarray) -> np.ndarray:
        """Gaps predicted after re-weighting by ``1/n + ε`` (first order)."""
        return self.gaps + self.influence.T @ epsilon


def _rate_gradients(model, X_val, jacobian) -> torch.Tensor:
    """``∇θ`` of every (metric, group) rate: one VJP of the validation logits each."""
    _, pullback = torch.func.vjp(lambda p: model.logits(p, X_val), model.params)
    cotangents = jacobian.reshape(-1, jacobian.shape[-1]).to(model.dtype)
    return model.flatten(torch.func.vmap(pullback)(cotangents)[0])


def _constraint_basis(counts: torch.Tensor):
    """Per metric, the groups with rows in the cell; the first is the reference."""
    basis = []
    for m in range(len(METRICS)):
        present = [g for g in range(counts.shape[1]) if counts[m, g] > 0]
        basis.append(present if len(present) >= 2 else [])
    return basis


def tpr_tnr_gap_influence(
    model: FunctionalModel,
    X_train,
    y_train,
    X_val,
    y_val,
    groups_val,
    n_groups: int,
    *,
    train_weights=None,
    noise: torch.Tensor,
    temperature: float = 1.0,
    inverse_hvp_params: dict | None = None,
    chunk_size: int | None = 8192,
    residual_threshold: float = RESIDUAL_THRESHOLD,
) -> GapInfluence:
    """Gaps of the relaxed TPR/TNR between groups and their influence matrix (Eq. 9–14).

    For each rate ``F`` and each pair of groups ``g < h`` present in the
    cell, the gap ``F(D^g) − F(D^h)`` and its derivative with respect to
    each training weight. The needed vectors ``H⁻¹(∇F̄(D^g) − ∇F̄(D^ref))``
    (``2 (G − 1)`` of them, 2 for two groups) are solved together, then one
    streamed :func:`~skfairnn.influence.grad_dot` pass gives every row's
    coefficients. One more HVP checks the solve
    (:func:`~skfairnn.influence.inverse_hvp_check`).

    Parameters
    ----------
    model : FunctionalModel
        Stage-one network at ``θ*``.
    X_train, y_train : Tensor
        Training rows (targets 0/1) defining ``H`` and the weights ``ε``.
    X_val, y_val, groups_val : Tensor
        Validation rows with their group codes in ``[0, n_groups)``.
    n_groups : int
        Number of groups.
    train_weights : Tensor of shape (n_train,), default=None
        User weights ``w_i`` of the training loss (mean 1 over the rows of positive weight).
    noise : Tensor of shape (S, n_val)
        Gumbel noise differences (:func:`logistic_noise`).
    temperature : float, default=1.0
        Gumbel-softmax temperature ``τ``.
    inverse_hvp_params : dict, default=None
        Keyword arguments of :func:`~skfairnn.influence.inverse_hvp`; its
        ``curvature`` defaults to ``"auto"`` here (the Hessian for a model
        whose logits are affine in its parameters, Gauss-Newton otherwise).
    chunk_size : int or None, default=8192
        Rows per chunk of the streamed pass.
    residual_threshold : float, default=RESIDUAL_THRESHOLD
        Relative residual of the solve above which an
        :class:`~skfairnn.exceptions.InfluenceSolveWarning` is emitted (0.5);
        negative curvature along a solution always warns.

    Returns
    -------
    GapInfluence

    Warns
    -----
    InfluenceSolveWarning
        If the solve's relative residual exceeds ``residual_threshold`` or
        ``H + δ I`` has negative curvature along a solved vector.
    """
    X_val = model.to_tensor(X_val)
    groups_val = torch.as_tensor(groups_val, device=model.device)
    y_val = torch.as_tensor(y_val, device=model.device)
    with torch.no_grad():
        logits = model.logits(model.params, X_val)
    rates, counts, jacobian = relaxed_rates(logits, y_val, groups_val, n_groups, noise, temperature)
    rate_grads = _rate_gradients(model, X_val, jacobian).reshape(len(METRICS), n_groups, -1)
    basis = _constraint_basis(counts)
    columns = {}
    vectors = []
    for m, present in enumerate(basis):
        for g in present[1:]:
            columns[(m, g)] = len(vectors)
            vectors.append(rate_grads[m, g] - rate_grads[m, present[0]])
    if not vectors:
        raise ValueError(
            "The validation rows give no pair of groups with positives or with negatives "
            "in common, so no TPR/TNR gap can be measured; add validation rows of both "
            "classes to at least two groups."
        )
    params = {"curvature": "auto", **(inverse_hvp_params or {})}
    params["curvature"] = resolve_curvature(model, X_train, params["curvature"])
    solved, check = inverse_hvp(
        model,
        X_train,
        y_train,
        torch.stack(vectors),
        weights=train_weights,
        return_check=True,
        **params,
    )
    _warn_if_unreliable(check, params, residual_threshold)
    coefficients = grad_dot(model, X_train, y_train, solved, chunk_size=chunk_size)
    if train_weights is not None:
        coefficients = coefficients * model.to_tensor(train_weights)[:, None]
    coefficients = coefficients.double().cpu().numpy()
    zeros = np.zeros(len(coefficients))
    gaps, influence, constraints = [], [], []
    for m, present in enumerate(basis):
        for g, h in combinations(present, 2):
            col_g = coefficients[:, columns[(m, g)]] if (m, g) in columns else zeros
            col_h = coefficients[:, columns[(m, h)]] if (m, h) in columns else zeros
            gaps.append(float(rates[m, g] - rates[m, h]))
            influence.append(col_h - col_g)
            constraints.append((METRICS[m], g, h))
    return GapInfluence(
        np.asarray(gaps),
        np.column_stack(influence),
        constraints,
        curvature=params["curvature"],
        solve_residual=float(check.residual.max()),
        solve_rayleigh=_smallest_rayleigh(check),
    )


def _smallest_rayleigh(check: SolveCheck) -> float:
    """Smallest defined ``uᵀ (H + δ I) u / uᵀ u`` (NaN where the product overflowed)."""
    defined = check.rayleigh[~torch.isnan(check.rayleigh)]
    return float(defined.min()) if len(defined) else math.nan


def _warn_if_unreliable(check: SolveCheck, params: dict, threshold: float) -> None:
    """Emit an :class:`InfluenceSolveWarning` for a poor residual or negative curvature."""
    residual = float(check.residual.max())
    rayleigh = _smallest_rayleigh(check)
    problems = []
    if not residual <= threshold:
        problems.append(f"relative residual ‖(H + δI)u − g‖/‖g‖ = {residual:.3g} > {threshold:g}")
    if rayleigh < 0:  # NaN when the product overflowed: the residual reports that
        problems.append(f"negative curvature uᵀ(H + δI)u/uᵀu = {rayleigh:.3g} along a solution")
    if not problems:
        return
    curvature = params["curvature"]
    advice = "a larger damping, or a more exact solve (a larger lissa_depth, or hessian='cg')"
    cause = ""
    if curvature == "hessian":
        advice = "curvature='gauss_newton' (positive semi-definite), " + advice
        cause = " The Hessian of a network away from an exact minimum is usually indefinite."
    warnings.warn(
        "The inverse-Hessian-vector product behind FairIF's influence estimates (Eq. 13) "
        f"is unreliable: {' and '.join(problems)}, on {check.n_rows} training rows "
        f"(curvature={curvature!r}, method={params.get('method', 'lissa')!r}, "
        f"damping={params.get('damping', 0.01):g}).{cause} The influence estimates and the "
        f"weights solved from them are then not trustworthy; use {advice}.",
        InfluenceSolveWarning,
        stacklevel=3,
    )


def _shrunk_norm(mu, eigenvalues, projections):
    """``2 μ ‖ε(μ)‖`` for ``ε(μ) = −A (AᵀA + μ I)⁻¹ d`` in AᵀA's eigenbasis."""
    return 2 * mu * np.sqrt(np.sum(eigenvalues * projections**2 / (eigenvalues + mu) ** 2))


def solve_fairif_epsilon(gaps: np.ndarray, influence: np.ndarray, l2_weight: float) -> np.ndarray:
    r"""Exact minimiser of FairIF's Eq. (14).

    .. math::

        \min_\epsilon \|d + A^\top \epsilon\|_2^2 + \lambda \|\epsilon\|_2

    with ``A = influence.T`` (one row per constraint) and ``d = gaps``. The
    minimiser lies in the span of ``A``'s rows: ``ε = 0`` when
    :math:`\lambda \ge 2\|A^\top d\|`, otherwise
    :math:`\epsilon = -A^\top (A A^\top + \mu I)^{-1} d` with the scalar
    :math:`\mu = \lambda / (2\|\epsilon\|)` found by bisection (a monotone
    equation). Only the ``M × M`` Gram matrix is factorised; ``λ = 0`` gives
    the minimum-norm exact solution.
    """
    influence = np.asarray(influence, dtype=np.float64)
    gaps = np.asarray(gaps, dtype=np.float64)
    eigenvalues, basis = np.linalg.eigh(influence.T @ influence)
    eigenvalues = np.clip(eigenvalues, 0, None)
    projections = basis.T @ gaps
    keep = eigenvalues > eigenvalues.max(initial=0) * 1e-12
    if not keep.any():
        return np.zeros(len(influence))
    if l2_weight == 0:
        coef = np.where(keep, projections / np.where(keep, eigenvalues, 1), 0)
        return -influence @ (basis @ coef)
    limit = 2 * np.sqrt(np.sum(eigenvalues * projections**2))
    if l2_weight >= limit:
        return np.zeros(len(influence))
    low, high = eigenvalues.max() * 1e-12, max(eigenvalues.max(), 1.0)
    while _shrunk_norm(low, eigenvalues, projections) > l2_weight and low > 1e-300:
        low /= 1e3
    for _ in range(200):
        if _shrunk_norm(high, eigenvalues, projections) >= l2_weight:
            break
        high *= 10
    for _ in range(200):
        mid = np.sqrt(low * high)
        if _shrunk_norm(mid, eigenvalues, projections) < l2_weight:
            low = mid
        else:
            high = mid
    mu = np.sqrt(low * high)
    return -influence @ (basis @ (projections / (eigenvalues + mu)))
