# SPDX-License-Identifier: BSD-3-Clause
"""Former home of the fairness influence scores, now :mod:`skfairnn.influence`.

Only re-exports, for code that imported this private path (the pruning
study); import from :mod:`skfairnn.influence` or :mod:`skfairnn.diagnostics`.
"""

from ..influence._fairness import (  # noqa: F401  (re-exported)
    SURROGATES,
    constraint_gradient,
    fairness_influence_scores,
    pairwise_fairness_influence,
)

__all__ = [
    "SURROGATES",
    "constraint_gradient",
    "fairness_influence_scores",
    "pairwise_fairness_influence",
]
