# SPDX-License-Identifier: BSD-3-Clause
"""Tests for skfairnn.metrics: fairlearn agreement, hand computations, scorers, refit rule."""

import pickle

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate

from skfairnn.metrics import (
    accuracy_difference,
    average_odds_difference,
    best_accuracy_within,
    demographic_parity_difference,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    group_rates,
    make_fairness_scorer,
)

ALL_METRICS = [
    demographic_parity_difference,
    equalized_odds_difference,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    accuracy_difference,
    average_odds_difference,
]


def _random_case(seed, n_groups, n_samples=300):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, n_samples)
    y_pred = rng.integers(0, 2, n_samples)
    groups = np.array(["g0", "g1", "g2"])[rng.integers(0, n_groups, n_samples)]
    return y_true, y_pred, groups


def _hand_rate(values, mask):
    return values[mask].mean()


def _hand_gap(values, condition, groups):
    """Worst-pair gap of the mean of ``values`` over ``condition`` within each group."""
    rates = [_hand_rate(values, condition & (groups == g)) for g in np.unique(groups)]
    return max(rates) - min(rates)


# ----------------------------------------------------------------------------------------------
# Agreement with fairlearn and with hand computations on random hard predictions


@pytest.mark.parametrize("n_groups", [2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_fairlearn(seed, n_groups):
    y_true, y_pred, groups = _random_case(seed, n_groups)
    kw = {"sensitive_features": groups}
    assert demographic_parity_difference(y_true, y_pred, **kw) == pytest.approx(
        flm.demographic_parity_difference(y_true, y_pred, **kw)
    )
    assert equalized_odds_difference(y_true, y_pred, agg="max", **kw) == pytest.approx(
        flm.equalized_odds_difference(y_true, y_pred, agg="worst_case", **kw)
    )
    assert equal_opportunity_difference(y_true, y_pred, **kw) == pytest.approx(
        flm.equal_opportunity_difference(y_true, y_pred, **kw)
    )
    assert equal_opportunity_ratio(y_true, y_pred, **kw) == pytest.approx(
        flm.equal_opportunity_ratio(y_true, y_pred, **kw)
    )


@pytest.mark.parametrize("n_groups", [2, 3])
@pytest.mark.parametrize("seed", [3, 4])
def test_sum_variants_match_hand_computation(seed, n_groups):
    y_true, y_pred, groups = _random_case(seed, n_groups)
    kw = {"sensitive_features": groups}
    tpr_gap = _hand_gap(y_pred, y_true == 1, groups)
    fpr_gap = _hand_gap(y_pred, y_true == 0, groups)
    tnr_gap = _hand_gap(1 - y_pred, y_true == 0, groups)
    acc_gap = _hand_gap((y_pred == y_true).astype(float), np.ones_like(y_true, bool), groups)
    assert tpr_gap > 0 and fpr_gap > 0  # the random case is not degenerate
    assert equalized_odds_difference(y_true, y_pred, **kw) == pytest.approx(tpr_gap + fpr_gap)
    assert average_odds_difference(y_true, y_pred, **kw) == pytest.approx(0.5 * (tpr_gap + tnr_gap))
    assert accuracy_difference(y_true, y_pred, **kw) == pytest.approx(acc_gap)


def test_group_rates_agrees_with_metricframe():
    y_true, y_pred, groups = _random_case(5, 3)
    frame = flm.MetricFrame(
        metrics={
            "selection_rate": flm.selection_rate,
            "tpr": flm.true_positive_rate,
            "fpr": flm.false_positive_rate,
            "tnr": flm.true_negative_rate,
            "count": flm.count,
        },
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=groups,
    ).by_group
    rates = group_rates(y_true, y_pred, sensitive_features=groups)
    assert list(rates.columns) == ["selection_rate", "tpr", "fpr", "tnr", "accuracy", "count"]
    assert rates.index.tolist() == ["g0", "g1", "g2"]
    for column in ["selection_rate", "tpr", "fpr", "tnr", "count"]:
        np.testing.assert_allclose(rates[column].to_numpy(float), frame[column].to_numpy(float))


@pytest.mark.parametrize("n_groups", [2, 3])
def test_agrees_with_fairlearn_weighted_and_derived(n_groups):
    # Every group has positives and negatives, so fairlearn's 0 for an undefined rate and
    # skfairnn's "left out" agree.
    y_true, y_pred, groups = _random_case(12, n_groups)
    weight = np.random.default_rng(12).random(len(y_true))
    kw = {"sensitive_features": groups, "sample_weight": weight}
    assert accuracy_difference(y_true, y_pred, **kw) == pytest.approx(
        flm.accuracy_score_difference(y_true, y_pred, **kw)
    )
    assert equal_opportunity_difference(y_true, y_pred, **kw) == pytest.approx(
        flm.equal_opportunity_difference(y_true, y_pred, **kw)
    )
    assert equal_opportunity_ratio(y_true, y_pred, **kw) == pytest.approx(
        flm.equal_opportunity_ratio(y_true, y_pred, **kw)
    )
    # TNR = 1 - FPR, so AOD is fairlearn's mean form and the sum form twice it.
    mean_form = flm.equalized_odds_difference(y_true, y_pred, agg="mean", **kw)
    assert average_odds_difference(y_true, y_pred, **kw) == pytest.approx(mean_form)
    assert equalized_odds_difference(y_true, y_pred, **kw) == pytest.approx(2 * mean_form)


def _score_mean(rows):
    """MetricFrame metric: weighted mean score over ``rows(y_true)``, NaN with no weight."""

    def metric(y_true, y_pred, sample_weight):
        keep = rows(y_true)
        total = sample_weight[keep].sum()
        return np.dot(y_pred[keep], sample_weight[keep]) / total if total > 0 else np.nan

    return metric


@pytest.mark.parametrize("labels", [False, True])
def test_group_rates_agrees_with_metricframe_on_scores_and_weights(labels):
    rng = np.random.default_rng(13)
    n = 200
    y_true = rng.integers(0, 2, n)
    y_pred = rng.random(n)
    if labels:
        y_pred = (y_pred > 0.5).astype(float)
    groups = rng.choice(["a", "b", "c"], n)
    y_true[groups == "c"] = 1  # group "c" has no negatives: FPR and TNR undefined
    weight = rng.random(n)
    correct = y_pred * y_true + (1 - y_pred) * (1 - y_true)  # expected accuracy
    everywhere = lambda y: np.ones(len(y), dtype=bool)  # noqa: E731
    columns = {
        "selection_rate": (y_pred, _score_mean(everywhere)),
        "tpr": (y_pred, _score_mean(lambda y: y == 1)),
        "fpr": (y_pred, _score_mean(lambda y: y == 0)),
        "tnr": (1 - y_pred, _score_mean(lambda y: y == 0)),
        "accuracy": (correct, _score_mean(everywhere)),
    }
    rates = group_rates(y_true, y_pred, sensitive_features=groups, sample_weight=weight)
    assert np.isnan(rates.loc["c", "fpr"]) and np.isnan(rates.loc["c", "tnr"])
    for column, (values, metric) in columns.items():
        frame = flm.MetricFrame(
            metrics=metric,
            y_true=y_true,
            y_pred=values,
            sensitive_features=groups,
            sample_params={"sample_weight": weight},
        )
        np.testing.assert_allclose(rates[column].to_numpy(float), frame.by_group.to_numpy(float))
        expected_gap = frame.difference(method="between_groups")
        assert (rates[column].max() - rates[column].min()) == pytest.approx(expected_gap)


# ----------------------------------------------------------------------------------------------
# Tiny hand-computed examples, labels and probabilities


def test_tiny_hard_example():
    y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    y_pred = [1, 0, 1, 0, 1, 1, 0, 0]
    a = [0, 0, 0, 0, 1, 1, 1, 1]
    rates = group_rates(y_true, y_pred, sensitive_features=a)
    # group 0: TPR 1/2, FPR 1/2, acc 2/4, sel 2/4; group 1: TPR 1, FPR 0, acc 1, sel 2/4
    np.testing.assert_allclose(rates["tpr"], [0.5, 1.0])
    np.testing.assert_allclose(rates["fpr"], [0.5, 0.0])
    np.testing.assert_allclose(rates["tnr"], [0.5, 1.0])
    np.testing.assert_allclose(rates["accuracy"], [0.5, 1.0])
    np.testing.assert_array_equal(rates["count"], [4, 4])
    kw = {"sensitive_features": a}
    assert demographic_parity_difference(y_true, y_pred, **kw) == 0.0
    assert equalized_odds_difference(y_true, y_pred, **kw) == pytest.approx(1.0)
    assert equalized_odds_difference(y_true, y_pred, agg="max", **kw) == pytest.approx(0.5)
    assert equal_opportunity_difference(y_true, y_pred, **kw) == pytest.approx(0.5)
    assert equal_opportunity_ratio(y_true, y_pred, **kw) == pytest.approx(0.5)
    assert accuracy_difference(y_true, y_pred, **kw) == pytest.approx(0.5)
    assert average_odds_difference(y_true, y_pred, **kw) == pytest.approx(0.5)


def test_probability_inputs_give_fair_mixup_gaps():
    y_true = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    proba = np.array([0.9, 0.7, 0.4, 0.2, 0.6, 0.5, 0.3, 0.1])
    a = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    kw = {"sensitive_features": a}
    # Fair Mixup: |E[p|A=0] - E[p|A=1]| and sum_y |E[p|A=0,Y=y] - E[p|A=1,Y=y]|
    dp = abs(proba[a == 0].mean() - proba[a == 1].mean())
    eo_terms = [
        abs(proba[(a == 0) & (y_true == y)].mean() - proba[(a == 1) & (y_true == y)].mean())
        for y in (0, 1)
    ]
    assert demographic_parity_difference(y_true, proba, **kw) == pytest.approx(dp)
    assert dp == pytest.approx(0.175)
    assert equalized_odds_difference(y_true, proba, **kw) == pytest.approx(sum(eo_terms))
    assert sum(eo_terms) == pytest.approx(0.25 + 0.1)
    assert equal_opportunity_difference(y_true, proba, **kw) == pytest.approx(0.25)
    assert equal_opportunity_ratio(y_true, proba, **kw) == pytest.approx(0.55 / 0.8)
    # expected accuracy: group 0 (0.9+0.7+0.6+0.8)/4 = 0.75, group 1 (0.6+0.5+0.7+0.9)/4
    assert accuracy_difference(y_true, proba, **kw) == pytest.approx(0.75 - 0.675)
    rates = group_rates(y_true, proba, **kw)
    np.testing.assert_allclose(rates["selection_rate"], [0.55, 0.375])


def test_labels_and_their_scores_agree():
    y_true, y_pred, groups = _random_case(6, 3)
    for metric in ALL_METRICS:
        as_labels = metric(y_true, y_pred, sensitive_features=groups)
        as_floats = metric(y_true, y_pred.astype(float), sensitive_features=groups)
        as_bools = metric(y_true, y_pred.astype(bool), sensitive_features=groups)
        assert as_labels == pytest.approx(as_floats) == pytest.approx(as_bools)


# ----------------------------------------------------------------------------------------------
# Group and label types, weights, undefined rates


def test_intersectional_two_columns_equal_joined_labels():
    rng = np.random.default_rng(7)
    y_true, y_pred = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    sex = rng.choice(["F", "M"], 200)
    race = rng.choice(["black", "white"], 200)
    frame = pd.DataFrame({"sex": sex, "race": race})
    joined = np.char.add(np.char.add(sex, ","), race)
    rates = group_rates(y_true, y_pred, sensitive_features=frame)
    assert rates.index.tolist() == ["F,black", "F,white", "M,black", "M,white"]
    for metric in ALL_METRICS:
        assert metric(y_true, y_pred, sensitive_features=frame) == pytest.approx(
            metric(y_true, y_pred, sensitive_features=joined)
        )
    assert demographic_parity_difference(y_true, y_pred, sensitive_features=frame) == pytest.approx(
        flm.demographic_parity_difference(y_true, y_pred, sensitive_features=frame)
    )
    # A 2-D array works like the DataFrame.
    assert equalized_odds_difference(
        y_true, y_pred, sensitive_features=frame.to_numpy()
    ) == pytest.approx(equalized_odds_difference(y_true, y_pred, sensitive_features=frame))


def test_string_groups_and_string_labels():
    y_true = np.array(["yes", "yes", "no", "no", "yes", "no"])
    y_pred = np.array(["yes", "no", "no", "yes", "yes", "no"])
    groups = pd.Series(["Female", "Female", "Female", "Male", "Male", "Male"])
    y01, p01 = (y_true == "yes").astype(int), (y_pred == "yes").astype(int)
    for metric in ALL_METRICS:
        got = metric(y_true, y_pred, sensitive_features=groups, pos_label="yes")
        assert got == pytest.approx(metric(y01, p01, sensitive_features=groups.to_numpy()))
    rates = group_rates(y_true, y_pred, sensitive_features=groups, pos_label="yes")
    assert rates.index.tolist() == ["Female", "Male"]
    np.testing.assert_allclose(rates["tpr"], [0.5, 1.0])
    # pos_label="no" swaps the roles: TPR of "no" is the TNR of "yes".
    swapped = group_rates(y_true, y_pred, sensitive_features=groups, pos_label="no")
    np.testing.assert_allclose(swapped["tpr"], rates["tnr"])


def test_integer_labels_other_than_zero_one():
    y_true, y_pred, groups = _random_case(8, 2)
    shifted = equalized_odds_difference(
        y_true + 1, y_pred + 1, sensitive_features=groups, pos_label=2
    )
    assert shifted == pytest.approx(
        equalized_odds_difference(y_true, y_pred, sensitive_features=groups)
    )


def test_sample_weight_equals_row_repetition():
    rng = np.random.default_rng(9)
    y_true, proba = rng.integers(0, 2, 60), rng.random(60)
    groups = rng.choice(["a", "b", "c"], 60)
    weight = rng.integers(0, 4, 60)
    rows = np.repeat(np.arange(60), weight)
    for y_pred in (proba, (proba > 0.5).astype(int)):
        weighted = group_rates(y_true, y_pred, sensitive_features=groups, sample_weight=weight)
        repeated = group_rates(y_true[rows], y_pred[rows], sensitive_features=groups[rows])
        rate_cols = ["selection_rate", "tpr", "fpr", "tnr", "accuracy"]
        pd.testing.assert_frame_equal(weighted[rate_cols], repeated[rate_cols])
        for metric in ALL_METRICS:
            assert metric(
                y_true, y_pred, sensitive_features=groups, sample_weight=weight
            ) == pytest.approx(metric(y_true[rows], y_pred[rows], sensitive_features=groups[rows]))


def test_weighted_agrees_with_fairlearn():
    y_true, y_pred, groups = _random_case(10, 3)
    weight = np.random.default_rng(10).random(len(y_true))
    kw = {"sensitive_features": groups, "sample_weight": weight}
    assert demographic_parity_difference(y_true, y_pred, **kw) == pytest.approx(
        flm.demographic_parity_difference(y_true, y_pred, **kw)
    )
    assert equalized_odds_difference(y_true, y_pred, agg="max", **kw) == pytest.approx(
        flm.equalized_odds_difference(y_true, y_pred, agg="worst_case", **kw)
    )


def test_undefined_rates_are_skipped():
    # group "c" has no positives (TPR undefined), group "b" no negatives (FPR undefined)
    y_true = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    y_pred = np.array([1, 0, 1, 0, 1, 1, 1, 0])
    groups = np.array(["a", "a", "a", "a", "b", "b", "c", "c"])
    rates = group_rates(y_true, y_pred, sensitive_features=groups)
    assert np.isnan(rates.loc["c", "tpr"]) and np.isnan(rates.loc["b", "fpr"])
    assert np.isnan(rates.loc["b", "tnr"])
    kw = {"sensitive_features": groups}
    assert equal_opportunity_difference(y_true, y_pred, **kw) == pytest.approx(0.5)  # a vs b
    assert equalized_odds_difference(y_true, y_pred, **kw) == pytest.approx(0.5 + 0.0)
    assert equal_opportunity_ratio(y_true, y_pred, **kw) == pytest.approx(0.5)
    # Only one group has positives: no TPR gap is measurable.
    only_a = np.array(["a"] * 4 + ["b"] * 4)
    y_neg_b = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    assert equal_opportunity_difference(y_neg_b, y_pred, sensitive_features=only_a) == 0.0
    assert equal_opportunity_ratio(y_neg_b, y_pred, sensitive_features=only_a) == 1.0
    # ... but the FPR gap is: a 1/2 (rows 2-3), b 3/4 (rows 4-7).
    assert equalized_odds_difference(y_neg_b, y_pred, sensitive_features=only_a) == pytest.approx(
        0.25
    )


def test_single_group_and_single_label():
    y_pred = [1, 0, 1, 1]
    assert demographic_parity_difference([1, 0, 1, 0], y_pred, sensitive_features=[0] * 4) == 0.0
    # One label only in y_true is accepted (e.g. a small test fold).
    assert (
        equal_opportunity_difference([1, 1, 1, 1], y_pred, sensitive_features=[0, 0, 1, 1]) == 0.5
    )
    assert np.isnan(group_rates([0] * 4, y_pred, sensitive_features=[0, 0, 1, 1])["tpr"]).all()
    # No group has a defined TPR: the gap is 0.0 and the ratio 1.0, never NaN.
    assert equal_opportunity_difference([0] * 4, y_pred, sensitive_features=[0, 0, 1, 1]) == 0.0
    assert equal_opportunity_ratio([0] * 4, y_pred, sensitive_features=[0, 0, 1, 1]) == 1.0


def test_column_and_series_inputs():
    y_true, y_pred, groups = _random_case(11, 2, n_samples=50)
    expected = demographic_parity_difference(y_true, y_pred, sensitive_features=groups)
    index = np.arange(100, 150)[::-1]  # positions, not index labels, align the inputs
    got = demographic_parity_difference(
        pd.Series(y_true, index=index),
        y_pred[:, None],
        sensitive_features=pd.Series(groups, index=np.arange(50)),
    )
    assert got == pytest.approx(expected)


# ----------------------------------------------------------------------------------------------
# Bad inputs


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"y_pred": [1, 0, 1]}, "y_pred"),
        ({"sensitive_features": ["a", "b", "a"]}, "sensitive_features"),
        ({"sample_weight": [1.0, 1.0]}, "sample_weight"),
        ({"sensitive_features": ["a", np.nan, "b", "a"]}, "sensitive_features"),
        ({"sensitive_features": [0.0, None, 1.0, 1.0]}, "sensitive_features"),
        ({"y_true": [0, 1, 2, 1]}, "y_true"),
        ({"y_true": [0, 1, np.nan, 1]}, "y_true"),
        ({"pos_label": "yes"}, "pos_label"),
        ({"y_pred": [0.2, 1.5, 0.3, 0.1]}, "y_pred"),
        ({"y_pred": ["x", "y", "x", "y"]}, "y_pred"),
        ({"y_pred": [0.1, np.nan, 0.3, 0.4]}, "y_pred"),
        ({"y_pred": np.zeros((4, 2))}, "y_pred"),
        ({"sample_weight": [1.0, -1.0, 1.0, 1.0]}, "sample_weight"),
        ({"sample_weight": [1.0, np.inf, 1.0, 1.0]}, "sample_weight"),
    ],
)
@pytest.mark.parametrize("metric", [group_rates, *ALL_METRICS])
def test_bad_inputs_raise_naming_the_argument(metric, kwargs, argument):
    arguments = {
        "y_true": [0, 1, 0, 1],
        "y_pred": [0, 1, 1, 1],
        "sensitive_features": ["a", "a", "b", "b"],
        **kwargs,
    }
    y_true, y_pred = arguments.pop("y_true"), arguments.pop("y_pred")
    with pytest.raises(ValueError, match=argument):
        metric(y_true, y_pred, **arguments)


