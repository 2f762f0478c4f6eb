# SPDX-License-Identifier: BSD-3-Clause
"""The one place where skfairnn touches private scikit-learn API.

scikit-learn's parameter validator is private; keeping the import here means a
change in scikit-learn is mended in one file.
"""

from sklearn.utils._param_validation import (  # noqa: F401  (re-exported)
    Hidden,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _num_samples as num_samples  # noqa: F401

__all__ = [
    "Hidden",
    "Interval",
    "StrOptions",
    "num_samples",
    "validate_parameter_constraints",
]
