# SPDX-License-Identifier: BSD-3-Clause
"""The papers' evaluation protocol: per-epoch validation and epoch selection.

Fair Mixup, GCM, FAIRER and RUNNER all evaluate the network on the validation
and test splits after every epoch, pick the epoch whose *validation* fairness
gap is smallest (skipping the first epoch), and report that epoch's *test*
metrics. FairIF instead reports "the results of the epochs with the best task
accuracy performance" (Sec. 6.1); ``selection="accuracy"`` picks the epoch of
best *validation* accuracy. :class:`EpochEvaluator` records the numbers in
``net.history``; :func:`evaluate` fits an estimator with it and applies the
selection rule.

A post-processor (fairlearn's ``ThresholdOptimizer`` on the Vanilla network,
the ``"postprocess"`` entry of :data:`~skfairnn.benchmarks.METHODS`) decides
from the groups at predict time and after training, so it has no epochs to
select: it is judged once, on its randomized decisions
(:func:`predicts_with_groups`, :func:`decisions`).
"""

from __future__ import annotations

import inspect
import time
from typing import Literal

import numpy as np
from sklearn.base import clone
from sklearn.metrics import accuracy_score, average_precision_score, recall_score, roc_auc_score
from sklearn.utils.validation import has_fit_parameter
from skorch.callbacks import Callback

from .._base import FairNetClassifier
from .._decision import is_collapsed
from .._disaggregation import average_odds, differences, equalized_odds, group_rates_of

__all__ = [
    "EpochEvaluator",
    "GAP_COLUMNS",
    "decision_metrics",
    "decisions",
    "evaluate",
    "fitted_network",
    "predicts_with_groups",
    "score_metrics",
    "SELECTIONS",
    "select_epoch",
    "split_metrics",
]

#: epoch-selection rules of :func:`evaluate`
SELECTIONS = ("hard", "prob", "accuracy", "last")

#: constraint -> (hard-label gap column, probability gap column)
GAP_COLUMNS = {
    "demographic_parity": ("dp", "dp_prob"),
    "equalized_odds": ("eo", "eo_prob"),
    "equal_opportunity": ("eop", "eop_prob"),
}


def _gaps(gaps: dict, suffix: str = "") -> dict:
    """ΔDP, ΔEO (sum and max) and ΔEOp from the group differences of one prediction."""
    return {
        "dp" + suffix: gaps["selection_rate"],
        "eo" + suffix: equalized_odds(gaps),
        "eo_max" + suffix: equalized_odds(gaps, agg="max"),
        "eop" + suffix: gaps["tpr"],
    }


def score_metrics(y, scores) -> dict:
    """AP and AUC of the positive-class scores (AUC is NaN with one class)."""
    auc = roc_auc_score(y, scores) if len(np.unique(y)) == 2 else float("nan")
    return {"ap": average_precision_score(y, scores), "auc": auc}


def _decision_metrics(y, hard, gaps: dict) -> dict:
    return {
        "acc": accuracy_score(y, hard),
        "recall": recall_score(y, hard, zero_division=0.0),
        "positive_rate": float(hard.mean()),
        **_gaps(gaps),
    }


def decision_metrics(y, hard, groups) -> dict:
    """Accuracy, recall, predicted positive rate and the gaps of hard 0/1 decisions."""
    hard = np.asarray(hard, int)
    rates = group_rates_of(y, {"hard": hard}, sensitive_features=groups)["hard"]
    return _decision_metrics(y, hard, differences(rates))


def split_metrics(y, proba, groups, hard=None) -> dict:
    """AP, AUC, accuracy, recall and every gap (hard and on probabilities) for one split.

    The gaps of the hard decisions and of the probabilities come from one
    :class:`fairlearn.metrics.MetricFrame`; they equal the metrics of
    :mod:`skfairnn.metrics` called one by one.

    Parameters
    ----------
    y : array-like of shape (n,)
        Labels, 0/1.
    proba : array-like of shape (n,)
        Scores of the positive class.
    groups : array-like of shape (n,)
        Sensitive groups.
    hard : array-like of shape (n,), default=None
        The hard decisions to judge, 0/1: what the estimator's ``predict``
        returned. ``None`` thresholds ``proba`` at 0.5.
    """
    hard = (np.asarray(proba) >= 0.5).astype(int) if hard is None else np.asarray(hard, int)
    rates = group_rates_of(y, {"hard": hard, "proba": proba}, sensitive_features=groups)
    gaps = differences(rates["hard"])
    decided = _decision_metrics(y, hard, gaps)
    out = {**score_metrics(y, proba)}
    out |= {key: decided.pop(key) for key in ("acc", "recall", "positive_rate")}
    out["base_rate"] = float(np.mean(y))
    out |= decided
    out |= _gaps(differences(rates["proba"]), "_prob")
    out["aod"] = average_odds(gaps)
    out["ad"] = gaps["accuracy"]
    return out


