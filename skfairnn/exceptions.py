# SPDX-License-Identifier: BSD-3-Clause
"""Exceptions and warnings raised by skfairnn."""

from sklearn.exceptions import NotFittedError

__all__ = ["SkfairnnError", "NotFittedError", "FairnessWarning", "InfluenceSolveWarning"]


class SkfairnnError(Exception):
    """Base class for skfairnn's own errors."""


class FairnessWarning(UserWarning):
    """A fit ran without a fairness term, or a fairness term could not act."""


class InfluenceSolveWarning(FairnessWarning):
    """An inverse-Hessian-vector product behind influence-based weights is unreliable.

    Raised by :class:`~skfairnn.FairIFReweighter` (and
    :func:`~skfairnn.weighting.fairif.tpr_tnr_gap_influence`) when the solution
    ``u`` of ``(H + δ I) u = g`` has a large relative residual or negative
    curvature along it (:func:`~skfairnn.influence.inverse_hvp_check`), so the
    influence estimates and the weights solved from them cannot be trusted.
    """
