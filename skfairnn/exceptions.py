# SPDX-License-Identifier: BSD-3-Clause
"""Exceptions and warnings raised by skfairnn."""

from sklearn.exceptions import NotFittedError

__all__ = [
    "SkfairnnError",
    "NotFittedError",
    "FairnessWarning",
    "CollapseWarning",
    "CompileWarning",
    "InfluenceSolveWarning",
]


class SkfairnnError(Exception):
    """Base class for skfairnn's own errors."""


class FairnessWarning(UserWarning):
    """A fit ran without a fairness term, or a fairness term could not act."""


class CollapseWarning(UserWarning):
    """A fitted network is (close to) a constant classifier.

    Raised at the end of ``fit`` when the training scores have lost their
    ranking (training AUC at most :data:`skfairnn._decision.COLLAPSE_AUC`) or
    every training row gets the same predicted class. The message names the
    parameters to change (``fairness_weight``, ``sampling``,
    ``prior_correction``). Turn it into an error with
    ``warnings.simplefilter("error", CollapseWarning)``.
    """


class CompileWarning(UserWarning):
    """``compile=True`` was asked for and the network trains eagerly instead.

    Raised when the network is initialised, where ``torch.compile`` cannot
    run on this machine (no C++ compiler for inductor on the CPU, no Triton
    on CUDA, an unsupported Python) or cannot capture the method's training
    step (double backward: GCM, FAIRER, Fair Mixup; activation hooks:
    RUNNER). The fit itself runs as with ``compile=False``.
    """


class InfluenceSolveWarning(FairnessWarning):
    """An inverse-Hessian-vector product behind influence-based weights is unreliable.

    Raised by :class:`~skfairnn.FairIFReweighter` (and
    :func:`~skfairnn.weighting.fairif.tpr_tnr_gap_influence`) when the solution
    ``u`` of ``(H + δ I) u = g`` has a large relative residual or negative
    curvature along it (:func:`~skfairnn.influence.inverse_hvp_check`), so the
    influence estimates and the weights solved from them cannot be trusted.
    """
