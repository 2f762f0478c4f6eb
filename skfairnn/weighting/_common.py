# SPDX-License-Identifier: BSD-3-Clause
"""Shared checks of the sample weighters."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import has_fit_parameter

from ..utils._sklearn import check_sample_weight

__all__ = ["check_accepts_sample_weight", "check_user_weights"]

_MSG_NO_SAMPLE_WEIGHT = (
    "{owner} needs an estimator whose fit accepts sample_weight, because the weights it "
    "computes are applied through it; {estimator} has no sample_weight parameter in fit. "
    "Use an estimator such as LogisticRegression, HistGradientBoostingClassifier or any "
    "skfairnn classifier."
)


def check_accepts_sample_weight(estimator, owner: str) -> None:
    """Raise ``TypeError`` unless ``estimator.fit`` takes ``sample_weight``."""
    if not has_fit_parameter(estimator, "sample_weight"):
        raise TypeError(
            _MSG_NO_SAMPLE_WEIGHT.format(owner=owner, estimator=type(estimator).__name__)
        )


def check_user_weights(sample_weight, X) -> np.ndarray:
    """User weights as float64, validated, normalised to mean 1 (ones if None)."""
    weight = check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    total = weight.sum()
    if total <= 0:
        raise ValueError("sample_weight sums to zero; at least one row needs a positive weight.")
    return weight * (len(weight) / total)
