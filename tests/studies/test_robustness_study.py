# SPDX-License-Identifier: BSD-3-Clause
"""The robustness study (``skfairnn_benchmarks.robustness``): runs, summaries, plots."""

import numpy as np
import pandas as pd
import pytest

from skfairnn.benchmarks import REPRODUCTIONS
from skfairnn_benchmarks.robustness import (
    GRID,
    acceptance,
    load_robustness_data,
    plot_robustness,
    robustness_study,
    select_on_validation,
    study_tasks,
    summarize_robustness,
)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("robustness")
    rows = robustness_study(
        [0],
        datasets=("synthetic_rare",),
        methods=("erm", "fairreg", "prune", "expgrad", "threshold"),
        quick=True,
        out=out,
    )
    return rows, out


def test_every_run_is_recorded_on_both_splits_and_every_rule(study):
    rows, out = study
    assert len(rows) == 1 + 4 + 1 + 1 + 1 and not rows["error"].astype(bool).any()
    for column in ("val_ap", "test_auc", "test_shipped_eo", "test_max_accuracy_recall"):
        assert rows[column].notna().all(), column
    erm = rows[rows["method"] == "erm"].iloc[0]
    # the shipped decision is the estimator's default rule applied to the same network
    assert erm["test_shipped_acc"] == pytest.approx(erm["test_max_accuracy_acc"], abs=0.01)
    assert (out / "runs.jsonl").exists()


def test_prune_then_train_is_never_below_the_constant_classifier(study):
    rows, _ = study
    data = load_robustness_data("synthetic_rare", 0)
    constant = max(data.y_test.mean(), 1 - data.y_test.mean())
    prune = rows[rows["method"] == "prune"].iloc[0]
    assert prune["test_shipped_acc"] >= constant - 0.01


def test_summaries_acceptance_and_selection(study, tmp_path):
    rows, _ = study
    summary = summarize_robustness(rows)
    assert summary.loc[("synthetic_rare", "erm", "-", "default"), "time_vs_erm"] == 1.0
    table = acceptance(summary)
    assert set(table.index.get_level_values("method")) == {"fairreg"}
    row = table.iloc[0]
    assert row["met"] == (row["worst_short"] == 0)
    selected = select_on_validation(rows)
    assert {"beats_erm", "beats_expgrad", "beats_threshold", "weights"} <= set(selected.columns)
    path = plot_robustness(summary, "synthetic_rare", tmp_path / "p.png")
    assert path.stat().st_size > 10_000


def test_acceptance_rule_by_hand():
    index = pd.MultiIndex.from_tuples(
        [("d", "erm", "-", "default"), ("d", "gcm", 1.0, "default"), ("d", "gcm", 3.0, "default")],
        names=["dataset", "method", "weight", "sampling"],
    )
    summary = pd.DataFrame(
        {
            "acc": [0.90, 0.89, 0.85],
            "ap": [0.60, 0.58, 0.50],
            "recall": [0.50, 0.40, 0.30],
            "eo": [0.20, 0.09, 0.02],
        },
        index=index,
    )
    row = acceptance(summary).loc[("d", "gcm")]
    assert row["met"] and row["weight"] == 1.0
    summary.loc[("d", "gcm", 1.0, "default"), "eo"] = 0.12  # over half of ERM's gap
    row = acceptance(summary).loc[("d", "gcm")]
    assert not row["met"] and row["eo_short"] == pytest.approx(0.02)


def test_study_grid_and_seeds():
    tasks = study_tasks(["german", "synthetic_rare"], range(3))
    per_dataset = pd.Series([t["dataset"] for t in tasks]).value_counts()
    runs_per_seed = sum(len(v) for v in GRID.values()) + 4  # the random-batch ablation
    assert per_dataset["german"] == 10 * runs_per_seed
    assert per_dataset["synthetic_rare"] == 3 * runs_per_seed
    assert tasks[0]["seed"] == 0 and tasks[-1]["dataset"] == "german"
    with pytest.raises(ValueError, match="unknown method"):
        study_tasks(["german"], [0], methods=["magic"])
    assert "robustness" in REPRODUCTIONS


def test_synthetic_stress_sets():
    rare = load_robustness_data("synthetic_rare", 0)
    assert abs(rare.y_train.mean() - 0.05) < 0.01
    minority = load_robustness_data("synthetic_minority", 0)
    assert abs(np.mean(minority.a_train != 0) - 0.10) < 0.01
    three = load_robustness_data("synthetic_three_groups", 0)
    assert set(np.unique(three.a_train)) == {0, 1, 2}


def test_runs_in_joblib_worker_processes_give_the_sequential_rows(study, tmp_path):
    """Worker processes import the study's task function from ``skfairnn_benchmarks``."""
    rows, _ = study
    parallel = robustness_study(
        [0, 1],
        datasets=("synthetic_rare",),
        methods=("erm",),
        quick=True,
        out=tmp_path,
        run_options={"n_jobs": 2, "progress": False},
    )
    assert not parallel["error"].astype(bool).any(), parallel["error"].tolist()
    first = parallel[parallel["seed"] == 0].iloc[0]
    sequential = rows[rows["method"] == "erm"].iloc[0]
    assert first["test_shipped_acc"] == pytest.approx(sequential["test_shipped_acc"], abs=1e-6)
    assert first["test_ap"] == pytest.approx(sequential["test_ap"], abs=1e-6)


def test_fair_smote_and_threshold_on_erm_entries():
    from skfairnn_benchmarks.robustness import run_robustness_task

    task = dict(dataset="synthetic_rare", seed=0, quick=True, device=None, data_home=None,
                sampling=None)  # fmt: skip
    smote = run_robustness_task({**task, "method": "fair_smote", "weight": 1.0})
    # a network: every decision rule is applied to it, the shipped one is max_accuracy
    assert smote["test_shipped_acc"] == pytest.approx(smote["test_max_accuracy_acc"], abs=0.01)
    # the loss saw balanced cells (prior 1/2), the decision is for the data's 5 % positives
    prior = load_robustness_data("synthetic_rare", 0).y_train.mean()
    expected = np.log(prior / (1 - prior))
    assert smote["prior_shift_offset"] == pytest.approx(expected, rel=1e-4)
    post = run_robustness_task({**task, "method": "threshold_erm", "weight": None})
    # a post-processor: one randomized decision rule, the same under every name
    assert post["test_shipped_eo"] == post["test_none_eo"] == post["test_match_rate_eo"]
    assert "shipped_offset" not in post and 0.5 < post["test_shipped_acc"] <= 1.0
