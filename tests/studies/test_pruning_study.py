# SPDX-License-Identifier: BSD-3-Clause
"""The pruning study (``skfairnn_benchmarks.pruning``) and its balanced Adult."""

import numpy as np
import pytest

from skfairnn import FairRegClassifier
from skfairnn_benchmarks.balanced_adult import load_balanced_adult
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
