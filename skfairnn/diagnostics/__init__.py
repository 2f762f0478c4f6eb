# SPDX-License-Identifier: BSD-3-Clause
"""The papers' analysis tools: quantities computed on a fitted network."""

from ._influence import (
    constraint_gradient,
    fairness_influence_scores,
    pairwise_fairness_influence,
)

__all__ = ["constraint_gradient", "fairness_influence_scores", "pairwise_fairness_influence"]
