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

__all__ = ["Hidden", "Interval", "StrOptions", "validate_parameter_constraints"]
