# SPDX-License-Identifier: BSD-3-Clause
"""Fairness influence scores of training examples (Wang, Wang & Liu, ICML 2022).

For a network trained with a decomposable fairness surrogate
:math:`\\hat\\phi(f) = \\frac1n\\sum_i \\hat\\phi(f, i)`, removing example
:math:`i` moves the output on :math:`x_j` by (Lemma 3.3, Eq. 11–12)

.. math::

    S(i, j) = \\lambda \\frac{\\eta}{n}\\, c_i\\, \\Theta(x_i, x_j),
    \\qquad c_i = \\frac{\\partial \\hat\\phi(f, i)}{\\partial f}\\Big|_{f(x_i;\\theta_0)},

with :math:`\\Theta` the empirical NTK, and the constraint itself by
(Eq. 34–35)

.. math::

    S(i) = \\frac1n \\sum_j c_j\\, S(i, j)
         \\propto c_i \\cdot \\frac1n \\sum_j c_j\\, \\Theta(x_i, x_j).

This module computes :math:`c` for each constraint and surrogate
(:func:`constraint_gradient`), the aggregate scores through one gradient and
one JVP per chunk (:func:`fairness_influence_scores`, see
:mod:`skfairnn.influence._ntk`) and the pairwise scores for small sets
(:func:`pairwise_fairness_influence`). The constant :math:`\\lambda\\eta/n` is
left out everywhere (it rescales all scores alike), as in the authors' code.
They are the engine of :class:`~skfairnn.InfluencePruner` and are also
exported by :mod:`skfairnn.diagnostics`.

The constraints are the three of every skfairnn estimator
(:data:`skfairnn.cells.CONSTRAINTS`: demographic parity, Eq. 14–17; equal
opportunity, i.e. equal TPR, Eq. 20–22; equalized odds, Eq. 25); the label
cells each one compares come from :data:`skfairnn.cells.CONSTRAINT_LABELS`.
fairlearn's ``"true_positive_rate_parity"`` is accepted as an alias of
``"equal_opportunity"``. The paper's equal-FPR constraint (Eq. 23–24) is the
label-0 half of equalized odds: by Eq. 25 its :math:`c` is that of
``"equalized_odds"`` minus that of ``"equal_opportunity"``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._base import FairNetClassifier
from ..cells import check_constraint, label_masks
from ..groups import check_at_least_two_groups, encode_sensitive_features
from ._ntk import OUTPUTS, network_outputs, ntk_matrix, ntk_weighted_sum

__all__ = [
    "AGGREGATES",
    "RELAXED",
    "SURROGATES",
    "constraint_gradient",
    "fairness_influence_scores",
    "pairwise_fairness_influence",
]

#: "relaxed": Σ_g |E[f|g] - E[f]| (Eq. 14, 20, 23); "covariance": ½ Σ_g |Cov(1[z=g], f)| (Eq. 27)
SURROGATES = ("relaxed", "covariance")
AGGREGATES = ("dataset", "batch")
#: the relaxed gap's expectations: E[f | z=g] ("conditional") or E[f·1[z=g]] ("joint", Eq. 15)
RELAXED = ("conditional", "joint")

_MSG_SURROGATE = "surrogate must be one of {allowed}; got {got!r}."
_MSG_AGGREGATE = "aggregate must be one of {allowed}; got {got!r}."
_MSG_RELAXED = "relaxed must be one of {allowed}; got {got!r}."
_MSG_NET = (
    "net must be a fitted skfairnn FairNetClassifier (a torch network in `module_`); got {got}."
)


def _check_option(value, allowed, message):
    if value not in allowed:
        raise ValueError(message.format(allowed=", ".join(map(repr, allowed)), got=value))


def _cell_coefficients(f, group, n_groups, mask, surrogate, relaxed) -> np.ndarray:
    """``n ∂φ_cell/∂f_i`` for the rows of one label cell (0 outside the cell)."""
    coef = np.zeros(len(f))
    n_cell = int(mask.sum())
    if n_cell == 0:
        return coef
    g, fc = group[mask], f[mask]
    counts = np.bincount(g, minlength=n_groups).astype(float)
    present = counts > 0
    sums = np.bincount(g, weights=fc, minlength=n_groups)
    if surrogate == "relaxed" and relaxed == "joint":
        # Eq. 15, 21, 23: J_g = (1/n) Σ_i f_i 1[z_i=g, i in cell]; φ = Σ_g |J_g - mean_g J_g|
        n_present = present.sum()
        sign = np.where(sums >= sums[present].mean(), 1.0, -1.0) * present
        coef[mask] = sign[g] - sign.sum() / n_present  # ±1 with two groups: α of Eq. 16
        return coef
    means = sums / np.maximum(counts, 1)
    # favoured groups: mean output at or above the pooled mean of the cell (sign of α, β)
    sign = np.where(means >= fc.mean(), 1.0, -1.0) * present
    if surrogate == "relaxed":  # ∂/∂f_i Σ_g s_g (m_g - m)
        cell = sign[g] / counts[g] - sign.sum() / n_cell
    else:  # ∂/∂f_i ½ Σ_g β_g Cov(1[z=g], f) with π_g = n_g / n_cell
        cell = 0.5 * (sign[g] - (sign * counts).sum() / n_cell) / n_cell
    coef[mask] = len(f) * cell
    return coef


def constraint_gradient(
    outputs,
    y,
    group,
    *,
    constraint: str = "demographic_parity",
    surrogate: Literal["relaxed", "covariance"] = "relaxed",
    relaxed: Literal["conditional", "joint"] = "conditional",
) -> np.ndarray:
    r"""Per-example constraint derivative :math:`c_i = \partial\hat\phi(f, i)/\partial f`.

    With :math:`\hat\phi(f) = \frac1n\sum_i\hat\phi(f, i)`, ``c = n ∇_f φ̂``.
    For each label cell :math:`C` of the constraint
    (:data:`skfairnn.cells.CONSTRAINT_LABELS`: all rows for demographic
    parity, :math:`y=1` for equal opportunity (equal TPR), both :math:`y=0`
    and :math:`y=1` for equalized odds, Eq. 25) with group means :math:`m_g` and pooled mean
    :math:`m` of ``outputs`` in the cell and :math:`s_g = \mathrm{sign}(m_g - m)`
    (+1 for a favoured group, ties included):

    * ``"relaxed"``, ``relaxed="conditional"``: :math:`\phi_C = \sum_g |m_g - m|`
      (Table 1), so :math:`c_i = n\,(s_{z_i}/n_{z_i,C} - \sum_g s_g / n_C)`.
      With two groups :math:`\phi_C = |m_1 - m_0|` and
      :math:`c_i = \alpha_{z_i}\, n/n_{z_i,C}` (Eq. 15–17, 21–24 with
      conditional means: a row of a small group counts :math:`n/n_{z,C}` times).
    * ``"relaxed"``, ``relaxed="joint"``: Eq. 14–15, 20–21 and 23 literally,
      with the joint expectations
      :math:`J_g = \frac1n\sum_{i \in C} f_i\,\mathbf 1[z_i = g]`:
      :math:`\phi_C = \sum_g |J_g - \bar J|` with :math:`\bar J` the mean of
      :math:`J_g` over the groups present in :math:`C` and
      :math:`s_g = \mathrm{sign}(J_g - \bar J)`, so
      :math:`c_i = s_{z_i} - \frac1{G_C}\sum_g s_g`. With two groups
      :math:`\phi_C = |J_1 - J_0|` and :math:`c_i = \alpha_{z_i} = \pm 1`
      (Eq. 16, 21, 24; 0 outside the cell), and the favoured group is the one
      with the larger *sum* of outputs, as Eq. 14 states. The two readings
      coincide (up to the factor :math:`n_C/n_{z,C}`) only on group-balanced data.
    * ``"covariance"``: :math:`\phi_C = \tfrac12\sum_g |\mathrm{Cov}_C(1[z=g], f)|`,
      so :math:`c_i = \tfrac{n}{2 n_C}(s_{z_i} - \sum_g s_g \pi_g)`. With two
      groups this is Eq. 29–30: :math:`\beta (z_i - \bar z)` scaled by
      :math:`n/n_C`.

    Parameters
    ----------
    outputs : array-like of shape (n,)
        :math:`f(x_i;\theta_0)`.
    y : array-like of shape (n,)
        Labels encoded 0/1.
    group : array-like of int of shape (n,)
        Group codes ``0..m-1``.
    constraint : str, default="demographic_parity"
        One of :data:`skfairnn.cells.CONSTRAINTS`, or fairlearn's alias
        ``"true_positive_rate_parity"`` (equal opportunity).
    surrogate : {"relaxed", "covariance"}, default="relaxed"
    relaxed : {"conditional", "joint"}, default="conditional"
        Expectations of the relaxed gap (used with ``surrogate="relaxed"``
        only): conditional group means :math:`E[f \mid z=g]` (the default, the
        gap every skfairnn penalty trains on, :mod:`skfairnn.gaps`, and the
        authors' training code; kept so results do not move) or the joint
        :math:`E[f\cdot\mathbf 1[z=g]]` of Eq. 15 as printed.

    Returns
    -------
    ndarray of shape (n,)
    """
    constraint = check_constraint(constraint)
    _check_option(surrogate, SURROGATES, _MSG_SURROGATE)
    _check_option(relaxed, RELAXED, _MSG_RELAXED)
    f = np.asarray(outputs, dtype=np.float64)
    y = np.asarray(y)
    group = np.asarray(group, dtype=np.int64)
    n_groups = int(group.max()) + 1 if len(group) else 0
    coef = np.zeros(len(f))
    for mask in label_masks(y, constraint):
        mask = np.ones(len(f), bool) if mask is None else mask
        coef += _cell_coefficients(f, group, n_groups, mask, surrogate, relaxed)
    return coef


def _prepare(net, X, y, sensitive_features, constraint, surrogate, relaxed, output):
    """Validated ``(X, y01, group codes)`` for a fitted skfairnn net."""
    if not isinstance(net, FairNetClassifier):
        raise TypeError(_MSG_NET.format(got=type(net).__name__))
    check_is_fitted(net)
    check_constraint(constraint)
    _check_option(surrogate, SURROGATES, _MSG_SURROGATE)
    _check_option(relaxed, RELAXED, _MSG_RELAXED)
    _check_option(output, OUTPUTS, "output must be one of {allowed}; got {got!r}.")
    X = net._validate_X(X)
    y01 = net._encode_target(np.asarray(y), reset=False)
    groups = encode_sensitive_features(sensitive_features, n_samples=len(X))
    check_at_least_two_groups(groups)
    return X, y01, groups.codes


def fairness_influence_scores(
    net: FairNetClassifier,
    X,
    y,
    sensitive_features,
    *,
    constraint: str = "demographic_parity",
    surrogate: Literal["relaxed", "covariance"] = "relaxed",
    relaxed: Literal["conditional", "joint"] = "conditional",
    output: Literal["logit", "proba"] = "logit",
    aggregate: Literal["dataset", "batch"] = "dataset",
    batch_size: int = 4096,
) -> np.ndarray:
    r"""Aggregated fairness influence score :math:`S(i)` of every row (Eq. 35).

    .. math::

        S(i) = c_i \cdot \frac1n \sum_j c_j\, \Theta(x_i, x_j)
             = c_i \cdot \frac1n\, \nabla_\theta f(x_i) \cdot
               \nabla_\theta \Big(\sum_j c_j f(x_j)\Big),

    which is Eq. 35 times :math:`n/(\lambda\eta)`; :math:`c` is
    :func:`constraint_gradient` at the fitted parameters, so the favoured
    group(s) are read from the data. Pruning keeps the rows with the largest
    :math:`|S(i)|` (§6.1).

    Parameters
    ----------
    net : FairNetClassifier
        A fitted skfairnn classifier (its ``module_`` is differentiated).
    X : array-like of shape (n_samples, n_features)
        Training rows (as passed to the net, i.e. already preprocessed).
    y : array-like of shape (n_samples,)
        Labels (in ``net.classes_``).
    sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
        Group membership; two or more groups (see :func:`constraint_gradient`
        for how more than two groups enter).
    constraint : str, default="demographic_parity"
        One of :data:`skfairnn.cells.CONSTRAINTS`. Equal TPR is
        ``"equal_opportunity"`` (fairlearn's ``"true_positive_rate_parity"`` is
        accepted as an alias); equal FPR alone is not a constraint of its own
        (it is the label-0 half of ``"equalized_odds"``).
    surrogate : {"relaxed", "covariance"}, default="relaxed"
        Relaxed gap (§4.1) or covariance (§4.2, Eq. 30).
    relaxed : {"conditional", "joint"}, default="conditional"
        Conditional group means or Eq. 15's joint expectations in the relaxed
        gap (see :func:`constraint_gradient`); ignored for the covariance.
    output : {"logit", "proba"}, default="logit"
        The function :math:`f` of the paper: the logit (paper and authors'
        code), or the probability (matches a penalty on probabilities, such
        as :class:`~skfairnn.FairRegClassifier`'s).
    aggregate : {"dataset", "batch"}, default="dataset"
        ``"dataset"`` sums over all rows (Eq. 35). ``"batch"`` is the authors'
        code: rows (in the given order) are split into ``n // batch_size``
        consecutive blocks and both :math:`c` and the kernel mean are computed
        within each block.
    batch_size : int, default=4096
        Rows per pass (memory only) for ``"dataset"``; block size for ``"batch"``.

    Returns
    -------
    ndarray of shape (n_samples,)

    Notes
    -----
    Aggregate scores are quadratic in :math:`c`, so with two groups they do not
    change when the other group is the favoured one; the pairwise scores
    (:func:`pairwise_fairness_influence`) do flip sign. For equalized odds,
    :math:`c = c^{TPR} + c^{FPR}` (Eq. 25) and :math:`S(i)` includes the
    TPR×FPR cross terms of the kernel sum. Cost: two passes over the data (one
    backward, one forward-mode), memory of one block; no ``n × n`` kernel.

    References
    ----------
    .. [1] Wang, Wang & Liu, "Understanding Instance-Level Impact of Fairness
       Constraints", ICML 2022.
    """
    _check_option(aggregate, AGGREGATES, _MSG_AGGREGATE)
    X, y01, group = _prepare(net, X, y, sensitive_features, constraint, surrogate, relaxed, output)
    module = net.module_
    f = network_outputs(module, X, output=output, chunk_size=batch_size).cpu().numpy()
    if aggregate == "dataset":
        blocks = [np.arange(len(X))]
    else:
        blocks = np.array_split(np.arange(len(X)), max(len(X) // batch_size, 1))
    scores = np.zeros(len(X))
    for rows in blocks:
        coef = constraint_gradient(
            f[rows],
            y01[rows],
            group[rows],
            constraint=constraint,
            surrogate=surrogate,
            relaxed=relaxed,
        )
        kernel_sum = ntk_weighted_sum(
            module, X[rows], coef.astype(np.float32), output=output, chunk_size=batch_size
        )
        scores[rows] = coef * kernel_sum.cpu().double().numpy() / len(rows)
    return scores


def pairwise_fairness_influence(
    net: FairNetClassifier,
    X,
    y,
    sensitive_features,
    X_target=None,
    *,
    constraint: str = "demographic_parity",
    surrogate: Literal["relaxed", "covariance"] = "relaxed",
    relaxed: Literal["conditional", "joint"] = "conditional",
    output: Literal["logit", "proba"] = "logit",
) -> np.ndarray:
    r"""Pairwise scores :math:`S(i, j) = c_i\,\Theta(x_i, x_j)`.

    Eq. 12, 17, 22, 24 and 30 without the constant :math:`\lambda\eta/n`.

    Row ``i`` is a training example of ``(X, y, sensitive_features)``, column
    ``j`` a target in ``X_target`` (default ``X``). Materialises per-sample
    gradients: for small sets. Signs follow the paper: positive :math:`c_i`
    for a favoured group's rows under the relaxed surrogate. ``constraint``,
    ``surrogate``, ``relaxed`` and ``output`` are those of
    :func:`fairness_influence_scores`.

    Returns
    -------
    ndarray of shape (n_samples, n_targets)
    """
    X, y01, group = _prepare(net, X, y, sensitive_features, constraint, surrogate, relaxed, output)
    X_target = X if X_target is None else net._validate_X(X_target)
    f = network_outputs(net.module_, X, output=output).cpu().numpy()
    coef = constraint_gradient(
        f, y01, group, constraint=constraint, surrogate=surrogate, relaxed=relaxed
    )
    kernel = ntk_matrix(net.module_, X, X_target, output=output).cpu().double().numpy()
    return coef[:, None] * kernel
