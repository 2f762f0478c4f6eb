# SPDX-License-Identifier: BSD-3-Clause
"""The papers' analysis tools: gradient diagnostics, skorch callbacks and plots."""

from ._callbacks import ContributionDisparityLogger, NeuronParityLogger
from ._gradient import group_contribution_disparity, neuron_parity_scores
from ._plot import plot_contribution_disparity

__all__ = [
    "group_contribution_disparity",
    "neuron_parity_scores",
    "ContributionDisparityLogger",
    "NeuronParityLogger",
    "plot_contribution_disparity",
]
