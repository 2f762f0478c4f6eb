# SPDX-License-Identifier: BSD-3-Clause
"""Pre-processing weighters: fit on the data, expose ``sample_weight_``."""

from .pruning import HingeLoss, InfluencePruner

__all__ = ["HingeLoss", "InfluencePruner"]
