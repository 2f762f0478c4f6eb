# SPDX-License-Identifier: BSD-3-Clause
"""In-processing methods: one small class each on :class:`~skfairnn.FairNetClassifier`."""

from .adversarial import AdversarialClassifier
from .erm import ERMClassifier
from .fairreg import FairRegClassifier

__all__ = ["AdversarialClassifier", "ERMClassifier", "FairRegClassifier"]
