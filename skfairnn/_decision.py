# SPDX-License-Identifier: BSD-3-Clause
"""The decision rule for the data's prior, and the check for a collapsed fit.

Balanced batches (``sampling="group_balanced"`` / ``"cell_balanced"``, the
papers' loops) and sample weights train the network for a label prior other
than the data's: on data with 6 % positives, cell-balanced batches are half
positive, so the logit learns the odds of a balanced world and thresholding it
at 0 predicts positives at several times the base rate. ``prior_correction``
moves the decision by one fitted offset of the logit, the same for every row
(no groups are needed at predict time):

``"prior_shift"``
    Bayes' rule for a change of prior (Elkan 2001; Saerens et al. 2002):
    :math:`b = \\operatorname{logit}\\pi_{data} - \\operatorname{logit}\\pi_{loss}`,
    where :math:`\\pi_{loss}` is the positive share of the distribution the
    loss saw (sampling probabilities × sample weights) and
    :math:`\\pi_{data}` the positive share of all rows passed to ``fit``,
    whatever their weight: a subset chosen by weights (``InfluencePruner``'s
    0/1 weights) is still decided for the prior of the data it was cut from.
    It is exactly 0 for unweighted random batches.
``"match_rate"``
    The offset that makes the predicted positive rate on the training rows
    equal :math:`\\pi_{data}`: a quantile of the training logits. It does not
    assume the network is calibrated, which a fairness penalty breaks.
``"max_accuracy"``
    Among the offsets whose accuracy on the training rows is within one
    standard error of the best, the one whose predicted positive rate is
    closest to the base rate (:func:`max_accuracy_offset`): an accuracy-tuned
    threshold that does not trade rare positives for a constant classifier.
``None``
    Threshold the raw logit at 0 (probability 0.5), as the papers' code does.

The offset is refitted at the end of every epoch on (at most
:data:`MAX_ROWS`) training rows by :class:`DecisionRule`, a default skorch
callback, which also records the training AUC in ``history`` (``train_auc``)
and warns with :class:`~skfairnn.exceptions.CollapseWarning` at the end of
training when the scores have lost their ranking or the predictions are a
single class.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from skorch.callbacks import Callback

from ._batches import FairDataset, observed_rows, training_tensors
from .exceptions import CollapseWarning
from .modules import eval_mode

__all__ = [
    "PRIOR_CORRECTIONS",
    "DecisionRule",
    "COLLAPSE_AUC",
    "MAX_ROWS",
    "is_collapsed",
    "match_rate_offset",
    "max_accuracy_offset",
    "prior_shift_offset",
    "ranking_auc",
]

PRIOR_CORRECTIONS = ("prior_shift", "match_rate", "max_accuracy")
#: a training AUC at or below this means the scores have lost their ranking
COLLAPSE_AUC = 0.55
#: training rows used to fit the offset and measure the AUC (an even stride)
MAX_ROWS = 20_000
_CHUNK = 8192


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p) - np.log1p(-p))


def prior_shift_offset(data_prior: float, loss_prior: float) -> float:
    """Offset :math:`\\operatorname{logit}\\pi_{data} - \\operatorname{logit}\\pi_{loss}`."""
    return _logit(data_prior) - _logit(loss_prior)


def _sorted(logits: np.ndarray, y: np.ndarray | None = None):
    """``logits`` in ascending order as float64 (a stable sort), and ``y`` in that order."""
    order = np.argsort(logits, kind="stable")
    scores = np.asarray(logits, np.float64)[order]
    return scores, (None if y is None else np.asarray(y)[order])


def match_rate_offset(logits: np.ndarray, rate: float) -> float:
    """Offset ``b`` such that a share ``rate`` of ``logits + b`` is at least 0.

    The threshold sits halfway between the two order statistics around the
    ``1 - rate`` quantile, so no training row lies exactly on it.
    """
    return _match_rate_offset_sorted(_sorted(logits)[0], rate)


def _match_rate_offset_sorted(scores: np.ndarray, rate: float) -> float:
    n = len(scores)
    k = int(round(rate * n))  # rows to predict positive
    if k <= 0:
        return float(-(scores[-1] + 1.0))
    if k >= n:
        return float(-(scores[0] - 1.0))
    return float(-(scores[n - k - 1] + scores[n - k]) / 2)


def max_accuracy_offset(logits: np.ndarray, y: np.ndarray) -> float:
    """Offset ``b`` for ``logits + b >= 0`` with the best accuracy against ``y``, within noise.

    Every threshold whose training accuracy is within one binomial standard
    error, :math:`\\sqrt{a(1-a)/n}`, of the best accuracy :math:`a` is as good
    as the best on this sample; among them the one whose predicted positive
    rate is closest to the base rate is taken. On rare positives the plain
    maximum is often "predict nothing" by a handful of rows, which would
    ship a constant classifier; this rule keeps the accuracy and a usable
    recall. The threshold sits halfway between two scores.
    """
    return _max_accuracy_offset_sorted(*_sorted(logits, y))


def _max_accuracy_offset_sorted(scores: np.ndarray, labels: np.ndarray) -> float:
    """:func:`max_accuracy_offset` of scores sorted ascending (stably) and their labels."""
    n = len(labels)
    if n == 0:
        return 0.0
    # predicting positive for the rows from k on: negatives below k + positives from k
    correct = np.concatenate([[0], np.cumsum(labels == 0)]) + np.concatenate(
        [np.cumsum((labels == 1)[::-1])[::-1], [0]]
    )
    cuts = np.concatenate([[scores[0] - 1.0], (scores[:-1] + scores[1:]) / 2, [scores[-1] + 1.0]])
    valid = np.concatenate([[True], scores[1:] > scores[:-1], [True]])
    correct = np.where(valid, correct, -1)
    best = correct.max() / n
    tolerance = np.sqrt(best * (1 - best) / n) * n
    candidates = np.flatnonzero(correct >= correct.max() - tolerance)
    rates = (n - candidates) / n
    distance = np.abs(rates - np.mean(labels == 1))
    closest = candidates[distance == distance.min()]
    return float(-cuts[closest[np.argmin(np.abs(cuts[closest]))]])


def ranking_auc(scores: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC of ``scores`` against the 0/1 labels ``y`` (both classes present).

    The Mann–Whitney statistic with average ranks for tied scores, which is
    the value of :func:`sklearn.metrics.roc_auc_score` (to rounding) at a
    fraction of its cost: one sort and no input validation. The decision
    rule records it every epoch, where ``roc_auc_score`` cost as much as a
    GPU epoch's batches of a small model.
    """
    return _ranking_auc_sorted(*_sorted(scores, y))


