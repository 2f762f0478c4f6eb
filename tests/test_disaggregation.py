# SPDX-License-Identifier: BSD-3-Clause
"""Tests for skfairnn._disaggregation: one MetricFrame over cells, the same rates as the rows."""

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score

from skfairnn import _disaggregation
from skfairnn._disaggregation import RATE_COLUMNS, differences, group_rates_of


def _case(seed, n=500, n_groups=3, weights=None, scores=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    groups = rng.choice(np.array(["a", "b", "c"])[:n_groups], n)
    y[groups == "a"] = 1  # group "a" has no negatives: its FPR and TNR are undefined
    pred = rng.random(n) if scores else rng.integers(0, 2, n)
    weight = {None: None, "int": rng.integers(0, 4, n), "frac": rng.random(n)}[weights]
    return y, pred, groups, weight


def _sample_sums(y, pred, groups, weight):
    """The rates as sums over the samples in their order (the hand-written table before
    MetricFrame): the oracle for bit-for-bit equality."""
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, float)
    codes = np.unique(groups, return_inverse=True)[1]
    positive, score = (y == 1).astype(float), np.asarray(pred, float)

    def total(values):
        return np.bincount(codes, weights=values)

    with np.errstate(invalid="ignore", divide="ignore"):
        n_pos, n_neg = total(weight * positive), total(weight * (1 - positive))
        tp, fp, n = (
            total(weight * score * positive),
            total(weight * score * (1 - positive)),
            total(weight),
        )
        fpr = np.where(n_neg > 0, fp / n_neg, np.nan)
        return {
            "selection_rate": (tp + fp) / n,
            "tpr": np.where(n_pos > 0, tp / n_pos, np.nan),
            "fpr": fpr,
            "tnr": 1.0 - fpr,
            "accuracy": (tp + n_neg - fp) / n,
            "count": np.bincount(codes),
        }


@pytest.mark.parametrize("scores", [False, True])
@pytest.mark.parametrize("weights", [None, "int"])
def test_cells_give_the_sample_sums_bit_for_bit(scores, weights):
    y, pred, groups, weight = _case(0, weights=weights, scores=scores)
    (rates,) = group_rates_of(
        y, {"y_pred": pred}, sensitive_features=groups, sample_weight=weight
    ).values()
    expected = _sample_sums(y, pred, groups, weight)
    assert list(rates.columns) == list(RATE_COLUMNS)
    assert np.isnan(rates.loc["a", "fpr"]) and not np.isnan(rates.loc["b", "fpr"])
    for column in RATE_COLUMNS:
        np.testing.assert_array_equal(rates[column].to_numpy(), expected[column], err_msg=column)


@pytest.mark.parametrize("scores", [False, True])
def test_fractional_weights_agree_to_rounding(scores):
    y, pred, groups, weight = _case(1, weights="frac", scores=scores)
    (rates,) = group_rates_of(
        y, {"y_pred": pred}, sensitive_features=groups, sample_weight=weight
    ).values()
    expected = _sample_sums(y, pred, groups, weight)
    for column in RATE_COLUMNS:
        np.testing.assert_allclose(rates[column].to_numpy(), expected[column], rtol=1e-13)


def test_one_frame_for_several_predictions_equals_one_frame_each(monkeypatch):
    y, proba, groups, weight = _case(2, scores=True, weights="int")
    hard = (proba > 0.3).astype(int)
    frames = []
    real = _disaggregation.flm.MetricFrame
    monkeypatch.setattr(
        _disaggregation.flm, "MetricFrame", lambda **kw: frames.append(kw) or real(**kw)
    )
    kw = {"sensitive_features": groups, "sample_weight": weight}
    both = group_rates_of(y, {"hard": hard, "proba": proba}, **kw)
    assert len(frames) == 1
    assert set(frames[0]["metrics"]) == {
        f"{name}:{rate}" for name in both for rate in RATE_COLUMNS[:5] if rate != "tnr"
    }
    for name, pred in {"hard": hard, "proba": proba}.items():
        (alone,) = group_rates_of(y, {name: pred}, **kw).values()
        pd.testing.assert_frame_equal(both[name], alone, check_exact=True)


def test_label_rates_are_fairlearns_on_the_rows():
    # every group has positives and negatives, so fairlearn's 0 for undefined never enters
    y, pred, groups, _ = _case(3)
    y[:4], groups[:4] = [0, 0, 1, 1], "a"
    (rates,) = group_rates_of(y, {"y_pred": pred}, sensitive_features=groups).values()
    frame = flm.MetricFrame(
        metrics={
            "selection_rate": flm.selection_rate,
            "tpr": flm.true_positive_rate,
            "fpr": flm.false_positive_rate,
            "accuracy": accuracy_score,
        },
        y_true=y,
        y_pred=pred,
        sensitive_features=groups,
    )
    for column in frame.by_group.columns:
        np.testing.assert_array_equal(rates[column].to_numpy(), frame.by_group[column].to_numpy())
    gaps = differences(rates)
    for column, value in frame.difference(method="between_groups").items():
        assert gaps[column] == value


def test_differences_skip_undefined_groups_and_default_to_zero():
    rates = pd.DataFrame(
        {"tpr": [0.2, np.nan, 0.7], "fpr": [np.nan, 0.4, np.nan], "tnr": [np.nan] * 3},
        index=["a", "b", "c"],
    )
    assert differences(rates) == {"tpr": pytest.approx(0.5), "fpr": 0.0, "tnr": 0.0}


def test_zero_weight_group_has_no_rates_but_a_count():
    y = np.array([1, 0, 1, 0, 1, 0])
    groups = np.array(["a", "a", "b", "b", "c", "c"])
    weight = np.array([1.0, 2.0, 0.0, 0.0, 1.0, 1.0])
    (rates,) = group_rates_of(
        y, {"y_pred": [1, 1, 0, 1, 0, 0]}, sensitive_features=groups, sample_weight=weight
    ).values()
    assert rates.loc["b", RATE_COLUMNS[:5]].isna().all() and rates.loc["b", "count"] == 2
    assert rates.loc["a", "selection_rate"] == 1.0 and rates.loc["c", "accuracy"] == 0.5


def test_a_single_cell_works():
    (rates,) = group_rates_of([1, 1], {"y_pred": [1, 1]}, sensitive_features=[0, 0]).values()
    assert rates.loc[0, "tpr"] == 1.0 and np.isnan(rates.loc[0, "fpr"])


def test_errors_name_the_prediction():
    with pytest.raises(ValueError, match="proba must hold labels of y_true"):
        group_rates_of([0, 1], {"proba": [0.5, 1.5]}, sensitive_features=[0, 1])
    with pytest.raises(ValueError, match="'hard': 3"):
        group_rates_of([0, 1], {"hard": [0, 1, 1]}, sensitive_features=[0, 1])
