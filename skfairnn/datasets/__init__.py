# SPDX-License-Identifier: BSD-3-Clause
"""Fairness benchmark datasets and synthetic data with controlled bias.

Fetchers return a :class:`~sklearn.utils.Bunch` with ``data``, ``target`` (0/1),
``sensitive_features``, ``frame``, ``feature_names``, ``target_names`` and ``DESCR``.
Raw files are looked up in ``<data_home>/<dataset>/`` (``data_home`` argument, else
``$SKFAIRNN_DATA_HOME``, else ``~/skfairnn_data``), then in the copies bundled with
the package (Adult, COMPAS, German), and downloaded with a sha256 check otherwise.
"""

from ._adult import fetch_adult
from ._bank import fetch_bank
from ._base import get_data_home
from ._compas import fetch_compas
from ._credit_default import fetch_credit_default
from ._fair_mixup import load_adult_fair_mixup
from ._german import fetch_german
from ._lsac import fetch_lsac
from ._remote import ChecksumError
from ._synthetic import make_biased_classification, make_colored_digits

__all__ = [
    "ChecksumError",
    "fetch_adult",
    "fetch_bank",
    "fetch_compas",
    "fetch_credit_default",
    "fetch_german",
    "fetch_lsac",
    "get_data_home",
    "load_adult_fair_mixup",
    "make_biased_classification",
    "make_colored_digits",
]