def test_bad_agg():
    with pytest.raises(ValueError, match="agg must be one of 'sum', 'max'; got 'worst_case'"):
        equalized_odds_difference([0, 1], [0, 1], sensitive_features=[0, 1], agg="worst_case")


# ----------------------------------------------------------------------------------------------
# Scorers and GridSearchCV


@pytest.fixture(scope="module")
def biased_data():
    rng = np.random.default_rng(0)
    n = 400
    group = rng.choice(["F", "M"], n)
    X = rng.normal(size=(n, 3))
    X[:, 0] += (group == "M") * 1.0
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=n) > 0.5).astype(int)
    return X, y, group


def test_make_fairness_scorer_names_and_errors():
    with pytest.raises(ValueError, match="'demographic_parity_difference'.*got 'fairness'"):
        make_fairness_scorer("fairness")
    with pytest.raises(ValueError, match="response_method"):
        make_fairness_scorer("demographic_parity_difference", response_method="decision_function")
    with pytest.raises(ValueError, match="sensitive_features"):
        make_fairness_scorer("demographic_parity_difference", sensitive_features=[0, 1])
    scorer = make_fairness_scorer("equalized_odds_difference", agg="max")
    assert "equalized_odds_difference" in repr(scorer) and "greater_is_better=False" in repr(scorer)
    assert "greater_is_better" not in repr(make_fairness_scorer("equal_opportunity_ratio"))


