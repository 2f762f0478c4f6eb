# SPDX-License-Identifier: BSD-3-Clause
"""Influence-function machinery on :mod:`torch.func`.

Building blocks for influence-based weighting (FairIF) and fairness influence
scores: a stateless view of a trained network (:class:`FunctionalModel`,
optionally restricted to its last layers), per-sample loss gradients
(``vmap(grad)``), streamed gradient–vector dot products, Hessian-vector
products and inverse-HVP solvers (LiSSA, conjugate gradients, exact) with a
check of their residual, and the choice of a positive semi-definite curvature
for networks (:func:`resolve_curvature`).
Nothing here forms an ``n × P`` or ``n × n`` matrix unless asked to
(:func:`per_sample_grads`, :func:`dense_hessian` are for small problems).
"""

from ._functional import (
    FunctionalModel,
    bce_with_logits,
    iter_chunks,
    last_layer_parameters,
)
from ._grads import grad_dot, iter_per_sample_grads, mean_loss_grad, per_sample_grads
from ._hessian import (
    CHECK_ROWS,
    CURVATURES,
    INVERSE_HVP_METHODS,
    SolveCheck,
    dense_hessian,
    estimate_top_eigenvalue,
    hvp,
    inverse_hvp,
    inverse_hvp_check,
    logits_are_affine,
    resolve_curvature,
)
from ._ntk import network_outputs, ntk_diagonal, ntk_matrix, ntk_weighted_sum

__all__ = [
    "CHECK_ROWS",
    "CURVATURES",
    "FunctionalModel",
    "INVERSE_HVP_METHODS",
    "SolveCheck",
    "bce_with_logits",
    "dense_hessian",
    "estimate_top_eigenvalue",
    "grad_dot",
    "hvp",
    "inverse_hvp",
    "inverse_hvp_check",
    "iter_chunks",
    "iter_per_sample_grads",
    "last_layer_parameters",
    "logits_are_affine",
    "mean_loss_grad",
    "network_outputs",
    "ntk_diagonal",
    "ntk_matrix",
    "ntk_weighted_sum",
    "per_sample_grads",
    "resolve_curvature",
]
