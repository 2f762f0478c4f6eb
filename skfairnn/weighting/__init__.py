# SPDX-License-Identifier: BSD-3-Clause
"""Sample weighters and the meta-estimator that trains with their weights.

A *weighter* is a scikit-learn estimator whose ``fit(X, y, *,
sensitive_features=None, sample_weight=None)`` sets ``sample_weight_`` (one
weight per input row); :class:`ReweightedClassifier` fits a weighter and then
any classifier that accepts ``sample_weight``.

Every public module here is imported and its ``__all__`` re-exported
(:func:`~skfairnn.utils.discovery.export_public_names`).
"""

from ..utils.discovery import export_public_names

__all__ = export_public_names(__name__, __path__, globals())
