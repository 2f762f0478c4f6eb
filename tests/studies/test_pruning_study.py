# SPDX-License-Identifier: BSD-3-Clause
"""The pruning study (``skfairnn_benchmarks.pruning``) and its balanced Adult."""

import numpy as np
import pandas as pd
import pytest

from skfairnn import FairRegClassifier, InfluencePruner
from skfairnn_benchmarks import pruning
from skfairnn_benchmarks.balanced_adult import PAPER_BALANCING, balance_rows, load_balanced_adult
from skfairnn_benchmarks.pruning import plot_pruning, pruning_study


def test_balanced_adult_is_balanced_and_seeded():
    Xtr, ytr, Atr, Xte, yte, Ate = load_balanced_adult(0)
    assert len(Xtr) + len(Xte) == 12474 and abs(len(Xte) / 12474 - 0.2) < 1e-3
    y = np.concatenate([ytr, yte])
    assert y.mean() == 0.5  # classes balanced after the groups
    np.testing.assert_array_equal(Xtr[:, 0], Atr)  # sex is input column 0
    again = load_balanced_adult(0)[0]
    np.testing.assert_array_equal(Xtr, again)
    minmax = load_balanced_adult(0, scale="minmax")[0]
    assert minmax.min() >= 0 and minmax.max() <= 1
    _, ytr, Atr, _, yte, Ate = load_balanced_adult(0, balance="cells")
    cells = np.bincount(2 * np.concatenate([Atr, Ate]) + np.concatenate([ytr, yte]))
    assert len(set(cells)) == 1  # every (sex, income) cell down-sampled to the smallest
    _, ytr, Atr, _, yte, _ = load_balanced_adult(0, balance="none")
    assert len(ytr) + len(yte) == 45222 and Atr.mean() > 0.6  # Adult without missing values


def test_balancing_step_by_hand():
    """§6.2 / App. C.2: "resample the dataset to balance the class and group membership"."""
    group = np.array([0] * 4 + [1] * 8)
    y = np.array([1, 0, 0, 0] + [1] * 8)
    rows = balance_rows(group, y, "marginals", random_state=0)
    # groups first: 4 of the 8 group-1 rows (all positive); then 5 positives vs 3 negatives,
    # so 3 of the 5 positives: 6 rows, the 3 negatives of group 0 among them
    assert len(rows) == 6 and y[rows].sum() == 3 and {1, 2, 3} <= set(rows)
    # the class step can unbalance the groups again (4 of 6 rows in group 0), as documented
    draws = [balance_rows(group, y, "marginals", random_state=seed) for seed in range(10)]
    assert {int((group[d] == 0).sum()) for d in draws} == {3, 4}
    group = np.array([0] * 4 + [1] * 8)
    y = np.array([1, 0, 0, 0] + [1, 1, 1, 1, 1, 0, 0, 0])
    cells = balance_rows(group, y, "cells", random_state=0)
    assert np.bincount(2 * group[cells] + y[cells]).tolist() == [1, 1, 1, 1]
    np.testing.assert_array_equal(balance_rows(group, y, "none"), np.arange(12))
    again = balance_rows(group, y, "marginals", random_state=0)
    np.testing.assert_array_equal(again, balance_rows(group, y, "marginals", random_state=0))
    with pytest.raises(ValueError, match="balance must be one of"):
        balance_rows(group, y, "oversample")


def test_reproduce_follows_the_papers_balancing_step(monkeypatch, tmp_path):
    calls = []

    def recording_study(seeds, **kwargs):
        calls.append(kwargs)
        return pd.DataFrame(
            {"method": ["ERM"], "fraction": [1.0], "accuracy": [0.8], "dp_violation": [0.3]}
        )

    monkeypatch.setattr(pruning, "pruning_study", recording_study)
    monkeypatch.setattr(pruning, "plot_pruning", lambda results: _NoFigure())
    pruning.reproduce_fig2([0], quick=True, out=tmp_path)
    assert calls[0]["dataset"] == "adult" and calls[0]["balance"] == PAPER_BALANCING == "marginals"


class _NoFigure:
    def savefig(self, *args, **kwargs):
        pass


def test_study_records_and_applies_the_balancing_step():
    options = dict(dataset="german", fractions=(1.0,), strategies=("random",), epochs=1)
    natural = pruning_study([0], **options)
    assert set(natural["balance"]) == {"none"}  # protocol datasets: not resampled by default
    balanced = pruning_study([0], balance="cells", **options)
    assert set(balanced["balance"]) == {"cells"}
    kept = balanced[balanced["method"] == "prune_random"]
    assert float(kept["kept_a0"].iloc[0]) == 0.5 and float(kept["kept_positive"].iloc[0]) == 0.5
    with pytest.raises(ValueError, match="balance must be one of"):
        pruning_study([0], balance="oversample", **options)


def test_pruning_study_rows_and_figure():
    results = pruning_study(
        [0], dataset="german", fractions=(1.0, 0.5), strategies=("fairness", "random"), epochs=1
    )
    methods = set(results["method"])
    assert methods == {"ERM", "FairReg", "reduction", "prune_fairness", "prune_random"}
    pruned = results[results["method"].str.startswith("prune")]
    assert len(pruned) == 4 and pruned["kept_a0"].between(0, 1).all()
    full = pruned[pruned["fraction"] == 1.0]
    assert full["kept_a0"].nunique() == 1  # keeping everything keeps the same rows
    figure = plot_pruning(results, reference_fraction=0.5)
    assert len(figure.axes) == 3 and figure.axes[1].lines


def test_pruning_study_rejects_unknown_options():
    with pytest.raises(TypeError, match="unexpected options"):
        pruning_study([0], dataset="german", penalty_weight=2.0)


def test_logit_penalty_trains_fair_reg_on_logit_gaps(monkeypatch):
    """``penalty="logit"`` is ``FairRegClassifier(gap_scale="logit")`` (the authors' train.py)."""
    scales = []
    original = FairRegClassifier.fit

    def recording_fit(self, *args, **kwargs):
        scales.append(self.gap_scale)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FairRegClassifier, "fit", recording_fit)
    options = dict(dataset="german", fractions=(1.0,), strategies=("random",), epochs=1)
    pruning_study([0], penalty="logit", **options)
    assert scales and set(scales) == {"logit"}
    scales.clear()
    pruning_study([0], **options)
    assert set(scales) == {"proba"}


def test_study_passes_relaxed_and_auto_output_to_the_pruner(monkeypatch):
    seen = []
    original = InfluencePruner.fit

    def recording_fit(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        seen.append((self.relaxed, self.output, result.output_))
        return result

    monkeypatch.setattr(InfluencePruner, "fit", recording_fit)
    options = dict(dataset="german", fractions=(0.5,), strategies=("fairness",), epochs=1)
    pruning_study([0], **options)
    pruning_study([0], relaxed="joint", penalty="logit", **options)
    pruning_study([0], output="auto", **options)
    assert seen == [
        ("conditional", "logit", "logit"),
        ("joint", "logit", "logit"),
        ("conditional", "auto", "proba"),
    ]
