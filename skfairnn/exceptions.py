# SPDX-License-Identifier: BSD-3-Clause
"""Exceptions and warnings raised by skfairnn."""

from sklearn.exceptions import NotFittedError

__all__ = ["SkfairnnError", "NotFittedError", "FairnessWarning"]


class SkfairnnError(Exception):
    """Base class for skfairnn's own errors."""


class FairnessWarning(UserWarning):
    """A fit ran without a fairness term, or a fairness term could not act."""
