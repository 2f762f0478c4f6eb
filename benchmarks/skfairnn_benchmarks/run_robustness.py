# SPDX-License-Identifier: BSD-3-Clause
"""The robustness study (``skfairnn reproduce robustness``), with a choice of methods and datasets.

Run::

    python -m skfairnn_benchmarks.run_robustness --seeds 3 --n-jobs 16 \
        --out benchmarks/results/robustness
    python -m skfairnn_benchmarks.run_robustness --methods fairif --datasets german adult \
        --n-jobs 2
    python -m skfairnn_benchmarks.run_robustness --summarize-only \
        --out benchmarks/results/robustness

Every run is appended to ``<out>/runs.jsonl`` as it finishes; rerunning resumes.
``--summarize-only`` writes the tables and plots from the runs already there.
"""

import argparse
from pathlib import Path

import pandas as pd

from skfairnn.benchmarks import drop_failed, read_rows

from .robustness import GRID, ROBUSTNESS_DATASETS, robustness_study, write_report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--methods", nargs="*", default=list(GRID))
    parser.add_argument("--datasets", nargs="*", default=list(ROBUSTNESS_DATASETS))
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", default=None)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--out", default="skfairnn_out/robustness")
    parser.add_argument("--summarize-only", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    if not args.summarize_only:
        robustness_study(
            range(args.first_seed, args.first_seed + args.seeds),
            datasets=args.datasets,
            methods=args.methods,
            quick=args.quick,
            data_home=args.data_home,
            device=args.device,
            out=out,
            run_options={"n_jobs": args.n_jobs, "progress": False},
        )
    rows = pd.DataFrame(read_rows(out / "runs.jsonl"))
    tables = write_report(drop_failed(rows), out, decimals=4)
    (out / "tables.md").write_text(markdown_tables(tables, out=out))
    print(tables["acceptance"].round(3).to_string())


#: row order of the README tables; a study method not listed here follows before the references
ORDER = ["erm", "fairreg", "adversarial", "gcm", "fairer", "runner", "fair_mixup", "arl",
         "fairneuron", "fair_smote", "fairif", "reweighting", "prune", "expgrad", "threshold",
         "threshold_erm"]  # fmt: skip
SHORT = {"synthetic_rare": "syn. 5 % pos.", "synthetic_minority": "syn. 10 % minority",
         "synthetic_three_groups": "syn. 3 groups", "credit_default": "credit"}  # fmt: skip


def _row_order(methods) -> list[str]:
    """:data:`ORDER`, with any other method of the study (none is dropped) before the references."""
    listed = [m for m in ORDER if m in methods]
    others = [m for m in methods if m not in ORDER]
    split = next((i for i, m in enumerate(listed) if m in ("expgrad", "threshold")), len(listed))
    return listed[:split] + others + listed[split:]


def _markdown(table: pd.DataFrame) -> str:
    header = "| " + " | ".join([table.index.name or "", *table.columns]) + " |"
    lines = [header, "|" + " --- |" * (len(table.columns) + 1)]
    lines += ["| " + " | ".join([str(i), *map(str, row)]) + " |" for i, row in table.iterrows()]
    return "\n".join(lines)


def markdown_tables(tables: dict, out=None) -> str:
    """README tables from :func:`write_report`'s tables: validation-selected accuracy / ΔEO,
    and the acceptance rule's shortfalls."""
    selected = tables["selected"].reset_index()
    cells = selected.assign(
        cell=[f"{a:.3f} / {e:.3f}" for a, e in zip(selected["acc"], selected["eo"])]
    ).pivot(index="method", columns="dataset", values="cell")
    datasets = [d for d in ROBUSTNESS_DATASETS if d in cells.columns]
    cells = cells.reindex(_row_order(cells.index))[datasets]
    cells.columns = [SHORT.get(c, c) for c in cells.columns]
    cells.index.name = "accuracy / ΔEO"
    rule = tables["acceptance"].reset_index()
    rule["cell"] = [
        "met" if met else f"−{short:.3f}" for met, short in zip(rule["met"], rule["worst_short"])
    ]
    rule = rule.pivot(index="method", columns="dataset", values="cell")
    rule = rule.reindex(_row_order(rule.index))[[d for d in datasets if d in rule]]
    rule.columns = [SHORT.get(c, c) for c in rule.columns]
    rule.index.name = "rule met?"
    if out is not None:  # the same tables as CSV, for the docs' csv-table
        cells.to_csv(Path(out) / "table_selected.csv")
        rule.to_csv(Path(out) / "table_acceptance.csv")
    return _markdown(cells) + "\n\n" + _markdown(rule) + "\n"


if __name__ == "__main__":
    main()
