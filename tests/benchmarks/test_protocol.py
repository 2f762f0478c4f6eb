# SPDX-License-Identifier: BSD-3-Clause
"""The protocol's per-split metrics: one MetricFrame, the values of skfairnn.metrics."""

import numpy as np
import pytest

from skfairnn import _disaggregation, metrics
from skfairnn.benchmarks import decision_metrics, split_metrics


@pytest.fixture
def split():
    rng = np.random.default_rng(0)
    n = 3000
    groups = rng.choice(np.array(["F", "M", "X"]), n)
    y = rng.integers(0, 2, n)
    y[groups == "X"] = 1  # no negatives in X: its FPR is undefined and left out
    proba = rng.random(n)
    hard = (proba > 0.4).astype(int)
    return y, proba, groups, hard


def _one_by_one(y, pred, groups, suffix=""):
    kw = {"sensitive_features": groups}
    return {
        "dp" + suffix: metrics.demographic_parity_difference(y, pred, **kw),
        "eo" + suffix: metrics.equalized_odds_difference(y, pred, **kw),
        "eo_max" + suffix: metrics.equalized_odds_difference(y, pred, agg="max", **kw),
        "eop" + suffix: metrics.equal_opportunity_difference(y, pred, **kw),
    }


def test_split_metrics_equal_the_metrics_one_by_one_from_one_frame(split, monkeypatch):
    y, proba, groups, hard = split
    frames = []
    real = _disaggregation.flm.MetricFrame
    monkeypatch.setattr(
        _disaggregation.flm, "MetricFrame", lambda **kw: frames.append(kw) or real(**kw)
    )
    got = split_metrics(y, proba, groups, hard)
    assert len(frames) == 1  # hard decisions and probabilities in one pass
    expected = {
        **_one_by_one(y, hard, groups),
        **_one_by_one(y, proba, groups, "_prob"),
        "aod": metrics.average_odds_difference(y, hard, sensitive_features=groups),
        "ad": metrics.accuracy_difference(y, hard, sensitive_features=groups),
    }
    assert {key: got[key] for key in expected} == expected  # exactly, not approximately
    assert all(type(got[key]) is float for key in expected)
    assert list(got) == [
        "ap", "auc", "acc", "recall", "positive_rate", "base_rate",
        "dp", "eo", "eo_max", "eop", "dp_prob", "eo_prob", "eo_max_prob", "eop_prob",
        "aod", "ad",
    ]  # fmt: skip
    assert got["dp"] != got["dp_prob"] and got["eo"] > 0


def test_decision_metrics_equal_the_metrics_one_by_one(split):
    y, _, groups, hard = split
    got = decision_metrics(y, hard, groups)
    assert {key: got[key] for key in ("dp", "eo", "eo_max", "eop")} == _one_by_one(y, hard, groups)
    assert got["positive_rate"] == hard.mean()
