# SPDX-License-Identifier: BSD-3-Clause
"""The papers' analysis tools: gradient and neuron diagnostics, skorch callbacks, plots."""

from ._callbacks import ContributionDisparityLogger, NeuronParityLogger
from ._gradient import group_contribution_disparity, neuron_parity_scores
from ._neuron_plots import plot_neuron_discrimination_buckets
from ._neurons import (
    NeuronDiscriminationLogger,
    neuron_discrimination,
    neuron_discrimination_buckets,
    neuron_unfairness_importance,
)
from ._plot import plot_contribution_disparity

__all__ = [
    "ContributionDisparityLogger",
    "NeuronDiscriminationLogger",
    "NeuronParityLogger",
    "group_contribution_disparity",
    "neuron_discrimination",
    "neuron_discrimination_buckets",
    "neuron_parity_scores",
    "neuron_unfairness_importance",
    "plot_contribution_disparity",
    "plot_neuron_discrimination_buckets",
]
