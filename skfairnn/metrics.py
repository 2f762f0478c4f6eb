# SPDX-License-Identifier: BSD-3-Clause
"""Group-fairness metrics, scorers and a fairness-budget refit rule.

The metrics cover binary classification with any number of groups and
sensitive features of any type (strings, ints, several columns for
intersectional groups, see :mod:`skfairnn.groups`). They follow fairlearn's
signature, ``f(y_true, y_pred, *, sensitive_features, sample_weight=None)``,
and are short functions of one table, :func:`group_rates`, whose per-group
rates a :class:`fairlearn.metrics.MetricFrame` disaggregates.

``y_pred`` may hold hard labels *or* scores: probabilities of the positive
class in ``[0, 1]``. On labels the rates are fairlearn's ``selection_rate``,
``true_positive_rate`` and ``false_positive_rate`` and scikit-learn's
``accuracy_score``. Scores are what fairlearn lacks: there each rate is the
(weighted) mean of the positive score ``s`` over a group (and over its
positives or negatives), the probability-level gaps of Fair Mixup [1]_. A hard
label is the score 0 or 1, so both read the same on labels.

Several groups are compared by the worst pair: a *difference* is the largest
group value minus the smallest, ``MetricFrame.difference()``
(``method="between_groups"``), which is ``|a - b|`` for two groups. A rate a
group cannot have (a TPR without positives) is NaN and left out, where
fairlearn counts it as 0; whenever every group has positives and negatives the
metrics below equal fairlearn's ``demographic_parity_difference``,
``equalized_odds_difference(agg="worst_case")``, ``equal_opportunity_*`` and
``accuracy_score_difference``. What fairlearn lacks and this module adds: the
papers' sum-form ΔEO, AOD, EOD and AD, and every gap on scores.

Which metric each paper reports (``notes/reference-implementations.md`` §9):

* Fair Mixup, FAIRER: :func:`demographic_parity_difference` and
  :func:`equalized_odds_difference` (``agg="sum"``) on probabilities;
* GCM: :func:`equalized_odds_difference` (``agg="sum"``) on labels
  thresholded at 0.5 and :func:`equal_opportunity_ratio` ("EOP");
* RUNNER's code: fairlearn's ΔDP and ``agg="max"`` (fairlearn's
  ``agg="worst_case"``), although the paper writes the sum;
* FairIF: :func:`accuracy_difference` (AD), :func:`average_odds_difference`
  (AOD) and EOD, which is :func:`equal_opportunity_difference`.

Each call runs one MetricFrame whose rows are the samples summed per cell,
(group, label, prediction) or (group, label) for scores: the values are those
of summing the samples directly, and a call costs some 35 ms however many
samples there are (``skfairnn._disaggregation`` has the numbers).

References
----------
.. [1] Chuang, C.-Y. and Mroueh, Y. "Fair Mixup: Fairness via Interpolation",
   ICLR 2021 (bib key ``chuang2021fair``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from inspect import Signature, signature
from numbers import Real
from typing import Any, Literal

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import sklearn
from numpy.typing import ArrayLike
from sklearn.metrics import make_scorer

from skfairnn._decision import COLLAPSE_AUC
from skfairnn._disaggregation import average_odds, differences, equalized_odds, group_rates_of

__all__ = [
    "group_rates",
    "demographic_parity_difference",
    "equalized_odds_difference",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "accuracy_difference",
    "average_odds_difference",
    "make_fairness_scorer",
    "best_accuracy_within",
]

_MSG_AGG = "agg must be one of 'sum', 'max'; got {agg!r}."
_MSG_METRIC = (
    "metric must be a callable, one of {names} or the name of a fairness metric of "
    "fairlearn.metrics (e.g. 'demographic_parity_ratio'); got {metric!r}."
)
_MSG_RESPONSE = "response_method must be one of 'predict', 'predict_proba'; got {method!r}."
_MSG_SCORER_KWARGS = (
    "sensitive_features cannot be fixed in make_fairness_scorer; it is routed per fold. "
    "Pass it to fit of the search (metadata routing on) instead."
)
_MSG_NO_SENSITIVE = (
    "The fairness scorer {name} received no sensitive_features. Enable metadata routing "
    "(sklearn.set_config(enable_metadata_routing=True)) and pass sensitive_features=A to "
    "fit of GridSearchCV / cross_validate(params=...); with routing off, scikit-learn "
    "cannot pass metadata to scorers."
)
_MSG_BOUND = "bound must be a non-negative real number; got {bound!r}."
_MSG_CV_KEY = (
    "cv_results has no column {key!r}; the scoring names it holds are {names}. "
    "Check the keys of the scoring dict given to the search."
)
_MSG_NO_GAP = "cv_results[{key!r}] is NaN for every candidate; no candidate can be selected."
_MSG_OVER_BUDGET = (
    "No candidate satisfies |{key}| <= {bound}; selecting candidate {index} with the "
    "smallest gap ({gap:.4g})."
)


# ----------------------------------------------------------------------------------------------
# The per-group table


def group_rates(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
) -> pd.DataFrame:
    """Per-group selection rate, TPR, FPR, TNR and accuracy of a binary classifier.

    The rates come from one :class:`fairlearn.metrics.MetricFrame` (fairlearn's rates on
    labels, weighted mean scores on scores); every named metric of this module is a short
    function of this table.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels; at most two distinct values.
    y_pred : array-like of shape (n_samples,)
        Predicted labels (values of ``y_true``), or scores of the positive class in
        ``[0, 1]`` such as ``predict_proba(X)[:, 1]``. Labels count as the scores 0 and 1.
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_features)
        Group membership; several columns define intersectional groups
        (see :func:`skfairnn.groups.encode_sensitive_features`). NaN is an error.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; every rate becomes a weighted mean.
    pos_label : int, float, bool or str, default=1
        The positive label of ``y_true`` (and of ``y_pred`` when it holds labels).

    Returns
    -------
    rates : pandas.DataFrame of shape (n_groups, 6)
        Indexed by the group labels (sorted; ``"a,b"`` for intersectional groups), with
        columns

        - ``selection_rate``: :math:`E[s \\mid A=a]`,
        - ``tpr``: :math:`E[s \\mid A=a, Y=1]`, NaN if the group has no positives,
        - ``fpr``: :math:`E[s \\mid A=a, Y=0]`, NaN if the group has no negatives,
        - ``tnr``: ``1 - fpr``,
        - ``accuracy``: :math:`E[s Y + (1 - s)(1 - Y) \\mid A=a]` (the expected accuracy
          for scores),
        - ``count``: number of samples in the group (unweighted).

        Here :math:`s` is the positive score and expectations are weighted by
        ``sample_weight``.

    Raises
    ------
    ValueError
        If the lengths differ, ``y_true`` is not binary, ``pos_label`` is not a label of
        ``y_true``, ``y_pred`` holds neither labels nor scores in ``[0, 1]``, or an
        argument contains NaN.

    Examples
    --------
    >>> from skfairnn.metrics import group_rates
    >>> rates = group_rates([1, 0, 1, 0], [1, 1, 0, 0], sensitive_features=["a", "a", "b", "b"])
    >>> rates  # doctest: +NORMALIZE_WHITESPACE
           selection_rate  tpr  fpr  tnr  accuracy  count
    group
    a                 1.0  1.0  1.0  0.0       0.5      2
    b                 0.0  0.0  0.0  1.0       0.5      2
    """
    (rates,) = group_rates_of(
        y_true,
        {"y_pred": y_pred},
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
        pos_label=pos_label,
    ).values()
    return rates


def _differences_of(y_true, y_pred, sensitive_features, sample_weight, pos_label) -> dict:
    """The worst-pair difference of every rate of :func:`group_rates`."""
    return differences(
        group_rates(
            y_true,
            y_pred,
            sensitive_features=sensitive_features,
            sample_weight=sample_weight,
            pos_label=pos_label,
        )
    )


# ----------------------------------------------------------------------------------------------
# Named metrics


_PARAMETERS = """y_true : array-like of shape (n_samples,)
        True labels; at most two distinct values.
    y_pred : array-like of shape (n_samples,)
        Predicted labels, or positive-class scores in ``[0, 1]``.
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_features)
        Group membership; several columns define intersectional groups.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.
    pos_label : int, float, bool or str, default=1
        The positive label."""


def _shared_parameters(metric: Callable[..., float]) -> Callable[..., float]:
    """Fill in the parameters every named metric shares (``%(parameters)s``)."""
    metric.__doc__ = metric.__doc__.replace("%(parameters)s", _PARAMETERS)
    return metric


@_shared_parameters
def demographic_parity_difference(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
) -> float:
    """Demographic parity difference ΔDP: gap in selection rate between groups.

    .. math:: \\Delta_{DP} = \\max_a E[s \\mid A=a] - \\min_a E[s \\mid A=a]

    With hard labels this equals fairlearn's ``demographic_parity_difference``; with
    probabilities it is Fair Mixup's probability-level gap
    :math:`|E[p \\mid A=0] - E[p \\mid A=1]|`.

    Parameters
    ----------
    %(parameters)s

    Returns
    -------
    float
        ΔDP in ``[0, 1]``; 0 means equal selection rates.

    See Also
    --------
    group_rates : The per-group table this is computed from.

    Notes
    -----
    With more than two groups the difference is the worst pair, the largest group value
    minus the smallest. A group with zero total weight is left out.

    Examples
    --------
    >>> from skfairnn.metrics import demographic_parity_difference
    >>> demographic_parity_difference(
    ...     [1, 0, 1, 0], [0.75, 0.25, 0.5, 0.0], sensitive_features=["a", "a", "b", "b"])
    0.25
    """
    return _differences_of(y_true, y_pred, sensitive_features, sample_weight, pos_label)[
        "selection_rate"
    ]


@_shared_parameters
def equalized_odds_difference(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
    agg: Literal["sum", "max"] = "sum",
) -> float:
    """Equalized odds difference ΔEO: gaps in TPR and FPR between groups.

    .. math::

        \\Delta_{EO} = \\Delta_{TPR} + \\Delta_{FPR} \\quad (\\text{agg="sum"}), \\qquad
        \\Delta_{EO} = \\max(\\Delta_{TPR}, \\Delta_{FPR}) \\quad (\\text{agg="max"})

    where :math:`\\Delta_{TPR} = \\max_a TPR_a - \\min_a TPR_a` and likewise for FPR.

    Parameters
    ----------
    %(parameters)s
    agg : {"sum", "max"}, default="sum"
        ``"sum"`` is the definition written in the Fair Mixup, GCM, FAIRER and RUNNER
        papers (on probabilities it is Fair Mixup's
        :math:`\\sum_y |E[p \\mid A=0, Y=y] - E[p \\mid A=1, Y=y]|`). ``"max"`` equals
        fairlearn's ``agg="worst_case"``, the metric in RUNNER's released code.

    Returns
    -------
    float
        ΔEO in ``[0, 2]`` for ``"sum"``, ``[0, 1]`` for ``"max"``.

    See Also
    --------
    equal_opportunity_difference : The TPR part alone.
    group_rates : The per-group table this is computed from.

    Notes
    -----
    With more than two groups each difference is the worst pair (largest minus smallest
    group rate). A group without positives has no TPR and is left out of ΔTPR, one
    without negatives is left out of ΔFPR; with fewer than two defined rates that part
    is 0.0.

    Examples
    --------
    >>> from skfairnn.metrics import equalized_odds_difference
    >>> y, pred, group = [1, 0, 1, 0], [1, 1, 0, 0], ["a", "a", "b", "b"]
    >>> equalized_odds_difference(y, pred, sensitive_features=group)
    2.0
    >>> equalized_odds_difference(y, pred, sensitive_features=group, agg="max")
    1.0
    """
    if agg not in ("sum", "max"):
        raise ValueError(_MSG_AGG.format(agg=agg))
    return equalized_odds(
        _differences_of(y_true, y_pred, sensitive_features, sample_weight, pos_label), agg
    )


@_shared_parameters
def equal_opportunity_difference(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
) -> float:
    """Equal opportunity difference ΔEOp: gap in true positive rate between groups.

    .. math:: \\Delta_{EOp} = \\max_a TPR_a - \\min_a TPR_a

    This is also FairIF's EOD, :math:`|\\Delta TPR|`.

    Parameters
    ----------
    %(parameters)s

    Returns
    -------
    float
        ΔEOp in ``[0, 1]``.

    See Also
    --------
    equal_opportunity_ratio : The same rates as a ratio (GCM's "EOP").

    Notes
    -----
    With more than two groups the difference is the worst pair. Groups without
    positives have no TPR and are left out; with fewer than two defined TPRs the
    result is 0.0.

    Examples
    --------
    >>> from skfairnn.metrics import equal_opportunity_difference
    >>> equal_opportunity_difference(
    ...     [1, 1, 1, 1], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
    0.5
    """
    return _differences_of(y_true, y_pred, sensitive_features, sample_weight, pos_label)["tpr"]


@_shared_parameters
def equal_opportunity_ratio(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
) -> float:
    """Equal opportunity ratio: smallest over largest group true positive rate.

    .. math:: EOP = \\min_a TPR_a / \\max_a TPR_a

    GCM's "EOP" (its code uses this symmetric ratio; the paper writes
    :math:`TPR_0 / TPR_1`) and fairlearn's ``equal_opportunity_ratio``. Greater is
    fairer; 1 means equal TPRs.

    Parameters
    ----------
    %(parameters)s

    Returns
    -------
    float
        The ratio in ``[0, 1]``.

    See Also
    --------
    equal_opportunity_difference : The same rates as a difference.

    Notes
    -----
    Groups without positives are left out. The ratio is 1.0 when fewer than two groups
    have a defined TPR or when every TPR is 0 (no disparity to measure).

    Examples
    --------
    >>> from skfairnn.metrics import equal_opportunity_ratio
    >>> equal_opportunity_ratio(
    ...     [1, 1, 1, 1], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
    0.5
    """
    rates = group_rates(
        y_true,
        y_pred,
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
        pos_label=pos_label,
    )
    tpr = rates["tpr"].dropna()
    if len(tpr) < 2 or tpr.max() == 0:
        return 1.0
    return float(tpr.min() / tpr.max())


@_shared_parameters
def accuracy_difference(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
) -> float:
    """Accuracy difference AD: gap in accuracy between groups (FairIF).

    .. math:: AD = \\max_a ACC_a - \\min_a ACC_a

    For two groups this is FairIF's :math:`|ACC_0 - ACC_1|`. With scores, the group
    accuracy is the expected accuracy :math:`E[s Y + (1 - s)(1 - Y) \\mid A=a]`.

    Parameters
    ----------
    %(parameters)s

    Returns
    -------
    float
        AD in ``[0, 1]``.

    Notes
    -----
    With more than two groups the difference is the worst pair (largest minus smallest
    group accuracy).

    Examples
    --------
    >>> from skfairnn.metrics import accuracy_difference
    >>> accuracy_difference([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=[0, 0, 1, 1])
    0.5
    """
    return _differences_of(y_true, y_pred, sensitive_features, sample_weight, pos_label)["accuracy"]


@_shared_parameters
def average_odds_difference(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
) -> float:
    """Average odds difference AOD: mean of the TPR and TNR gaps (FairIF).

    .. math:: AOD = \\tfrac{1}{2} (\\Delta_{TPR} + \\Delta_{TNR})

    For two groups this is FairIF's :math:`\\frac12(|\\Delta TPR| + |\\Delta TNR|)`.
    Since :math:`TNR = 1 - FPR`, it equals half of
    ``equalized_odds_difference(..., agg="sum")``.

    Parameters
    ----------
    %(parameters)s

    Returns
    -------
    float
        AOD in ``[0, 1]``.

    Notes
    -----
    With more than two groups each gap is the worst pair. Groups without positives
    (negatives) are left out of the TPR (TNR) gap; with fewer than two defined rates
    that gap is 0.0.

    Examples
    --------
    >>> from skfairnn.metrics import average_odds_difference
    >>> average_odds_difference(
    ...     [1, 0, 1, 0], [1, 1, 0, 0], sensitive_features=["a", "a", "b", "b"])
    1.0
    """
    return average_odds(
        _differences_of(y_true, y_pred, sensitive_features, sample_weight, pos_label)
    )


# ----------------------------------------------------------------------------------------------
# Scorers

FAIRNESS_METRICS: Mapping[str, Callable[..., float]] = {
    "demographic_parity_difference": demographic_parity_difference,
    "equalized_odds_difference": equalized_odds_difference,
    "equal_opportunity_difference": equal_opportunity_difference,
    "equal_opportunity_ratio": equal_opportunity_ratio,
    "accuracy_difference": accuracy_difference,
    "average_odds_difference": average_odds_difference,
}
_GREATER_IS_BETTER = frozenset({"equal_opportunity_ratio"})
# fairlearn.metrics fairness metrics: ratios and group minima are "greater is better"
_FAIRLEARN_SUFFIXES = ("_difference", "_ratio", "_group_min", "_group_max")
_FAIRLEARN_GREATER_IS_BETTER = ("_ratio", "_group_min")


class _SensitiveScoreFunction:
    """A metric that fails with a routing hint when no ``sensitive_features`` reach it.

    It keeps the wrapped metric's name and signature, so scikit-learn's scorer still
    finds the metric's ``pos_label`` default; a class (not a closure) so it pickles.
    """

    def __init__(self, metric: Callable[..., float]):
        self.metric = metric
        self.__name__ = getattr(metric, "__name__", type(metric).__name__)

    @property
    def __signature__(self) -> Signature:
        return signature(self.metric)

    def __call__(self, y_true, y_pred, **kwargs) -> float:
        if kwargs.get("sensitive_features") is None:
            raise TypeError(_MSG_NO_SENSITIVE.format(name=self.__name__))
        return self.metric(y_true, y_pred, **kwargs)

    def __repr__(self) -> str:
        return self.__name__


def _fairlearn_metric(name: str) -> Callable[..., float] | None:
    """``fairlearn.metrics.<name>`` if it is a fairness metric (takes sensitive_features)."""
    if name not in flm.__all__ or not name.endswith(_FAIRLEARN_SUFFIXES):
        return None
    metric = getattr(flm, name)
    return metric if "sensitive_features" in signature(metric).parameters else None


def _resolve_metric(metric: str | Callable[..., float]) -> Callable[..., float]:
    """The metric function of a name (this module's first, then fairlearn's) or callable."""
    if callable(metric):
        return metric
    if isinstance(metric, str) and metric in FAIRNESS_METRICS:
        return FAIRNESS_METRICS[metric]
    if isinstance(metric, str) and (function := _fairlearn_metric(metric)) is not None:
        return function
    raise ValueError(_MSG_METRIC.format(names=sorted(FAIRNESS_METRICS), metric=metric))


def _default_greater_is_better(metric: str | Callable[..., float]) -> bool:
    if not isinstance(metric, str):
        return False
    if metric in FAIRNESS_METRICS:
        return metric in _GREATER_IS_BETTER
    return metric.endswith(_FAIRLEARN_GREATER_IS_BETTER)


def make_fairness_scorer(
    metric: str | Callable[..., float],
    *,
    greater_is_better: bool | None = None,
    response_method: Literal["predict", "predict_proba"] = "predict",
    **metric_kwargs: Any,
) -> Callable[..., float]:
    """Make a scikit-learn scorer from a fairness metric that receives ``sensitive_features``.

    The scorer requests ``sensitive_features`` through metadata routing, so
    ``GridSearchCV(...).fit(X, y, sensitive_features=A)`` and
    ``cross_validate(..., params={"sensitive_features": A})`` pass each test fold's
    slice of ``A`` to it.

    Parameters
    ----------
    metric : str or callable
        One of this module's metrics, ``"demographic_parity_difference"``,
        ``"equalized_odds_difference"``, ``"equal_opportunity_difference"``,
        ``"equal_opportunity_ratio"``, ``"accuracy_difference"``,
        ``"average_odds_difference"``; else the name of a fairness metric of
        :mod:`fairlearn.metrics` (one taking ``sensitive_features`` and ending in
        ``_difference``, ``_ratio``, ``_group_min`` or ``_group_max``, e.g.
        ``"demographic_parity_ratio"`` or ``"true_positive_rate_difference"``); or a
        callable ``metric(y_true, y_pred, *, sensitive_features, **kwargs) -> float``
        such as ``fairlearn.metrics.equalized_odds_difference``. A name that both define
        is this module's metric (its ``equalized_odds_difference`` defaults to the sum).
    greater_is_better : bool, default=None
        Whether a larger metric value is better. None means True for
        ``"equal_opportunity_ratio"`` and for fairlearn names ending in ``_ratio`` or
        ``_group_min``, and False otherwise (differences, ``_group_max``, callables).
        With False the scorer returns the negated metric, so ``cv_results_`` holds
        values <= 0.
    response_method : {"predict", "predict_proba"}, default="predict"
        ``"predict"`` gives label-level metrics. ``"predict_proba"`` passes the
        probability of the positive class (``pos_label``, by default 1, i.e. column 1
        for 0/1 targets) and gives Fair Mixup's probability-level gaps.
    **metric_kwargs : dict
        Fixed keyword arguments for the metric, e.g. ``agg="max"`` or ``pos_label``.

    Returns
    -------
    scorer : callable
        A scorer from :func:`sklearn.metrics.make_scorer` whose score request includes
        ``sensitive_features``.

    Raises
    ------
    ValueError
        If ``metric`` is an unknown name, ``response_method`` is not supported, or
        ``sensitive_features`` is given in ``metric_kwargs``.

    See Also
    --------
    best_accuracy_within : A ``refit`` rule that uses such a scorer.

    Notes
    -----
    The request is set inside ``sklearn.config_context(enable_metadata_routing=True)``,
    so the scorer can be built before routing is switched on. It only *receives*
    ``sensitive_features`` while routing is enabled
    (``sklearn.set_config(enable_metadata_routing=True)``): with routing off,
    scikit-learn passes no metadata to scorers and calling the scorer raises a
    ``TypeError`` that says so (routing-off alternatives: put ``A`` in a column of
    ``X`` and write a scorer ``f(estimator, X, y)``).

    ``scorer.set_score_request(...)`` replaces the whole request in scikit-learn, so to
    also route sample weights call
    ``scorer.set_score_request(sensitive_features=True, sample_weight=True)``.

    Examples
    --------
    >>> import sklearn
    >>> from skfairnn.metrics import make_fairness_scorer
    >>> make_fairness_scorer("equalized_odds_difference", agg="max")
    make_scorer(equalized_odds_difference, greater_is_better=False, \
response_method='predict', agg=max)
    """
    if response_method not in ("predict", "predict_proba"):
        raise ValueError(_MSG_RESPONSE.format(method=response_method))
    if "sensitive_features" in metric_kwargs:
        raise ValueError(_MSG_SCORER_KWARGS)
    function = _resolve_metric(metric)
    if greater_is_better is None:
        greater_is_better = _default_greater_is_better(metric)
    scorer = make_scorer(
        _SensitiveScoreFunction(function),
        greater_is_better=greater_is_better,
        response_method=response_method,
        **metric_kwargs,
    )
    with sklearn.config_context(enable_metadata_routing=True):
        scorer.set_score_request(sensitive_features=True)
    return scorer


# ----------------------------------------------------------------------------------------------
# Model selection under a fairness budget


class _BestAccuracyWithin:
    """``refit`` callable of :func:`best_accuracy_within` (a class so that it pickles)."""

    def __init__(self, fairness_key: str, bound: float, accuracy: str, auc: str | None = None):
        self.fairness_key = fairness_key
        self.bound = bound
        self.accuracy = accuracy
        self.auc = auc

    def __call__(self, cv_results: Mapping[str, ArrayLike]) -> int:
        gap = np.abs(_cv_column(cv_results, self.fairness_key))
        score = _cv_column(cv_results, self.accuracy)
        if self.auc is not None:
            # collapsed candidates (scores without ranking) are never chosen while others exist
            collapsed = ~(_cv_column(cv_results, self.auc) > COLLAPSE_AUC)
            if not collapsed.all():
                gap = np.where(collapsed, np.nan, gap)
        feasible = np.flatnonzero(gap <= self.bound)  # NaN gaps are never feasible
        if len(feasible):
            score = np.where(np.isnan(score), -np.inf, score)[feasible]
            # Highest score first; ties go to the smaller gap, then the first candidate.
            return int(feasible[np.lexsort((gap[feasible], -score))[0]])
        if np.isnan(gap).all():
            raise ValueError(_MSG_NO_GAP.format(key=f"mean_test_{self.fairness_key}"))
        index = int(np.nanargmin(gap))
        message = _MSG_OVER_BUDGET.format(
            key=self.fairness_key, bound=self.bound, index=index, gap=gap[index]
        )
        warnings.warn(message, UserWarning, stacklevel=2)
        return index

    def __repr__(self) -> str:
        auc = "" if self.auc is None else f", auc={self.auc!r}"
        return (
            f"best_accuracy_within({self.fairness_key!r}, {self.bound!r}, "
            f"accuracy={self.accuracy!r}{auc})"
        )


def _cv_column(cv_results: Mapping[str, ArrayLike], name: str) -> np.ndarray:
    """``cv_results["mean_test_<name>"]`` as floats; KeyError naming the missing key."""
    key = f"mean_test_{name}"
    if key not in cv_results:
        names = sorted(
            k.removeprefix("mean_test_") for k in cv_results if k.startswith("mean_test_")
        )
        raise KeyError(_MSG_CV_KEY.format(key=key, names=names))
    return np.asarray(cv_results[key], dtype=float)


def best_accuracy_within(
    fairness_key: str, bound: float, *, accuracy: str = "accuracy", auc: str | None = None
) -> Callable[[Mapping[str, ArrayLike]], int]:
    """Refit rule for a search: best accuracy among candidates within a fairness budget.

    Use it as ``GridSearchCV(..., scoring={accuracy: ..., fairness_key: ...},
    refit=best_accuracy_within(fairness_key, bound, accuracy=accuracy))``.

    Parameters
    ----------
    fairness_key : str
        Key of the fairness scorer in the ``scoring`` dict; its mean test score is read
        from ``cv_results["mean_test_<fairness_key>"]``. Difference scorers from
        :func:`make_fairness_scorer` are negated, so the budget is applied to the
        absolute value.
    bound : float
        The budget :math:`\\varepsilon \\ge 0`: a candidate is feasible when
        ``|mean_test_<fairness_key>| <= bound``.
    accuracy : str, default="accuracy"
        Key of the performance scorer (greater is better) in the ``scoring`` dict, e.g.
        ``"ap"`` for average precision.
    auc : str, default=None
        Key of a ``"roc_auc"`` scorer in the ``scoring`` dict. Candidates whose mean
        test AUC is at most :data:`skfairnn._decision.COLLAPSE_AUC` have collapsed
        (their gap is small because they rank nobody) and are skipped, unless every
        candidate has. Recommended: a strong fairness weight often wins a gap budget
        by collapsing.

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> int``, the index of the chosen candidate: the feasible
        one with the highest mean ``accuracy`` score (ties: smaller gap, then first).
        If no candidate is feasible it returns the one with the smallest gap and
        warns with a ``UserWarning``.

    Raises
    ------
    ValueError
        If ``bound`` is negative or not a number. ``refit`` raises ``KeyError`` naming the
        missing ``mean_test_*`` column, and ``ValueError`` if every gap is NaN.

    See Also
    --------
    make_fairness_scorer : Builds the fairness scorer.

    Examples
    --------
    >>> from skfairnn.metrics import best_accuracy_within
    >>> refit = best_accuracy_within("eo", 0.05, accuracy="ap")
    >>> refit({"mean_test_eo": [-0.02, -0.04, -0.10], "mean_test_ap": [0.70, 0.72, 0.80]})
    1
    """
    if isinstance(bound, bool) or not isinstance(bound, Real) or not bound >= 0:
        raise ValueError(_MSG_BOUND.format(bound=bound))
    return _BestAccuracyWithin(fairness_key, float(bound), accuracy, auc)
