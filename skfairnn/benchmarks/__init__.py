# SPDX-License-Identifier: BSD-3-Clause
"""Reproduction harness: the papers' data splits, protocol, method registry and comparisons.

:func:`compare` runs methods × seeds under the papers' protocol
(:func:`load_protocol_data`, :func:`evaluate`, the :data:`METHODS`
registry) through :func:`run_tasks` (joblib, Dask, resumable JSONL).
:data:`REPRODUCTIONS` is the registry of what ``skfairnn reproduce`` reruns:
comparisons, run here through :func:`compare`, and studies with their own
protocol (FairIF's tables, the pruning study, the robustness study), whose
code is the separate ``skfairnn-benchmarks`` project (``pip install
./benchmarks`` from a checkout) and is imported only when a study runs
(:func:`resolve_study`). Nothing here imports matplotlib until a plot is drawn.
"""

from ._compare import compare, compare_many, compare_tasks, drop_failed, plot_pareto, summarize
from ._data import load_protocol_data
from ._protocol import (
    EpochEvaluator,
    decision_metrics,
    decisions,
    evaluate,
    fitted_network,
    predicts_with_groups,
    score_metrics,
    select_epoch,
    split_metrics,
)
from ._runs import read_rows, run_tasks
from .methods import METHODS, balanced_sampling, paper_training, register_method
from .reproductions import (
    REPRODUCTIONS,
    RUNNER_PUBLISHED,
    StudyNotInstalledError,
    resolve_study,
    study_available,
)

__all__ = [
    "METHODS",
    "REPRODUCTIONS",
    "RUNNER_PUBLISHED",
    "EpochEvaluator",
    "StudyNotInstalledError",
    "balanced_sampling",
    "compare",
    "compare_many",
    "compare_tasks",
    "decision_metrics",
    "decisions",
    "drop_failed",
    "evaluate",
    "fitted_network",
    "load_protocol_data",
    "paper_training",
    "plot_pareto",
    "predicts_with_groups",
    "read_rows",
    "register_method",
    "resolve_study",
    "run_tasks",
    "score_metrics",
    "select_epoch",
    "split_metrics",
    "study_available",
    "summarize",
]
