# SPDX-License-Identifier: BSD-3-Clause
"""skfairnn: fairness-aware deep-learning classifiers for scikit-learn."""

__version__ = "0.1.0"
