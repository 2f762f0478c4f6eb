# SPDX-License-Identifier: BSD-3-Clause
"""The papers' analysis tools: neuron and gradient diagnostics, callbacks, plots."""

from ._neuron_plots import plot_neuron_discrimination_buckets
from ._neurons import (
    NeuronDiscriminationLogger,
    neuron_discrimination,
    neuron_discrimination_buckets,
    neuron_unfairness_importance,
)

__all__ = [
    "NeuronDiscriminationLogger",
    "neuron_discrimination",
    "neuron_discrimination_buckets",
    "neuron_unfairness_importance",
    "plot_neuron_discrimination_buckets",
]