def test_scorer_values(biased_data):
    X, y, group = biased_data
    model = LogisticRegression().fit(X, y)
    with sklearn.config_context(enable_metadata_routing=True):
        hard = make_fairness_scorer("equalized_odds_difference")
        soft = make_fairness_scorer(
            "demographic_parity_difference", response_method="predict_proba"
        )
        ratio = make_fairness_scorer("equal_opportunity_ratio")
        custom = make_fairness_scorer(flm.demographic_parity_difference)
        got_hard = hard(model, X, y, sensitive_features=group)
        got_soft = soft(model, X, y, sensitive_features=group)
        got_ratio = ratio(model, X, y, sensitive_features=group)
        got_custom = custom(model, X, y, sensitive_features=group)
    pred, proba = model.predict(X), model.predict_proba(X)[:, 1]
    assert got_hard == pytest.approx(-equalized_odds_difference(y, pred, sensitive_features=group))
    assert got_hard < 0
    dp_soft = abs(proba[group == "F"].mean() - proba[group == "M"].mean())
    assert got_soft == pytest.approx(-dp_soft)
    assert got_soft != pytest.approx(
        -demographic_parity_difference(y, pred, sensitive_features=group)
    )
    assert got_ratio == pytest.approx(equal_opportunity_ratio(y, pred, sensitive_features=group))
    assert got_custom == pytest.approx(
        -demographic_parity_difference(y, pred, sensitive_features=group)
    )


