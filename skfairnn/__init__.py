# SPDX-License-Identifier: BSD-3-Clause
"""skfairnn: fairness-aware deep-learning classifiers for scikit-learn.

The estimators are re-exported from :mod:`skfairnn.methods` and
:mod:`skfairnn.weighting` as found by :func:`skfairnn.utils.all_estimators`:
the list is never written out by hand.
"""

from ._base import FairBatch, FairNetClassifier
from ._penalty import FairPenaltyClassifier
from .exceptions import CollapseWarning, CompileWarning, FairnessWarning, InfluenceSolveWarning
from .utils.discovery import all_estimators as _all_estimators

__version__ = "0.2.0.dev0"

_ESTIMATORS = dict(_all_estimators())
globals().update(_ESTIMATORS)

__all__ = [
    "FairBatch",
    "FairNetClassifier",
    "FairPenaltyClassifier",
    "FairnessWarning",
    "CollapseWarning",
    "CompileWarning",
    "InfluenceSolveWarning",
    *_ESTIMATORS,
]
