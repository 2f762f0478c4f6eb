# SPDX-License-Identifier: BSD-3-Clause
"""In-processing methods: one small class each on :class:`~skfairnn.FairNetClassifier`."""

from .erm import ERMClassifier
from .fairreg import FairRegClassifier
from .runner import RunnerClassifier

__all__ = ["ERMClassifier", "FairRegClassifier", "RunnerClassifier"]