def test_make_fairness_scorer_accepts_fairlearn_metrics(biased_data):
    X, y, group = biased_data
    model = LogisticRegression().fit(X, y)
    pred = model.predict(X)
    kw = {"sensitive_features": group}
    with sklearn.config_context(enable_metadata_routing=True):
        ratio = make_fairness_scorer("demographic_parity_ratio")
        tpr_gap = make_fairness_scorer("true_positive_rate_difference")
        acc_min = make_fairness_scorer("accuracy_score_group_min")
        worst = make_fairness_scorer(flm.equalized_odds_difference)
        mean_form = make_fairness_scorer(flm.equalized_odds_difference, agg="mean")
        ours = make_fairness_scorer("equalized_odds_difference")  # ours wins: the sum form
        got = {
            name: scorer(model, X, y, sensitive_features=group)
            for name, scorer in [
                ("ratio", ratio),
                ("tpr_gap", tpr_gap),
                ("acc_min", acc_min),
                ("worst", worst),
                ("mean_form", mean_form),
                ("ours", ours),
            ]
        }
    assert "greater_is_better" not in repr(ratio) and "greater_is_better" not in repr(acc_min)
    assert got["ratio"] == pytest.approx(flm.demographic_parity_ratio(y, pred, **kw))
    assert got["tpr_gap"] == pytest.approx(-flm.true_positive_rate_difference(y, pred, **kw))
    assert got["acc_min"] == pytest.approx(flm.accuracy_score_group_min(y, pred, **kw))
    assert got["worst"] == pytest.approx(-flm.equalized_odds_difference(y, pred, **kw))
    assert got["worst"] == pytest.approx(-equalized_odds_difference(y, pred, agg="max", **kw))
    assert got["mean_form"] == pytest.approx(0.5 * got["ours"])
    assert got["ours"] == pytest.approx(-equalized_odds_difference(y, pred, **kw))
    # fairlearn names that are not fairness metrics (no sensitive_features) are refused
    for name in ("selection_rate", "MetricFrame", "plot_model_comparison", "count"):
        with pytest.raises(ValueError, match="fairlearn.metrics"):
            make_fairness_scorer(name)


