# SPDX-License-Identifier: BSD-3-Clause
"""The studies with their own protocol: FairIF's tables and the pruning study."""

import json

import numpy as np
import pandas as pd
import pytest

from skfairnn.benchmarks import (
    REPRODUCTIONS,
    fairif_digits,
    load_balanced_adult,
    paired_differences,
    plot_pruning,
    pruning_study,
    summarize_fairif,
)
from skfairnn.cli import main


def test_cli_reproduces_fairif_table4_and_the_first_order_check(tmp_path, capsys):
    assert {"fairif-tabular", "fairif-digits", "pruning-adult", "pruning-first-order"} <= set(
        REPRODUCTIONS
    )
    code = main(
        ["reproduce", "fairif-tabular", "pruning-first-order", "--quick", "--seeds", "1"]
        + ["--out", str(tmp_path), "--quiet"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "FairIF (tuned)" in printed and "paper AOD" in printed
    runs = pd.read_csv(tmp_path / "fairif-tabular" / "fairif_table4_runs.csv")
    assert set(runs["method"]) == {"Original", "FairIF (l2_weight=0.1)", "FairIF (tuned)"}
    assert runs["AOD"].between(0, 1).all() and runs["Acc"].between(50, 100).all()
    # App. C.3: Eq. 11 predicts the output change of one small update almost exactly
    report = json.loads((tmp_path / "reproduce.json").read_text())
    assert report["pruning-first-order"][0]["eta=0.001"] > 0.99


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


def test_fairif_digits_writes_the_weight_plot(tmp_path):
    results, cells = fairif_digits(["distribution_shift"], [0], epochs=2, out=tmp_path)
    assert list(results["method"]) == ["Original", "FairIF"]
    assert len(cells) == 4 and cells["n"].sum() > 0
    assert (tmp_path / "fairif_weights_distribution_shift.png").stat().st_size > 5000
