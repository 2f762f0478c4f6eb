# SPDX-License-Identifier: BSD-3-Clause
"""In-processing methods: one small class each on :class:`~skfairnn.FairNetClassifier`.

Every public module here is imported and its ``__all__`` re-exported
(:func:`~skfairnn.utils.discovery.export_public_names`): a new method is a new
module with an ``__all__``, and no list needs editing.
"""

from ..utils.discovery import export_public_names

__all__ = export_public_names(__name__, __path__, globals())