def test_scorer_without_routing_gives_clear_error(biased_data):
    X, y, group = biased_data
    model = LogisticRegression().fit(X, y)
    scorer = make_fairness_scorer("demographic_parity_difference")  # routing is off here
    assert not sklearn.get_config()["enable_metadata_routing"]
    with pytest.raises(TypeError, match="enable_metadata_routing=True"):
        scorer(model, X, y)
    restored = pickle.loads(pickle.dumps(scorer))
    with sklearn.config_context(enable_metadata_routing=True):
        assert restored(model, X, y, sensitive_features=group) == pytest.approx(
            scorer(model, X, y, sensitive_features=group)
        )


def test_grid_search_routes_sensitive_features(biased_data):
    X, y, group = biased_data
    with sklearn.config_context(enable_metadata_routing=True):
        scoring = {
            "accuracy": "accuracy",
            "eo": make_fairness_scorer("equalized_odds_difference"),
            "dp_proba": make_fairness_scorer(
                "demographic_parity_difference", response_method="predict_proba"
            ),
        }
        search = GridSearchCV(
            LogisticRegression(),
            {"C": [1e-3, 1e-2, 1.0]},
            scoring=scoring,
            refit=best_accuracy_within("eo", 0.2),
            cv=3,
        )
        search.fit(X, y, sensitive_features=group)
        folds = cross_validate(
            LogisticRegression(), X, y, scoring=scoring, cv=3, params={"sensitive_features": group}
        )
    results = search.cv_results_
    for key in ("mean_test_eo", "mean_test_dp_proba"):
        values = np.asarray(results[key])
        assert np.isfinite(values).all() and (values <= 0).all() and (values < 0).any()
    assert search.best_index_ == best_accuracy_within("eo", 0.2)(results)
    assert np.isfinite(folds["test_eo"]).all() and (folds["test_eo"] <= 0).all()
    # The scorer saw each test fold's slice of A: recompute the first fold by hand.
    train, test = next(StratifiedKFold(3).split(X, y))
    model = LogisticRegression().fit(X[train], y[train])
    expected = equalized_odds_difference(
        y[test], model.predict(X[test]), sensitive_features=group[test]
    )
    assert folds["test_eo"][0] == pytest.approx(-expected)


