# SPDX-License-Identifier: BSD-3-Clause
"""Utilities. :func:`all_estimators` is public; the underscore modules are internal."""

from .discovery import all_estimators

__all__ = ["all_estimators"]
