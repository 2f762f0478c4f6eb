# SPDX-License-Identifier: BSD-3-Clause
"""In-processing methods: one small class each on :class:`~skfairnn.FairNetClassifier`."""

from .adversarial import AdversarialClassifier
from .erm import ERMClassifier
from .fair_mixup import FairMixupClassifier
from .fairer import FairerClassifier
from .fairreg import FairRegClassifier
from .gcm import GCMClassifier
from .runner import RunnerClassifier

__all__ = [
    "AdversarialClassifier",
    "ERMClassifier",
    "FairMixupClassifier",
    "FairRegClassifier",
    "FairerClassifier",
    "GCMClassifier",
    "RunnerClassifier",
]
