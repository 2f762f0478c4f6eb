# SPDX-License-Identifier: BSD-3-Clause
"""Reproduction harness: the papers' data splits, protocol, method registry and comparisons.

Besides :func:`compare` (methods × seeds under the papers' Adult protocol),
the studies with their own protocol are functions here: FairIF's Table 4
(:func:`fairif_tabular`) and Table 1 (:func:`fairif_digits`), and the
pruning study (:func:`pruning_study`, :func:`plot_pruning`) with its
first-order check (:func:`first_order_check`). ``skfairnn reproduce`` runs
them all (:data:`REPRODUCTIONS`).
"""

from ._compare import compare, plot_pareto, summarize
from ._data import load_protocol_data
from ._fairif_study import fairif_digits, fairif_tabular, paired_differences, summarize_fairif
from ._protocol import EpochEvaluator, evaluate, split_metrics
from ._pruning_study import first_order_check, load_balanced_adult, plot_pruning, pruning_study
from .methods import METHODS, balanced_sampling, paper_training, register_method
from .reproductions import REPRODUCTIONS

__all__ = [
    "METHODS",
    "REPRODUCTIONS",
    "EpochEvaluator",
    "balanced_sampling",
    "compare",
    "evaluate",
    "fairif_digits",
    "fairif_tabular",
    "first_order_check",
    "load_balanced_adult",
    "load_protocol_data",
    "paired_differences",
    "paper_training",
    "plot_pareto",
    "plot_pruning",
    "pruning_study",
    "register_method",
    "split_metrics",
    "summarize",
    "summarize_fairif",
]
