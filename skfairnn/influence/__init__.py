# SPDX-License-Identifier: BSD-3-Clause
"""Influence-function machinery on :mod:`torch.func`, and the fairness influence scores.

Building blocks for influence-based weighting (FairIF): a stateless view of a
trained network (:class:`FunctionalModel`, optionally restricted to its last
layers), per-sample loss gradients (``vmap(grad)``), streamed gradient–vector
dot products, Hessian-vector products and inverse-HVP solvers (LiSSA,
conjugate gradients, exact) with a check of their residual, and the choice of
a positive semi-definite curvature for networks (:func:`resolve_curvature`).

Empirical-NTK products (:func:`ntk_weighted_sum`, :func:`ntk_matrix`,
:func:`ntk_diagonal`) and the scores of training rows built on them: the
fairness influence scores of Wang, Wang & Liu (ICML 2022;
:func:`constraint_gradient`, :func:`fairness_influence_scores`,
:func:`pairwise_fairness_influence`, also exported by
:mod:`skfairnn.diagnostics`) and the loss-gradient norms
(:func:`loss_gradient_norms`) that :class:`~skfairnn.InfluencePruner` ranks
rows by.

Nothing here forms an ``n × P`` or ``n × n`` matrix unless asked to
(:func:`per_sample_grads`, :func:`dense_hessian`, :func:`ntk_matrix` are for
small problems).
"""

from ._fairness import (
    AGGREGATES,
    RELAXED,
    SURROGATES,
    constraint_gradient,
    fairness_influence_scores,
    pairwise_fairness_influence,
)
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
from ._ntk import (
    OUTPUTS,
    loss_gradient_norms,
    network_outputs,
    ntk_diagonal,
    ntk_matrix,
    ntk_weighted_sum,
)

__all__ = [
    "AGGREGATES",
    "CHECK_ROWS",
    "CURVATURES",
    "FunctionalModel",
    "INVERSE_HVP_METHODS",
    "OUTPUTS",
    "RELAXED",
    "SURROGATES",
    "SolveCheck",
    "bce_with_logits",
    "constraint_gradient",
    "dense_hessian",
    "estimate_top_eigenvalue",
    "fairness_influence_scores",
    "grad_dot",
    "hvp",
    "inverse_hvp",
    "inverse_hvp_check",
    "iter_chunks",
    "iter_per_sample_grads",
    "last_layer_parameters",
    "logits_are_affine",
    "loss_gradient_norms",
    "mean_loss_grad",
    "network_outputs",
    "ntk_diagonal",
    "ntk_matrix",
    "ntk_weighted_sum",
    "pairwise_fairness_influence",
    "per_sample_grads",
    "resolve_curvature",
]
