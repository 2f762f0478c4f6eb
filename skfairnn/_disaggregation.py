# SPDX-License-Identifier: BSD-3-Clause
"""Per-group rates of binary predictions, disaggregated by one fairlearn ``MetricFrame``.

:mod:`skfairnn.metrics` and the benchmark protocol get every group rate here:
:func:`group_rates_of` validates the inputs once and runs one
:class:`fairlearn.metrics.MetricFrame` for any number of predictions of the
same samples (the protocol judges hard decisions and probabilities of a split
in one pass). On labels the frame's metrics are fairlearn's ``selection_rate``,
``true_positive_rate``, ``false_positive_rate`` and scikit-learn's
``accuracy_score``; on scores, which fairlearn does not cover, they are weighted
mean scores. A rate over rows without weight (a TPR in a group without
positives) is NaN, where fairlearn gives 0.

MetricFrame calls each metric once overall and once per group on the rows it is
given, copying each row through pandas: four label rates on 10,000 raw rows take
~270 ms. So its rows are *cells*, one per (group, label, prediction) or, for
scores, per (group, label), weighted by the summed sample weight (and carrying
the summed weighted score): the same weighted sample, so the same rates, at a
cost that does not grow with the samples. The sums are the ones the previous
hand-written ``np.bincount`` table formed, so with unit or integer weights
every value is bit for bit the same; fractional weights are summed per cell
first and can differ in the last digits (≤ 2e-15 seen).

Cost, median ms per call before (the hand-written ``np.bincount`` table, one
validation per metric) → after (one frame per call), on 2 shared cores with
fairlearn 0.15 and two groups, for 10,000 / 30,000 rows:

* one metric (``equalized_odds_difference`` of labels): 4 → 35 / 12 → 46-54;
* the protocol's ``split_metrics`` (its 16 values, AP and AUC included):
  69-72 → 65-81 / 157-171 → 89-115.

A frame has a fixed cost of some 25-40 ms (pandas and narwhals work per
metric and group, not per row), so a single metric got slower, while the
protocol, which judges the hard decisions and the probabilities of a split in
one frame instead of ten metric calls, costs about the same. In ``skfairnn
compare --quick --methods erm,gcm_t2 --seeds 1`` on Adult (9,045 rows per split)
a split took 60 → 74 ms, an epoch's evaluation 120 → 148 ms, 0.2 s of the
13 s run: no private fast path is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.linalg import block_diag
from sklearn.metrics import accuracy_score

from skfairnn.groups import encode_sensitive_features
from skfairnn.utils._validation import check_sample_weight

__all__ = ["RATE_COLUMNS", "average_odds", "differences", "equalized_odds", "group_rates_of"]

RATE_COLUMNS = ("selection_rate", "tpr", "fpr", "tnr", "accuracy", "count")

_MSG_LENGTHS = (
    "y_true, y_pred, sensitive_features and sample_weight must describe the same samples; "
    "got lengths {lengths}."
)
_MSG_NDIM = (
    "{name} must be 1-D with one entry per sample; got shape {shape}. For predict_proba "
    "output pass the positive-class column, e.g. proba[:, 1]."
)
_MSG_NAN = "{name} contains {count} missing value(s) (NaN/None); every sample needs one."
_MSG_NOT_BINARY = (
    "y_true must be binary (at most two distinct labels); got {count} labels: {labels}."
)
_MSG_POS_LABEL = "pos_label={pos_label!r} is not one of the labels in y_true, {labels}."
_MSG_Y_PRED = (
    "{name} must hold labels of y_true ({labels}) or scores of the positive class in "
    "[0, 1]; got values in [{low}, {high}]."
)
_MSG_Y_PRED_LABELS = (
    "{name} must hold labels of y_true ({labels}) or scores of the positive class in "
    "[0, 1]; got the unknown label(s) {unknown}."
)


# ----------------------------------------------------------------------------------------------
# Input validation


def _n_rows(values) -> int:
    """Number of samples of an array-like (rows for 2-D input)."""
    return len(values) if hasattr(values, "__len__") else int(np.shape(values)[0])


def _check_lengths(**arrays) -> int:
    """Raise ``ValueError`` naming every argument unless all lengths agree."""
    lengths = {name: _n_rows(values) for name, values in arrays.items() if values is not None}
    if len(set(lengths.values())) > 1:
        raise ValueError(_MSG_LENGTHS.format(lengths=lengths))
    return next(iter(lengths.values()))


def _as_1d(values, name: str) -> np.ndarray:
    """Return ``values`` as a 1-D array; ``(n, 1)`` columns are flattened."""
    if hasattr(values, "detach"):  # torch tensor
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(_MSG_NDIM.format(name=name, shape=array.shape))
    return array


def _check_no_missing(series: pd.Series, name: str) -> None:
    missing = int(series.isna().sum())
    if missing:
        raise ValueError(_MSG_NAN.format(name=name, count=missing))


def _binary_target(y_true, pos_label) -> tuple[np.ndarray, list]:
    """Return ``(is_positive as 0/1 ints, labels of y_true)``, checking that y_true is binary.

    A y_true with a single label is accepted (all samples positive or all negative, as in a
    small test fold); with two labels, ``pos_label`` must be one of them.
    """
    series = pd.Series(_as_1d(y_true, "y_true"))
    _check_no_missing(series, "y_true")
    labels = pd.unique(series).tolist()
    if len(labels) > 2:
        shown = labels[:10] + (["..."] if len(labels) > 10 else [])
        raise ValueError(_MSG_NOT_BINARY.format(count=len(labels), labels=shown))
    if len(labels) == 2 and not pd.Series(labels).isin([pos_label]).any():
        raise ValueError(_MSG_POS_LABEL.format(pos_label=pos_label, labels=labels))
    return series.eq(pos_label).to_numpy(dtype=np.int64), labels


def _positive_scores(y_pred, labels: list, pos_label, name: str) -> tuple[np.ndarray, bool]:
    """``(score of the positive class per sample, whether y_pred holds labels)``.

    ``y_pred`` is read as hard labels, the scores 0 and 1, when all its values are labels
    of y_true (or ``pos_label``); otherwise it must be numeric scores in ``[0, 1]``.
    """
    array = _as_1d(y_pred, name)
    series = pd.Series(array)
    _check_no_missing(series, name)
    is_label = series.isin([*labels, pos_label])
    if is_label.all():
        return series.eq(pos_label).to_numpy(dtype=np.int64), True
    if array.dtype.kind not in "biuf":
        unknown = pd.unique(series[~is_label]).tolist()[:10]
        raise ValueError(_MSG_Y_PRED_LABELS.format(name=name, labels=labels, unknown=unknown))
    scores = array.astype(float)
    low, high = scores.min(), scores.max()
    if low < 0 or high > 1:
        raise ValueError(_MSG_Y_PRED.format(name=name, labels=labels, low=low, high=high))
    return scores, False


# ----------------------------------------------------------------------------------------------
# The frame's metrics, its rows and the frame


def _rate(label: int | None, metric: Callable[..., float] | None = None) -> Callable[..., float]:
    """A MetricFrame metric over a group's rows with ``y_true == label`` (all for None).

    ``metric`` is fairlearn's (scikit-learn's) rate of 0/1 labels; None gives the weighted
    mean score of those rows. NaN when the rows carry no weight.
    """

    def rate(y_true, y_pred, sample_weight, score=None):
        rows = slice(None) if label is None else y_true == label
        total = sample_weight[rows].sum()
        if not total > 0:
            return np.nan
        if metric is None:
            return score[rows].sum() / total
        return metric(y_true, y_pred, sample_weight=sample_weight)

    return rate


def _expected_accuracy(y_true, y_pred, sample_weight, score):
    """:math:`E[s Y + (1 - s)(1 - Y)]` over a group, the accuracy of scores."""
    total = sample_weight.sum()
    if not total > 0:
        return np.nan
    positive = y_true == 1
    return (score[positive].sum() + sample_weight[~positive].sum() - score[~positive].sum()) / total


_LABEL_RATES = {
    "selection_rate": _rate(None, partial(flm.selection_rate, pos_label=1)),
    "tpr": _rate(1, partial(flm.true_positive_rate, pos_label=1)),
    "fpr": _rate(0, partial(flm.false_positive_rate, pos_label=1)),
    "accuracy": _rate(None, accuracy_score),
}
_SCORE_RATES = {
    "selection_rate": _rate(None),
    "tpr": _rate(1),
    "fpr": _rate(0),
    "accuracy": _expected_accuracy,
}


def _cells(positive, scores, is_label: bool, weight, codes) -> np.ndarray:
    """The samples summed per cell: rows ``group, y, y_pred, weight, weighted score``.

    A cell is a (group, label, predicted label) triple for labels and a (group, label) pair
    for scores (``y_pred`` 0); only nonempty cells are kept. The sums are ``np.bincount``
    sums in sample order, as the hand-written table before MetricFrame formed them.
    """
    per_label = 2 if is_label else 1
    cell = (codes * 2 + positive) * per_label + (scores if is_label else 0)
    kept = np.flatnonzero(np.bincount(cell))
    score = 0 * kept if is_label else np.bincount(cell, weights=weight * scores)[kept]
    total = np.bincount(cell, weights=weight)[kept]
    return np.stack(
        [kept // (2 * per_label), kept // per_label % 2, kept % per_label, total, score]
    )


def group_rates_of(
    y_true: ArrayLike,
    predictions: Mapping[str, ArrayLike],
    *,
    sensitive_features: ArrayLike,
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
) -> dict[str, pd.DataFrame]:
    """:func:`skfairnn.metrics.group_rates` of several predictions of the same samples.

    ``predictions`` maps a name (used in error messages) to labels or scores; the result
    maps it to its rates table. One MetricFrame computes them all: the cells of every
    prediction are stacked into its rows, and each prediction's metrics see the others'
    cells with weight 0, which adds nothing to any sum.
    """
    n_samples = _check_lengths(
        y_true=y_true,
        **predictions,
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )
    positive, labels = _binary_target(y_true, pos_label)
    weight = check_sample_weight(sample_weight, n_samples, normalize=False)
    groups = encode_sensitive_features(sensitive_features, n_samples=n_samples)
    parts = [
        (name, *_positive_scores(y_pred, labels, pos_label, name))
        for name, y_pred in predictions.items()
    ]
    cells = [
        _cells(positive, scores, is_label, weight, groups.codes) for _, scores, is_label in parts
    ]
    group, y_cell, pred_cell = np.concatenate(cells, axis=1)[:3].astype(np.int64)
    # row i: prediction i's cell weights (weighted scores) on its own cells, 0 on the others
    cell_weights, cell_scores = (block_diag(*(part[row][None] for part in cells)) for row in (3, 4))
    metrics, sample_params = {}, {}
    for (name, _, is_label), cell_weight, cell_score in zip(parts, cell_weights, cell_scores):
        rates = _LABEL_RATES if is_label else _SCORE_RATES
        params = {"sample_weight": cell_weight} | ({} if is_label else {"score": cell_score})
        metrics |= {f"{name}:{rate}": metric for rate, metric in rates.items()}
        sample_params |= {f"{name}:{rate}": params for rate in rates}
    by_group = flm.MetricFrame(
        metrics=metrics,
        y_true=y_cell,
        y_pred=pred_cell,
        sensitive_features=pd.Series(group),  # a Series: a single cell stays 1-D
        sample_params=sample_params,
    ).by_group.reindex(range(len(groups.labels)))
    count = np.bincount(groups.codes, minlength=len(groups.labels))
    tables = {}
    for name in predictions:
        rates = {rate: by_group[f"{name}:{rate}"].to_numpy(float) for rate in _LABEL_RATES}
        rates |= {"tnr": 1.0 - rates["fpr"], "count": count}
        columns = {column: rates[column] for column in RATE_COLUMNS}
        tables[name] = pd.DataFrame(columns, index=pd.Index(groups.labels, name="group"))
    return tables


def differences(rates: pd.DataFrame) -> dict[str, float]:
    """Worst-pair difference of every column of a rates table.

    The largest minus the smallest value over the groups where it is defined, which is
    ``MetricFrame.difference(method="between_groups")``; 0.0 with fewer than two.
    """
    spread = (rates.max() - rates.min()).fillna(0.0)
    return {column: float(value) for column, value in spread.items()}


def equalized_odds(gaps: Mapping[str, float], agg: str = "sum") -> float:
    """ΔEO from :func:`differences`: the TPR and FPR gaps summed, or their maximum."""
    tpr, fpr = gaps["tpr"], gaps["fpr"]
    return tpr + fpr if agg == "sum" else max(tpr, fpr)


def average_odds(gaps: Mapping[str, float]) -> float:
    """AOD from :func:`differences`: the mean of the TPR and TNR gaps."""
    return 0.5 * (gaps["tpr"] + gaps["tnr"])
