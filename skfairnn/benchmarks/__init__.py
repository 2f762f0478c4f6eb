# SPDX-License-Identifier: BSD-3-Clause
"""Reproduction harness: the papers' data splits, protocol, method registry and comparisons."""

from ._compare import compare, plot_pareto, summarize
from ._data import load_protocol_data
from ._protocol import EpochEvaluator, evaluate, split_metrics
from .methods import METHODS, balanced_sampling, paper_training, register_method
from .reproductions import REPRODUCTIONS

__all__ = [
    "METHODS",
    "REPRODUCTIONS",
    "EpochEvaluator",
    "balanced_sampling",
    "compare",
    "evaluate",
    "load_protocol_data",
    "paper_training",
    "plot_pareto",
    "register_method",
    "split_metrics",
    "summarize",
]
