# SPDX-License-Identifier: BSD-3-Clause
"""The papers' analysis tools: gradient, neuron and influence diagnostics, callbacks, plots.

The fairness influence scores (:func:`constraint_gradient`,
:func:`fairness_influence_scores`, :func:`pairwise_fairness_influence`) are
computed in :mod:`skfairnn.influence` and re-exported here.
"""

from ..influence import (
    constraint_gradient,
    fairness_influence_scores,
    pairwise_fairness_influence,
)
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
    "constraint_gradient",
    "fairness_influence_scores",
    "group_contribution_disparity",
    "neuron_discrimination",
    "neuron_discrimination_buckets",
    "neuron_parity_scores",
    "neuron_unfairness_importance",
    "pairwise_fairness_influence",
    "plot_contribution_disparity",
    "plot_neuron_discrimination_buckets",
]
