# SPDX-License-Identifier: BSD-3-Clause
"""skfairnn: fairness-aware deep-learning classifiers for scikit-learn."""

from ._base import FairBatch, FairNetClassifier
from ._penalty import FairPenaltyClassifier
from .exceptions import CollapseWarning, FairnessWarning, InfluenceSolveWarning
from .methods import (
    AdversarialClassifier,
    ERMClassifier,
    FairerClassifier,
    FairMixupClassifier,
    FairRegClassifier,
    GCMClassifier,
    RunnerClassifier,
)
from .weighting import (
    FairIFReweighter,
    InfluencePruner,
    KamiranCaldersReweighter,
    ReweightedClassifier,
)

__version__ = "0.2.0.dev0"

__all__ = [
    "FairBatch",
    "FairNetClassifier",
    "FairPenaltyClassifier",
    "FairnessWarning",
    "CollapseWarning",
    "InfluenceSolveWarning",
    "ERMClassifier",
    "FairRegClassifier",
    "FairMixupClassifier",
    "AdversarialClassifier",
    "GCMClassifier",
    "FairerClassifier",
    "RunnerClassifier",
    "FairIFReweighter",
    "KamiranCaldersReweighter",
    "ReweightedClassifier",
    "InfluencePruner",
]
