# SPDX-License-Identifier: BSD-3-Clause
"""FairIF's Eq. (14) minimised by gradient descent on ε (Wang, Wu & He, WSDM 2024).

Algorithm 1, step 4 obtains ε "through optimizing the objective, Equ. (14)"
without naming the optimiser; the authors' ``run.sh`` trains ε separately
from the network (``--train_eps_epochs 600 --epslr 0.0001``; the network's
optimiser there is Adam). :func:`descend_fairif_epsilon` runs that descent
from ``ε = 0``; :func:`fairif_epsilon` chooses between it and the exact
minimiser :func:`~skfairnn.weighting._fairif_solver.solve_fairif_epsilon`.

A descent stopped early is an implicit regulariser: from ``ε = 0`` with
``λ = 0``, plain gradient descent stays in the span of the influence rows and
its component along an eigenvector of ``AᵀA`` (eigenvalue ``s``) is the
closed-form one times ``1 − (1 − 2ηs)^t`` after ``t`` steps of size ``η``,
so ``‖ε‖`` grows monotonically towards the minimum-norm solution.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from ._fairif_solver import solve_fairif_epsilon

__all__ = [
    "ADAM_LR",
    "EPSILON_EPOCHS",
    "EPSILON_OPTIMIZERS",
    "EPSILON_UNITS",
    "SOLVERS",
    "check_weight_bounds",
    "descend_fairif_epsilon",
    "fairif_epsilon",
]

SOLVERS = ("closed_form", "gradient_descent")
EPSILON_OPTIMIZERS = ("sgd", "adam")
EPSILON_UNITS = ("paper", "factor")
#: ``--train_eps_epochs`` of the authors' run.sh
EPSILON_EPOCHS = 600
#: ``--epslr`` of the authors' run.sh (the step of ``epsilon_lr="auto"`` for Adam)
ADAM_LR = 1e-4
_ADAM_BETAS = (0.9, 0.999)
_ADAM_EPS = 1e-8


def check_weight_bounds(weight_bounds) -> tuple[float, float] | None:
    """``weight_bounds`` as ``(low, high)`` floats (``None`` ends as ±inf), or ``None``.

    Raises
    ------
    ValueError
        If it is not ``None`` or a pair ``(low, high)`` with ``low < 1 < high``
        (the uniform weight 1, i.e. ``ε = 0``, must be feasible) and ``low ≥ 0``.
    """
    if weight_bounds is None:
        return None
    message = (
        "weight_bounds must be None or a pair (low, high) of numbers or None with "
        f"0 <= low < 1 < high (bounds on the weight factor n (1/n + ε_i)); got {weight_bounds!r}."
    )
    if isinstance(weight_bounds, (str, bytes)) or not hasattr(weight_bounds, "__len__"):
        raise ValueError(message)
    if len(weight_bounds) != 2:
        raise ValueError(message)
    low, high = weight_bounds
    low = 0.0 if low is None else low
    high = np.inf if high is None else high
    if not all(isinstance(v, Real) and not isinstance(v, bool) for v in (low, high)):
        raise ValueError(message)
    if not (0 <= low < 1 < high):
        raise ValueError(message)
    return float(low), float(high)


def _resolve_lr(lr, optimizer: str, lipschitz: float) -> float:
    if isinstance(lr, str) and lr == "auto":
        if optimizer == "adam":
            return ADAM_LR
        return 1.0 / lipschitz if lipschitz > 0 else 1.0
    if optimizer == "sgd" and lr * lipschitz >= 2:
        raise ValueError(
            f"epsilon_lr={lr:g} makes gradient descent on Eq. (14) diverge: the gradient "
            f"of its squared terms is {lipschitz:.4g}-Lipschitz here, so a step must be "
            f"below 2/L = {2 / lipschitz:.4g} (epsilon_lr='auto' takes 1/L). Use a smaller "
            "epsilon_lr, 'auto', or epsilon_optimizer='adam'."
        )
    return float(lr)


def descend_fairif_epsilon(
    gaps: np.ndarray,
    influence: np.ndarray,
    l2_weight: float,
    *,
    optimizer: str = "sgd",
    epochs: int = EPSILON_EPOCHS,
    lr: float | str = "auto",
    units: str = "paper",
    weight_bounds=None,
) -> tuple[np.ndarray, float]:
    r"""Minimise FairIF's Eq. (14) by gradient steps from ``ε = 0``.

    .. math::

        J(\epsilon) = \|d + A^\top \epsilon\|_2^2 + \lambda \|\epsilon\|_2

    with ``A = influence.T`` and ``d = gaps`` (Eq. 14; ``ε`` in the units of
    Eq. 2, a row's weight being ``1/n + ε_i``).

    Parameters
    ----------
    gaps : ndarray of shape (M,)
        ``d``, the relaxed validation gaps.
    influence : ndarray of shape (n, M)
        Change of each gap per unit of each ``ε_i`` (Eq. 13).
    l2_weight : float
        ``λ`` of Eq. (14).
    optimizer : {"sgd", "adam"}, default="sgd"
        ``"sgd"``: full-batch gradient descent on the squared terms with the
        exact proximal step of :math:`\lambda\|\epsilon\|_2` (block soft
        thresholding :math:`v \mapsto \max(0, 1 - \eta\lambda/\|v\|)\,v`),
        which converges to the closed-form minimiser for a step below
        ``2/L`` (``L = 2 λ_max(AᵀA)``, the Lipschitz constant of the squared
        terms' gradient). ``"adam"``: Adam (β = 0.9, 0.999) on the gradient
        of the whole objective, subgradient 0 of the norm at ``ε = 0`` (what
        ``torch.optim.Adam`` on Eq. 14 by autograd does).
    epochs : int, default=600
        Full-batch steps (run.sh's ``--train_eps_epochs 600``).
    lr : float or "auto", default="auto"
        Step size in ``units``. ``"auto"`` is ``1/L`` for ``"sgd"`` (monotone
        descent; ``2/L`` or more diverges, a ValueError) and run.sh's
        ``--epslr 0.0001`` for ``"adam"``.
    units : {"paper", "factor"}, default="paper"
        The variable descended: ``ε`` itself (Eq. 2) or the factor deviation
        ``n ε`` (``sample_weight_ − 1``). The objective is the same; Adam's
        per-coordinate step of about ``lr`` means ``lr`` weight units for
        ``"factor"`` and ``n · lr`` of them for ``"paper"``. For ``"sgd"``
        with ``lr="auto"`` the two give the same iterates.
    weight_bounds : (float or None, float or None), default=None
        Box on the weight factor ``n (1/n + ε_i)``; after every step ``ε`` is
        projected onto it (``None`` ends mean 0 and no upper bound). ``None``
        descends unconstrained (weights are then clipped at 0 afterwards, as
        for the closed form). Neither the paper nor run.sh states a box;
        ``(0, None)`` keeps every ``1/n + ε_i ≥ 0`` during the descent.

    Returns
    -------
    epsilon : ndarray of shape (n,)
        ``ε`` in the paper's units.
    lr : float
        The step size used (``"auto"`` resolved), in ``units``.
    """
    influence = np.asarray(influence, dtype=np.float64)
    gaps = np.asarray(gaps, dtype=np.float64)
    n = len(influence)
    scale = 1.0 if units == "paper" else float(n)
    coef = influence / scale  # the gaps move by coefᵀ u for u = scale · ε
    penalty = l2_weight / scale
    top = np.linalg.eigvalsh(coef.T @ coef).max(initial=0.0) if coef.size else 0.0
    step = _resolve_lr(lr, optimizer, 2.0 * top)
    bounds = check_weight_bounds(weight_bounds)
    low = high = None
    if bounds is not None:  # factor 1 + n ε = 1 + (n / scale) u
        low, high = ((b - 1.0) * scale / n for b in bounds)
    u = np.zeros(n)
    moment, second = np.zeros(n), np.zeros(n)
    for t in range(1, epochs + 1):
        grad = 2.0 * coef @ (gaps + coef.T @ u)
        if optimizer == "sgd":
            v = u - step * grad
            norm = np.linalg.norm(v)
            u = max(0.0, 1.0 - step * penalty / norm) * v if norm > 0 else v
        else:
            norm = np.linalg.norm(u)
            if norm > 0:
                grad = grad + penalty * u / norm
            moment = _ADAM_BETAS[0] * moment + (1 - _ADAM_BETAS[0]) * grad
            second = _ADAM_BETAS[1] * second + (1 - _ADAM_BETAS[1]) * grad**2
            m_hat = moment / (1 - _ADAM_BETAS[0] ** t)
            v_hat = second / (1 - _ADAM_BETAS[1] ** t)
            u = u - step * m_hat / (np.sqrt(v_hat) + _ADAM_EPS)
        if bounds is not None:
            u = np.clip(u, low, high)
    if not np.all(np.isfinite(u)):
        raise FloatingPointError(
            "Gradient descent on FairIF's Eq. (14) diverged; use a smaller epsilon_lr."
        )
    return u / scale, step


def fairif_epsilon(
    gaps: np.ndarray,
    influence: np.ndarray,
    l2_weight: float,
    *,
    solver: str = "closed_form",
    optimizer: str = "sgd",
    epochs: int = EPSILON_EPOCHS,
    lr: float | str = "auto",
    units: str = "paper",
    weight_bounds=None,
) -> tuple[np.ndarray, float | None]:
    """``ε`` of Eq. (14) by ``solver``, and the step size used (``None`` for the closed form).

    ``"closed_form"`` is :func:`solve_fairif_epsilon` (exact); the other
    keywords are then not used, and ``weight_bounds`` must be ``None``.
    ``"gradient_descent"`` is :func:`descend_fairif_epsilon` with them.

    Raises
    ------
    ValueError
        For an unknown ``solver``/``optimizer``/``units``, a non-positive
        ``epochs`` or ``lr``, or ``weight_bounds`` with the closed form.
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {list(SOLVERS)}; got {solver!r}.")
    if optimizer not in EPSILON_OPTIMIZERS:
        raise ValueError(
            f"epsilon_optimizer must be one of {list(EPSILON_OPTIMIZERS)}; got {optimizer!r}."
        )
    if units not in EPSILON_UNITS:
        raise ValueError(f"epsilon_units must be one of {list(EPSILON_UNITS)}; got {units!r}.")
    if not isinstance(epochs, Integral) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epsilon_epochs must be an integer >= 1; got {epochs!r}.")
    if not (isinstance(lr, str) and lr == "auto") and not (
        isinstance(lr, Real) and not isinstance(lr, bool) and lr > 0
    ):
        raise ValueError(f"epsilon_lr must be 'auto' or a number > 0; got {lr!r}.")
    check_weight_bounds(weight_bounds)
    if solver == "closed_form":
        if weight_bounds is not None:
            raise ValueError(
                "weight_bounds needs solver='gradient_descent' (the closed form of Eq. 14 "
                f"is unconstrained); got weight_bounds={weight_bounds!r} with "
                "solver='closed_form'."
            )
        return solve_fairif_epsilon(gaps, influence, l2_weight), None
    return descend_fairif_epsilon(
        gaps,
        influence,
        l2_weight,
        optimizer=optimizer,
        epochs=epochs,
        lr=lr,
        units=units,
        weight_bounds=weight_bounds,
    )