def _ranking_auc_sorted(sorted_scores: np.ndarray, labels: np.ndarray) -> float:
    """:func:`ranking_auc` of scores sorted ascending and their labels."""
    positive = labels == 1
    first = np.concatenate([[True], sorted_scores[1:] != sorted_scores[:-1]])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(sorted_scores)))
    average_rank = starts + (counts + 1) / 2  # 1-based rank shared by each run of ties
    ranks = average_rank[np.cumsum(first) - 1]
    n_pos = int(positive.sum())
    n_neg = len(sorted_scores) - n_pos
    rank_sum = ranks[positive].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def is_collapsed(auc: float, predicted_rate: float) -> bool:
    """Whether a fit has lost its ranking or predicts a single class."""
    return not auc > COLLAPSE_AUC or predicted_rate <= 0.0 or predicted_rate >= 1.0


def _stride_rows(n: int) -> np.ndarray:
    """An even, deterministic subsample of at most :data:`MAX_ROWS` row indices."""
    return np.arange(0, n, max(1, -(-n // MAX_ROWS)))


def _sorted_logits(net, X: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The module's logits of ``X`` (no offset) sorted ascending, and ``y`` in that order.

    Forwarded in chunks with gradients off and sorted (stably) where the
    module runs, so one sort serves the offset and the AUC and only the
    sorted values come to the host.
    """
    outputs = []
    with torch.no_grad(), eval_mode(net.module_):
        for start in range(0, len(X), _CHUNK):
            # a copy: a module compiled with CUDA graphs overwrites its output at the next call
            outputs.append(net.network_logits(X[start : start + _CHUNK]).detach().clone())
    logits = torch.cat(outputs)
    scores, order = torch.sort(logits, stable=True)
    labels = y.to(order.device)[order]
    return scores.to("cpu", torch.float64).numpy(), labels.cpu().numpy()


_MSG_COLLAPSE = (
    "{name} collapsed: on the training rows its scores have AUC {auc:.3f} and it predicts "
    "the positive class for {rate:.1%} of them (base rate {base:.1%}), so predict() is close "
    "to a constant classifier. {advice}"
)


def _advice(net) -> str:
    tips = []
    weight = getattr(net, "fairness_weight", None)
    if weight:
        tips.append(f"lower fairness_weight (now {weight})")
    sampling = net._sampler_name()
    if sampling in ("random", "group_balanced") and getattr(net, "constraint", None):
        tips.append(
            f'use sampling="cell_balanced" (now {sampling!r}), which keeps the rare label '
            "present in every batch"
        )
    if getattr(net, "prior_correction", None) is None:
        tips.append('set prior_correction="max_accuracy"')
    tips.append(f"check lr (now {net.lr}) and max_epochs (now {net.max_epochs})")
    return "Try: " + "; ".join(tips) + "."


class DecisionRule(Callback):
    """Refit the prior-correcting offset each epoch; warn on a collapsed fit.

    A default callback of :class:`~skfairnn.FairNetClassifier` (name
    ``"decision_rule"``). After each epoch it forwards an even subsample of
    the training rows passed to ``fit`` (at most :data:`MAX_ROWS`; rows a
    method synthesised are left out), sets the fitted
    ``decision_offset_`` from ``net.prior_correction`` and records
    ``train_auc`` and ``train_positive_rate`` (after the offset) in
    ``net.history``. At the end of training it emits a
    :class:`~skfairnn.exceptions.CollapseWarning` when the AUC is at most
    :data:`COLLAPSE_AUC` or every training row gets the same class.
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if not hasattr(net, "decision_offset_"):
            net.decision_offset_ = 0.0

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        # the training tensors the batches are cut from (already on the device), without
        # the rows a method added (Fair-SMOTE's synthetic rows): decided for the data passed
        tensors, y, _ = training_tensors(observed_rows(dataset_train))
        X = tensors["X"]
        rows = torch.as_tensor(_stride_rows(len(y)), device=X.device)
        scores, labels = _sorted_logits(net, X[rows], y[rows.to(y.device)])
        data_prior = float(y.double().mean())
        if net.prior_correction == "prior_shift":
            offset = prior_shift_offset(data_prior, net.training_label_prior_)
        elif net.prior_correction == "match_rate":
            offset = _match_rate_offset_sorted(scores, data_prior)
        elif net.prior_correction == "max_accuracy":
            offset = _max_accuracy_offset_sorted(scores, labels)
        else:
            offset = 0.0
        net.decision_offset_ = offset
        both_classes = 0 < labels.sum() < len(labels)
        auc = _ranking_auc_sorted(scores, labels) if both_classes else float("nan")
        net.history.record("train_auc", float(auc))
        net.history.record("train_positive_rate", float(np.mean(scores + offset >= 0)))
        net.history.record("decision_offset", offset)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        if not len(net.history) or "train_auc" not in net.history[-1]:
            return
        auc, rate = net.history[-1, "train_auc"], net.history[-1, "train_positive_rate"]
        if np.isnan(auc) or not is_collapsed(auc, rate):
            return
        if y is not None and isinstance(X, FairDataset):  # the rows passed to fit
            y = np.asarray(y)[: X.n_observed]
        base = float(np.mean(np.asarray(y))) if y is not None else float("nan")
        message = _MSG_COLLAPSE.format(
            name=type(net).__name__, auc=auc, rate=rate, base=base, advice=_advice(net)
        )
        warnings.warn(message, CollapseWarning, stacklevel=2)
