# SPDX-License-Identifier: BSD-3-Clause
"""FairIF: sample weights from influence functions (Wang, Wu & He, WSDM 2024).

Stage one trains a network by ERM; influence functions then predict how
re-weighting each training row would move the validation groups' true-positive
and true-negative rates (Eq. 9–13), the weights that close those gaps are
solved for (Eq. 14), and stage two retrains with them (Eq. 15; done by
:class:`~skfairnn.ReweightedClassifier`). Group labels are needed on the
validation rows only.

The computation costs two inverse-Hessian-vector products (one per rate, for
two groups) and one streamed pass of Jacobian-vector products over the
training rows; nothing of size ``n × P`` or ``n × n`` is formed.

The inverse products need a positive-definite curvature (the paper's
assumption under Eq. 7). By default (``curvature="auto"``) it is the Hessian
for a model whose logits are affine in its parameters (logistic regression,
the Table 4 setting, where it equals the Gauss-Newton matrix) and the positive
semi-definite Gauss-Newton matrix for a network, whose Hessian away from an
exact minimum is usually indefinite: there LiSSA's answer depends on its depth
with no error raised, while the Gauss-Newton solve agrees with the exact one.
Every solve is checked by its relative residual on at most
:data:`~skfairnn.influence.CHECK_ROWS` training rows, with an
:class:`~skfairnn.exceptions.InfluenceSolveWarning` when it is poor.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from itertools import combinations
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing, check_array, check_random_state
from sklearn.utils.multiclass import type_of_target

from ..exceptions import InfluenceSolveWarning
from ..groups import MISSING_CODE, encode_sensitive_features
from ..influence import (
    CURVATURES,
    INVERSE_HVP_METHODS,
    FunctionalModel,
    SolveCheck,
    grad_dot,
    inverse_hvp,
    last_layer_parameters,
    resolve_curvature,
)
from ..utils._sklearn import Interval, StrOptions, validate_parameter_constraints
from ._common import check_accepts_sample_weight, check_user_weights

__all__ = [
    "RESIDUAL_THRESHOLD",
    "FairIFReweighter",
    "GapInfluence",
    "tpr_tnr_gap_influence",
    "solve_fairif_epsilon",
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

_MSG_NO_KNOWN_GROUP = (
    "FairIFReweighter needs the group of at least some rows: sensitive_features is "
    "missing (NaN/None) on all {n} rows. Give the groups of a validation subset; rows "
    "with a missing group are the training rows."
)
_MSG_NO_GROUPS = (
    "FairIFReweighter.fit needs sensitive_features (known on a validation subset, "
    "NaN/None elsewhere); got None."
)
_MSG_ONE_GROUP = (
    "FairIFReweighter needs rows of at least two groups among the rows with a known "
    "group (the validation set); all of them are in the group {group!r}."
)
_MSG_NOT_A_NET = (
    "FairIFReweighter needs a torch network as estimator: after fit it must expose the "
    "trained nn.Module as `module_` (any skfairnn classifier, or a skorch net); "
    "{estimator} has none. Use ReweightedClassifier to train other estimators with the "
    "weights."
)


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
        User weights ``w_i`` of the training loss (mean 1).
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


class FairIFReweighter(BaseEstimator):
    r"""Sample weights that equalise groups' TPR and TNR, from influence functions.

    FairIF [1]_ stage one: train ``estimator`` by ERM on the training rows
    (their groups unused), estimate by influence functions how up- or
    down-weighting each training row would move the gaps of the
    Gumbel-softmax-relaxed TPR and TNR between the groups of a validation set
    with known groups, and solve for the weights that close them (Eq. 14).
    ``sample_weight_`` then trains the final model (stage two, Eq. 15), e.g.
    through :class:`~skfairnn.ReweightedClassifier`.

    Parameters
    ----------
    estimator : skfairnn classifier or skorch net, default=None
        Stage-one network, cloned; it must expose ``module_`` after fit and
        accept ``sample_weight``. ``None`` is an :class:`~skfairnn.ERMClassifier`
        with default settings; the paper's tabular setting is
        ``ERMClassifier(LogisticRegressionModule, ...)``.
    l2_weight : float, default=0.1
        :math:`\lambda` of Eq. (14), the weight of :math:`\|\epsilon\|_2`
        (the paper's 0.1). ``ε`` is in the paper's units (a row's weight is
        ``1/n + ε_i``), so the ``ε = 0`` threshold is ``2‖A d‖``, of order
        ``√n · gap``; values far below it barely shrink the solution.
    validation_fraction : float, default=0.2
        If every row has a known group, this share of them (stratified by
        group and label) becomes the validation set ``D^s``. Otherwise the
        rows with a known group are ``D^s`` and the others the training set.
    gumbel_temperature : float, default=1.0
        Temperature ``τ`` of the Gumbel-softmax relaxation.
    gumbel_samples : int, default=10
        Gumbel noise draws averaged per validation row (fixed by
        ``random_state``); 0 uses the noise-free tempered sigmoid
        :math:`\sigma(f/\tau)`. Averaged noise makes the relaxed rates those
        of the *randomised* classifier (for small :math:`\tau` the mean of
        :math:`\sigma((f+g)/\tau)` over logistic noise :math:`g` is
        :math:`\sigma(f)`), whose gaps can be much smaller than the gaps of
        hard predictions; ``gumbel_samples=0`` with a small
        ``gumbel_temperature`` (e.g. 0.1) targets the hard rates instead.
    hessian : {"lissa", "cg", "exact"}, default="lissa"
        Inverse-HVP solver (App. C uses LiSSA; see
        :func:`skfairnn.influence.inverse_hvp`).
    curvature : {"auto", "hessian", "gauss_newton"}, default="auto"
        Curvature matrix ``H`` of Eq. (7)–(14): ``"hessian"`` is the Hessian
        of the mean training loss :math:`H_{\theta^*} = \frac1n \sum_i
        \nabla^2_\theta \ell(z_i, \theta^*)` as printed under Eq. (7);
        ``"gauss_newton"`` its positive semi-definite Gauss-Newton part
        :math:`\frac1n \sum_i \ell''(f_i)\, \nabla_\theta f_i
        \nabla_\theta f_i^\top`; ``"auto"`` the Hessian when the logits are
        affine in the influence parameters (logistic regression, FairIF's
        Table 4 setting, or ``influence_layers=1``; then both are the same
        matrix) and Gauss-Newton otherwise (see
        :func:`skfairnn.influence.resolve_curvature`). Eq. (7) assumes
        :math:`H_{\theta^*}` positive definite, which a network's Hessian
        away from an exact minimum is not: in one run a 32×32 MLP after 10
        epochs had 55 eigenvalues below ``−damping``, and LiSSA on it
        returned vectors with cosine ≈ 0 to the exact solve and a
        depth-dependent norm, with no error, where Gauss-Newton gave cosine
        0.985 (depth 300) to 0.999 (depth 1200). ``"hessian"`` on a
        network is checked by the residual test below.
    damping : float, default=0.01
        ``δ``, added to the curvature's diagonal (Koh & Liang's default).
    lissa_depth : int, default=300
        LiSSA recursion depth ``J``. A truncated recursion acts as extra
        damping of about ``scale / J`` in flat directions of the curvature,
        so deeper is more exact and proportionally slower; 300 keeps the
        whole fit within about 1.5× an ERM fit at 200,000 rows (see
        ``benchmarks/bench_fairif.py``).
    lissa_repeats : int, default=1
        LiSSA repetitions ``T``.
    lissa_batch_size : int, default=256
        LiSSA minibatch ``B``.
    lissa_scale : float, default=None
        LiSSA scale; ``None`` estimates it by power iteration.
    influence_layers : int, default=None
        Restrict the influence computation to the parameters of the last
        ``influence_layers`` weighted layers (``nn.Linear``/``nn.Conv2d``,
        see :func:`skfairnn.modules.find_layers`), treating the others as
        fixed; ``None`` uses every parameter. For large networks.
    include_validation : bool, default=False
        Weight of the validation rows in ``sample_weight_``: 0 by default,
        so the final model trains on the training set only (Algorithm 1);
        ``True`` gives them weight 1.
    chunk_size : int, default=8192
        Rows per chunk of the streamed gradient pass.
    residual_threshold : float, default=0.5
        After the solve of :math:`(H + \delta I) u = g` (App. C), one HVP on
        at most :data:`~skfairnn.influence.CHECK_ROWS` training rows gives the
        relative residual :math:`\|(H + \delta I)u - g\| / \|g\|`
        (``solve_residual_``); above this threshold, or with negative
        curvature :math:`u^\top (H + \delta I) u < 0` along a solution
        (``solve_rayleigh_``), an
        :class:`~skfairnn.exceptions.InfluenceSolveWarning` is emitted.
        The default is :data:`RESIDUAL_THRESHOLD`: sound LiSSA solves keep
        0.04–0.25 from their last minibatch step, LiSSA on an indefinite
        Hessian measured 1.4 up to overflow.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the Gumbel noise and LiSSA.

    Attributes
    ----------
    sample_weight_ : ndarray of shape (n_samples,)
        Weight of each input row, a factor on top of any user
        ``sample_weight``: ``n (1/n + ε_i)`` clipped at 0 for training rows
        (mean about 1), see ``include_validation`` for validation rows.
    estimator_ : estimator
        The stage-one model (the "Original" model of the paper's tables).
    validation_mask_ : ndarray of bool, shape (n_samples,)
        Rows used as the validation set ``D^s``.
    epsilon_ : ndarray of shape (n_train,)
        Solution ``ε`` of Eq. (14) for the training rows, before clipping.
    sensitive_groups_ : ndarray
        Group labels seen among the validation rows.
    constraints_ : list of tuple
        ``(metric, group_a, group_b)`` of each equalised gap (labels).
    validation_gaps_ : ndarray of shape (n_constraints,)
        Relaxed gaps ``F(D^a) − F(D^b)`` at ``θ*``.
    predicted_gaps_ : ndarray of shape (n_constraints,)
        Gaps predicted after re-weighting with ``sample_weight_``.
    gap_influence_ : ndarray of shape (n_train, n_constraints)
        Change of each gap per unit weight of each training row.
    l2_weight_max_ : float
        The smallest ``l2_weight`` giving ``ε = 0`` (uniform weights),
        ``2‖A d‖``: a scale for choosing ``l2_weight``.
    curvature_ : {"hessian", "gauss_newton"}
        The curvature matrix used (``curvature`` with ``"auto"`` resolved).
    solve_residual_ : float
        Largest relative residual :math:`\|(H + \delta I)u - g\| / \|g\|`
        of the inverse-HVP solutions (one per rate difference), measured on
        at most :data:`~skfairnn.influence.CHECK_ROWS` training rows.
    solve_rayleigh_ : float
        Smallest curvature :math:`u^\top (H + \delta I) u / u^\top u`
        along them; at least ``damping`` for Gauss-Newton, negative when the
        Hessian plus damping is indefinite.

    See Also
    --------
    ReweightedClassifier : trains an estimator with these weights.
    KamiranCaldersReweighter : the classic group/label reweighing.

    Notes
    -----
    Objective (Eq. 14), for each rate :math:`F \in \{F_{TPR}, F_{TNR}\}`:

    .. math::

        \min_\epsilon \sum_F \Big[\mathrm{diff}(D^s, F, \theta^*)
        + (\nabla\bar F(D^1) - \nabla\bar F(D^0))^\top H^{-1}
        \sum_i \nabla\ell(z_i, \theta^*)\,\epsilon_i\Big]^2
        + \lambda\|\epsilon\|_2 .

    Readings of points the paper leaves open:

    * **Solver.** Eq. (14) is minimised exactly, with the non-squared norm
      as printed (:func:`solve_fairif_epsilon`), not by an optimiser; then
      ``1/n + ε_i`` is clipped at 0 (the paper does not say how it keeps
      weights valid).
    * **Relaxation.** ``diff`` uses the same relaxed rates as the gradients;
      Gumbel noise is drawn once per fit (``gumbel_samples``), so the
      objective is deterministic given ``random_state``.
    * **Curvature.** ``H`` is the Hessian of the (user-weighted) mean
      training loss at the stage-one parameters (Eq. 7) for a linear model
      and its Gauss-Newton part for a network (``curvature="auto"``), plus
      ``damping`` (App. C has no damping; LiSSA needs a scale, estimated
      here). Eq. (7) assumes a positive-definite Hessian, i.e. a strict
      minimum; Gauss-Newton is positive semi-definite wherever stage one
      stopped. Each solve's residual is checked (``residual_threshold``).
    * **More than two groups.** Every pair of groups present in a cell gets
      its own term, i.e. the objective sums the squared gaps over all pairs
      (which equals ``G ×`` the squared deviations from the group mean); for
      two groups this is Eq. (14). A cell (group, label) without validation
      rows drops that group from that rate's terms.
    * **User weights.** With ``sample_weight=w`` stage one minimises
      ``Σ w_i ℓ_i`` and the re-weighted loss is ``Σ w_i (1/n + ε_i) ℓ_i``;
      ``sample_weight_`` is the factor on top of ``w``.
    * **Validation rows** are not trained on in stage one, and by default
      not in stage two either (``include_validation``).

    References
    ----------
    .. [1] Wang, Wu & He, "FairIF: Boosting Fairness in Deep Learning via
       Influence Functions with Validation Set Sensitive Attributes",
       WSDM 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from skfairnn import ERMClassifier, FairIFReweighter
    >>> from skfairnn.modules import LogisticRegressionModule
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4)).astype("float32")
    >>> y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    >>> A = np.where(rng.random(300) < 0.3, None, X[:, 1] > 0).astype(object)
    >>> est = ERMClassifier(LogisticRegressionModule, max_epochs=5, random_state=0)
    >>> weighter = FairIFReweighter(est, hessian="exact", random_state=0)
    >>> weighter.fit(X, y, sensitive_features=A).sample_weight_.shape
    (300,)
    """

    __metadata_request__fit = {"sensitive_features": True, "sample_weight": True}

    _parameter_constraints: dict = {
        "l2_weight": [Interval(Real, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "gumbel_temperature": [Interval(Real, 0, None, closed="neither")],
        "gumbel_samples": [Interval(Integral, 0, None, closed="left")],
        "hessian": [StrOptions(set(INVERSE_HVP_METHODS))],
        "curvature": [StrOptions({"auto", *CURVATURES})],
        "damping": [Interval(Real, 0, None, closed="left")],
        "lissa_depth": [Interval(Integral, 1, None, closed="left")],
        "lissa_repeats": [Interval(Integral, 1, None, closed="left")],
        "lissa_batch_size": [Interval(Integral, 1, None, closed="left")],
        "lissa_scale": [Interval(Real, 0, None, closed="neither"), None],
        "influence_layers": [Interval(Integral, 1, None, closed="left"), None],
        "include_validation": ["boolean"],
        "chunk_size": [Interval(Integral, 1, None, closed="left")],
        "residual_threshold": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        l2_weight=0.1,
        validation_fraction=0.2,
        gumbel_temperature=1.0,
        gumbel_samples=10,
        hessian="lissa",
        curvature="auto",
        damping=0.01,
        lissa_depth=300,
        lissa_repeats=1,
        lissa_batch_size=256,
        lissa_scale=None,
        influence_layers=None,
        include_validation=False,
        chunk_size=8192,
        residual_threshold=RESIDUAL_THRESHOLD,
        random_state=None,
    ):
        self.estimator = estimator
        self.l2_weight = l2_weight
        self.validation_fraction = validation_fraction
        self.gumbel_temperature = gumbel_temperature
        self.gumbel_samples = gumbel_samples
        self.hessian = hessian
        self.curvature = curvature
        self.damping = damping
        self.lissa_depth = lissa_depth
        self.lissa_repeats = lissa_repeats
        self.lissa_batch_size = lissa_batch_size
        self.lissa_scale = lissa_scale
        self.influence_layers = influence_layers
        self.include_validation = include_validation
        self.chunk_size = chunk_size
        self.residual_threshold = residual_threshold
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, *, sensitive_features=None, sample_weight=None):
        """Train the stage-one model and compute ``sample_weight_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs of training and validation rows.
        y : array-like of shape (n_samples,)
            Binary labels.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
            Group of each row; NaN/None marks a training row without a known
            group. Rows with a known group form the validation set (if all
            are known, ``validation_fraction`` of them do).
        sample_weight : array-like of shape (n_samples,), default=None
            User weights of the training loss.

        Returns
        -------
        self

        Warns
        -----
        InfluenceSolveWarning
            If the inverse-HVP solve is unreliable (``residual_threshold``).
        """
        validate_parameter_constraints(
            self._parameter_constraints, self.get_params(deep=False), caller_name="FairIFReweighter"
        )
        if sensitive_features is None:
            raise ValueError(_MSG_NO_GROUPS)
        n_samples = len(y)
        target_type = type_of_target(y)
        if target_type != "binary":
            raise ValueError(f"FairIFReweighter supports binary y only; got {target_type} y.")
        groups = encode_sensitive_features(
            sensitive_features, n_samples=n_samples, allow_missing=True
        )
        validation = self._validation_mask(groups.codes, groups.labels, np.asarray(y))
        weights = check_user_weights(sample_weight, np.empty((n_samples, 0)))
        train_rows = np.flatnonzero(~validation)
        estimator = self._fit_stage_one(X, y, train_rows, weights, sample_weight is not None)
        influence = self._gap_influence(estimator, X, y, groups, validation, weights)
        self._set_weights(influence, validation, groups.labels, n_samples)
        return self

    def _validation_mask(self, codes: np.ndarray, labels, y: np.ndarray) -> np.ndarray:
        known = codes != MISSING_CODE
        if not known.any():
            raise ValueError(_MSG_NO_KNOWN_GROUP.format(n=len(codes)))
        present = np.unique(codes[known])
        if len(present) < 2:
            raise ValueError(_MSG_ONE_GROUP.format(group=labels[present[0]]))
        if not known.all():
            return known
        rows = np.arange(len(codes))
        cells = codes * 2 + (y == np.unique(y)[-1])
        for stratify in (cells, codes, None):
            try:
                _, held_out = train_test_split(
                    rows,
                    test_size=self.validation_fraction,
                    stratify=stratify,
                    random_state=self.random_state,
                )
                break
            except ValueError:
                continue
        mask = np.zeros(len(codes), dtype=bool)
        mask[held_out] = True
        return mask

    def _fit_stage_one(self, X, y, rows, weights, weighted: bool):
        from ..methods import ERMClassifier

        estimator = ERMClassifier() if self.estimator is None else clone(self.estimator)
        check_accepts_sample_weight(estimator, "FairIFReweighter")
        fit_params = {"sample_weight": weights[rows]} if weighted else {}
        estimator.fit(_safe_indexing(X, rows), _safe_indexing(y, rows), **fit_params)
        if not isinstance(getattr(estimator, "module_", None), torch.nn.Module):
            raise TypeError(_MSG_NOT_A_NET.format(estimator=type(estimator).__name__))
        self.estimator_ = estimator
        return estimator

    def _functional_model(self, estimator) -> FunctionalModel:
        module = estimator.module_
        names = None
        if self.influence_layers is not None:
            names = last_layer_parameters(module, self.influence_layers)
        return FunctionalModel(module, names)

    def _gap_influence(self, estimator, X, y, groups, validation, weights) -> GapInfluence:
        model = self._functional_model(estimator)
        X_all = check_array(X, dtype=np.float32, allow_nd=True)
        positive = np.asarray(y) == estimator.classes_[1]
        rng = check_random_state(self.random_state)
        train, val = ~validation, validation
        noise = logistic_noise(self.gumbel_samples, int(val.sum()), rng)
        return tpr_tnr_gap_influence(
            model,
            X_all[train],
            positive[train].astype(np.float32),
            X_all[val],
            positive[val].astype(np.int64),
            groups.codes[val],
            groups.n_groups,
            train_weights=weights[train] if not np.all(weights == 1) else None,
            noise=noise,
            temperature=self.gumbel_temperature,
            inverse_hvp_params={
                "method": self.hessian,
                "curvature": self.curvature,
                "damping": self.damping,
                "scale": self.lissa_scale,
                "depth": self.lissa_depth,
                "repeats": self.lissa_repeats,
                "batch_size": self.lissa_batch_size,
                "chunk_size": self.chunk_size,
                "random_state": rng,
            },
            chunk_size=self.chunk_size,
            residual_threshold=self.residual_threshold,
        )

    def _set_weights(self, influence: GapInfluence, validation, labels, n_samples: int):
        n_train = int((~validation).sum())
        epsilon = solve_fairif_epsilon(influence.gaps, influence.influence, self.l2_weight)
        factor = np.clip(1.0 + n_train * epsilon, 0.0, None)
        if factor.sum() <= 0:
            raise FloatingPointError(
                "FairIF's solution gives every training row a negative weight; increase l2_weight."
            )
        weights = np.full(n_samples, 1.0 if self.include_validation else 0.0)
        weights[~validation] = factor
        self.sample_weight_ = weights
        self.validation_mask_ = validation
        self.epsilon_ = epsilon
        self.sensitive_groups_ = labels
        self.constraints_ = [(m, labels[g], labels[h]) for m, g, h in influence.constraints]
        self.validation_gaps_ = influence.gaps
        self.predicted_gaps_ = influence.predict((factor - 1.0) / n_train)
        self.gap_influence_ = influence.influence
        self.l2_weight_max_ = float(2 * np.linalg.norm(influence.influence @ influence.gaps))
        self.curvature_ = influence.curvature
        self.solve_residual_ = influence.solve_residual
        self.solve_rayleigh_ = influence.solve_rayleigh
