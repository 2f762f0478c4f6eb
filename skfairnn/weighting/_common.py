# SPDX-License-Identifier: BSD-3-Clause
"""Shared checks of the sample weighters."""

from __future__ import annotations

from sklearn.utils.validation import has_fit_parameter

__all__ = ["check_accepts_sample_weight"]

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
