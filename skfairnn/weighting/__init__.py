# SPDX-License-Identifier: BSD-3-Clause
"""Sample weighters and the meta-estimator that trains with their weights.

A *weighter* is a scikit-learn estimator whose ``fit(X, y, *,
sensitive_features=None, sample_weight=None)`` sets ``sample_weight_`` (one
weight per input row); :class:`ReweightedClassifier` fits a weighter and then
any classifier that accepts ``sample_weight``.
"""

from ..modules import HingeLoss  # the authors' loss for InfluencePruner's scoring network
from .fairif import FairIFReweighter
from .kamiran_calders import KamiranCaldersReweighter
from .meta import ReweightedClassifier
from .pruning import InfluencePruner

__all__ = [
    "FairIFReweighter",
    "HingeLoss",
    "InfluencePruner",
    "KamiranCaldersReweighter",
    "ReweightedClassifier",
]
