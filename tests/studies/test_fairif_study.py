# SPDX-License-Identifier: BSD-3-Clause
"""FairIF's Table 4 and Table 1 studies (``skfairnn_benchmarks.fairif``)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from skfairnn_benchmarks.fairif import (
    _EpochScores,
    best_epoch_predictions,
    fairif_digits,
    fairif_tabular,
    paired_differences,
    paper_logistic_regression,
    summarize_fairif,
)


def test_paired_differences_are_per_split():
    results = pd.DataFrame(
        [
            {"dataset": "d", "seed": s, "method": m, "Acc": a, "AD": 0.0, "AOD": o, "EOD": o}
            for s, rows in enumerate([[(80, 0.2), (79, 0.1)], [(70, 0.4), (70, 0.1)]])
            for m, (a, o) in zip(("Original", "FairIF (tuned)"), rows)
        ]
    )
    diff = paired_differences(results)
    assert diff.loc["d", "AOD"] == "-0.2 ± 0.1"  # mean of -0.1 and -0.3, s.e. 0.1
    assert diff.loc["d", "Acc"].startswith("-0.5")
    table = summarize_fairif(results)
    assert table.loc[("d", "Original"), "AOD"] == "0.3 ± 0.141"


def test_fairif_digits_writes_the_weight_plot(tmp_path):
    results, cells = fairif_digits(["distribution_shift"], [0], epochs=2, out=tmp_path)
    assert list(results["method"]) == ["Original", "FairIF"]
    assert len(cells) == 4 and cells["n"].sum() > 0
    assert (tmp_path / "fairif_weights_distribution_shift.png").stat().st_size > 5000


def test_fairif_digits_best_accuracy_selection_scores_that_epochs_predictions():
    results, _ = fairif_digits(["distribution_shift"], [0], epochs=4, selection="accuracy")
    # epoch 0 is skipped by the rule, so a chosen epoch is 1..3
    assert results["epoch"].between(1, 3).all()
    last, _ = fairif_digits(["distribution_shift"], [0], epochs=4)
    assert (last["epoch"] == -1).all()
    with pytest.raises(ValueError, match="selection must be one of"):
        fairif_digits(["distribution_shift"], [0], epochs=1, selection="hard")


def test_best_epoch_predictions_follow_the_best_validation_accuracy():
    from skfairnn.datasets import make_biased_classification

    X, y, A = make_biased_classification(n_samples=600, random_state=0)[:3]
    X, y, A = np.asarray(X, np.float32), np.asarray(y), np.asarray(A)
    data = Bunch(X_val=X[400:500], y_val=y[400:500], X_test=X[500:], y_test=y[500:])
    model = paper_logistic_regression(0, epochs=6, callbacks=[("s", _EpochScores(data))])
    model.fit(X[:400], y[:400])
    pred, epoch = best_epoch_predictions(model)
    accuracies = [record["fairif_val"]["acc"] for record in model.history]
    # by hand: the earliest best of epochs 1..5 (none collapsed on this data)
    assert epoch == 1 + int(np.argmax(accuracies[1:]))
    np.testing.assert_array_equal(pred, model.history[epoch]["fairif_test_pred"])


def test_fairif_tabular_with_gradient_descent_and_accuracy_selection(tmp_path):
    results = fairif_tabular(
        ["german"],
        [0],
        relaxations=[(1.0, 10)],
        weighter_options={"solver": "gradient_descent", "epsilon_epochs": 50},
        selection="accuracy",
        epochs=3,
    )
    assert set(results["method"]) == {"Original", "FairIF (l2_weight=0.1)", "FairIF (tuned)"}
    assert results["epoch"].between(1, 2).all()
    with pytest.raises(ValueError, match="selection must be one of"):
        fairif_tabular(["german"], [0], selection="prob")