class EpochEvaluator(Callback):
    """Record validation and test metrics in ``net.history`` after every epoch.

    Columns written: ``protocol_val`` and ``protocol_test``, each a dict of
    :func:`split_metrics`.

    Parameters
    ----------
    data : Bunch
        With ``X_val, y_val, a_val, X_test, y_test, a_test``.
    """

    def __init__(self, data):
        self.data = data

    def on_epoch_end(self, net, **kwargs):
        for split in ("val", "test"):
            X, y, a = (self.data[f"{key}_{split}"] for key in ("X", "y", "a"))
            proba = net.predict_proba(X)[:, 1]
            hard = net.predict(X) == net.classes_[1]
            net.history.record(f"protocol_{split}", split_metrics(y, proba, a, hard))


def select_epoch(
    val_records: list[dict],
    column: str,
    skip_epochs: int = 1,
    *,
    best: Literal["min", "max"] = "min",
) -> int:
    """Index of the epoch with the smallest (or largest) validation ``column``.

    ``best="min"`` on a gap column is the min-gap rule of Fair Mixup, GCM,
    FAIRER and RUNNER; ``best="max"`` on ``"acc"`` is FairIF's best-accuracy
    rule (Sec. 6.1). Ties go to the earliest epoch. The first
    ``skip_epochs`` epochs are left out, and so are collapsed epochs —
    validation predictions all one class (their gap is trivially zero, their
    accuracy the base rate's) or validation AUC at most
    :data:`skfairnn._decision.COLLAPSE_AUC` — unless no other epoch is left.

    Raises
    ------
    ValueError
        If ``best`` is neither ``"min"`` nor ``"max"``.
    """
    if best not in ("min", "max"):
        raise ValueError(f"best must be 'min' or 'max'; got {best!r}.")
    gaps = np.array([record[column] for record in val_records], dtype=float)
    if best == "max":
        gaps = -gaps
    candidates = np.arange(len(gaps)) >= min(skip_epochs, len(gaps) - 1)
    collapsed = np.array(
        [is_collapsed(record.get("auc", 1.0), record["positive_rate"]) for record in val_records]
    )
    informative = candidates & ~collapsed
    if informative.any():
        candidates = informative
    return int(np.argmin(np.where(candidates, gaps, np.inf)))


def predicts_with_groups(estimator) -> bool:
    """Whether ``estimator.predict`` takes ``sensitive_features`` (a post-processor).

    fairlearn's ``ThresholdOptimizer`` is one: its decision depends on each
    row's group, and it wraps a network whose own predictions are not what
    is judged.
    """
    predict = getattr(estimator, "predict", None)
    return predict is not None and "sensitive_features" in inspect.signature(predict).parameters


def decisions(estimator, X, groups, *, random_state=0) -> tuple[np.ndarray, np.ndarray]:
    """Positive-class scores and hard 0/1 decisions of a fitted estimator on ``X``.

    A post-processor (:func:`predicts_with_groups`) gets ``groups`` at
    predict time. fairlearn's ``ThresholdOptimizer`` decides at random
    between two thresholds per group: its hard decisions are drawn with
    ``random_state``, and its scores are the probability of deciding
    positive (its ``_pmf_predict``), so the AP judges the post-processed
    decision rule, not the network underneath it (whose AP is ERM's; RUNNER's
    ROC row likewise reports an AP well below Vanilla's). Any other
    estimator: ``predict_proba(X)[:, 1]`` and ``predict(X) == classes_[1]``.
    """
    if not predicts_with_groups(estimator):
        scores = estimator.predict_proba(X)[:, 1]
        return scores, (estimator.predict(X) == estimator.classes_[1]).astype(int)
    if hasattr(estimator, "_pmf_predict"):
        scores = estimator._pmf_predict(X, sensitive_features=groups)[:, 1]
    else:
        scores = estimator.predict_proba(X, sensitive_features=groups)[:, 1]
    kwargs = {"sensitive_features": groups}
    if "random_state" in inspect.signature(estimator.predict).parameters:
        kwargs["random_state"] = random_state
    return scores, np.asarray(estimator.predict(X, **kwargs)).astype(int)


