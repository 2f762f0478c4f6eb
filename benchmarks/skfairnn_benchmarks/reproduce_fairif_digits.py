# SPDX-License-Identifier: BSD-3-Clause
"""FairIF Table 1 (MLP) on coloured digits, and the sample-weight study of §6.4.

The protocol is :func:`skfairnn_benchmarks.fairif.fairif_digits` (also
``skfairnn reproduce fairif-digits``): ``make_colored_digits`` under the three
bias settings, 60/20/20 stratified split, validation rows with their colour,
training rows without; an MLP (hidden 64) trained by ERM (Original) and
retrained with FairIF's weights. Prints Acc (%), AD (%), AOD, EOD (mean ±
std over seeds) next to the paper's, the mean weight of each (colour, label)
cell, and saves ``fairif_weights_<bias>.png`` (§6.4).

Run::

    nice -n 10 python -m skfairnn_benchmarks.reproduce_fairif_digits --seeds 3
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch

from .fairif import (
    BIASES,
    PAPER_TABLE1,
    fairif_digits,
    summarize_fairif,
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--biases", nargs="+", default=list(BIASES), choices=BIASES)
    parser.add_argument("--curvature", default="gauss_newton", choices=["hessian", "gauss_newton"])
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results, cells = fairif_digits(
        args.biases,
        range(args.seeds),
        epochs=args.epochs,
        curvature=args.curvature,
        device=args.device,
        out=args.out,
    )
    summary = summarize_fairif(results, "bias", PAPER_TABLE1)
    cell_table = cells.groupby(["bias", "colour", "label"], sort=False)[["n", "mean_weight"]]
    cell_table = cell_table.mean()
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary)
        print(cell_table.round(3))
    results.to_csv(args.out / "fairif_digits.csv", index=False)
    summary.to_csv(args.out / "fairif_digits_summary.csv")
    cell_table.to_csv(args.out / "fairif_digits_cell_weights.csv")


if __name__ == "__main__":
    main()