# ----------------------------------------------------------------------------------------------
# best_accuracy_within


CV_RESULTS = {
    "mean_test_eo": np.array([-0.01, -0.04, -0.03, -0.20, -0.04]),
    "mean_test_accuracy": np.array([0.70, 0.80, 0.80, 0.95, np.nan]),
    "mean_test_ap": np.array([0.90, 0.60, 0.70, 0.99, 0.95]),
}


def test_best_accuracy_within_selects_best_feasible():
    # Feasible (|eo| <= 0.05): 0, 1, 2, 4. Best accuracy 0.80 for 1 and 2; 2 has the smaller gap.
    assert best_accuracy_within("eo", 0.05)(CV_RESULTS) == 2
    # With AP: candidate 4 (0.95) is feasible and beats 0 (0.90); 3 (0.99) is over budget.
    assert best_accuracy_within("eo", 0.05, accuracy="ap")(CV_RESULTS) == 4
    assert best_accuracy_within("eo", 0.2, accuracy="ap")(CV_RESULTS) == 3
    assert best_accuracy_within("eo", 0.01)(CV_RESULTS) == 0  # bound is inclusive
    positive_gaps = {**CV_RESULTS, "mean_test_eo": -CV_RESULTS["mean_test_eo"]}
    assert best_accuracy_within("eo", 0.05)(positive_gaps) == 2
    assert isinstance(best_accuracy_within("eo", 0.05)(CV_RESULTS), int)