def _final_network(estimator):
    """The skorch network inside ``estimator`` (itself, or a meta-estimator's child).

    ``None`` for a post-processor (:func:`predicts_with_groups`): the network
    it wraps is not what predicts.
    """
    if predicts_with_groups(estimator):
        return None, None
    if isinstance(estimator, FairNetClassifier):
        return estimator, ""
    inner = getattr(estimator, "estimator", None)
    if isinstance(inner, FairNetClassifier):
        return inner, "estimator__"
    return None, None


def fitted_network(estimator):
    """The fitted skfairnn network in ``estimator`` (itself or a meta-estimator's
    ``estimator_``), or ``None`` (e.g. fairlearn's references, and a post-processor
    such as ``ThresholdOptimizer`` on a network: its decisions are not the network's)."""
    if predicts_with_groups(estimator):
        return None
    if isinstance(estimator, FairNetClassifier):
        return estimator
    inner = getattr(estimator, "estimator_", None)
    return inner if isinstance(inner, FairNetClassifier) else None


def evaluate(
    estimator,
    data,
    *,
    constraint: str = "equalized_odds",
    selection: Literal["hard", "prob", "accuracy", "last"] = "hard",
    skip_epochs: int = 1,
    train_groups=None,
    random_state=0,
) -> dict:
    """Fit ``estimator`` on the training split and report the selected epoch's test metrics.

    Parameters
    ----------
    estimator : estimator
        A skfairnn network or a meta-estimator wrapping one (``estimator``
        parameter); other estimators are evaluated after their final epoch.
    data : Bunch
        ``X_/y_/a_`` + ``train``, ``val``, ``test``.
    constraint : str, default="equalized_odds"
        Which gap drives the selection.
    selection : {"hard", "prob", "accuracy", "last"}, default="hard"
        Select the epoch with the minimum validation gap on hard predictions
        (GCM, RUNNER), on probabilities (Fair Mixup, FAIRER), the epoch with
        the best validation accuracy (FairIF, Sec. 6.1: "the epochs with the
        best task accuracy"), or the last epoch. Epochs whose validation
        predictions are all one class are skipped (their gap is trivially
        zero) unless no other epoch is left.
    skip_epochs : int, default=1
        Epochs excluded from selection at the start (the papers skip epoch 0).
    train_groups : array-like, default=None
        Sensitive features given to ``fit`` (default ``data.a_train``; FairIF
        passes a partly missing copy).
    random_state : int, default=0
        Draws the randomized test decisions of a post-processor
        (:func:`decisions`); ``compare`` passes the run's seed.

    Returns
    -------
    dict
        Test metrics of the selected epoch plus ``epoch`` and ``fit_time``.

    Raises
    ------
    ValueError
        For a ``selection`` not in :data:`SELECTIONS`.
    """
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {list(SELECTIONS)}; got {selection!r}.")
    estimator = clone(estimator)
    network, prefix = _final_network(estimator)
    if network is not None and selection != "last":
        callbacks = list(network.callbacks or []) + [("protocol", EpochEvaluator(data))]
        estimator.set_params(**{prefix + "callbacks": callbacks})
    groups = data.a_train if train_groups is None else train_groups
    start = time.perf_counter()
    fit_params = {"sensitive_features": groups}
    if not has_fit_parameter(estimator, "sensitive_features"):
        fit_params = {}  # e.g. a plain scikit-learn baseline
    estimator.fit(data.X_train, data.y_train, **fit_params)
    fit_time = time.perf_counter() - start
    fitted = fitted_network(estimator)
    history = getattr(fitted, "history", None)
    if network is None or selection == "last" or history is None:
        proba, hard = decisions(estimator, data.X_test, data.a_test, random_state=random_state)
        metrics_test = split_metrics(data.y_test, proba, data.a_test, hard)
        return {**metrics_test, "epoch": -1, "fit_time": fit_time}
    records = [epoch["protocol_val"] for epoch in history]
    if selection == "accuracy":
        best = select_epoch(records, "acc", skip_epochs, best="max")
    else:
        hard_column, prob_column = GAP_COLUMNS[constraint]
        column = hard_column if selection == "hard" else prob_column
        best = select_epoch(records, column, skip_epochs)
    return {**history[best]["protocol_test"], "epoch": best, "fit_time": fit_time}
