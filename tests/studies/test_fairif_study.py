# SPDX-License-Identifier: BSD-3-Clause
"""FairIF's Table 4 and Table 1 studies (``skfairnn_benchmarks.fairif``)."""

import pandas as pd

from skfairnn_benchmarks.fairif import fairif_digits, paired_differences, summarize_fairif


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