def test_best_accuracy_within_infeasible_warns_and_takes_smallest_gap():
    with pytest.warns(UserWarning, match=r"No candidate satisfies \|eo\| <= 0.001"):
        assert best_accuracy_within("eo", 0.001)(CV_RESULTS) == 0


def test_best_accuracy_within_errors():
    with pytest.raises(KeyError, match="mean_test_gap.*'accuracy', 'ap', 'eo'"):
        best_accuracy_within("gap", 0.05)(CV_RESULTS)
    with pytest.raises(KeyError, match="mean_test_acc"):
        best_accuracy_within("eo", 0.05, accuracy="acc")(CV_RESULTS)
    for bound in (-0.1, float("nan"), "0.05", None):
        with pytest.raises(ValueError, match="bound must be a non-negative real number"):
            best_accuracy_within("eo", bound)
    all_nan = {**CV_RESULTS, "mean_test_eo": np.full(5, np.nan)}
    with pytest.raises(ValueError, match="NaN for every candidate"):
        best_accuracy_within("eo", 0.05)(all_nan)


def test_best_accuracy_within_pickles_and_reprs():
    refit = best_accuracy_within("eo", 0.05, accuracy="ap")
    assert repr(refit) == "best_accuracy_within('eo', 0.05, accuracy='ap')"
    assert pickle.loads(pickle.dumps(refit))(CV_RESULTS) == refit(CV_RESULTS)


def test_best_accuracy_within_skips_collapsed_candidates():
    from skfairnn.metrics import best_accuracy_within

    results = {
        "mean_test_eo": [-0.00, -0.04, -0.10],
        "mean_test_ap": [0.30, 0.72, 0.80],
        "mean_test_auc": [0.50, 0.80, 0.85],
    }
    # the collapsed candidate 0 has the smallest gap; without the AUC key it wins the fallback
    assert best_accuracy_within("eo", 0.01, accuracy="ap")(results) == 0
    assert best_accuracy_within("eo", 0.05, accuracy="ap", auc="auc")(results) == 1
    with pytest.warns(UserWarning):
        assert best_accuracy_within("eo", 0.01, accuracy="ap", auc="auc")(results) == 1
