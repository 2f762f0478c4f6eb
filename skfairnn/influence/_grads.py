# SPDX-License-Identifier: BSD-3-Clause
"""Per-sample loss gradients and their dot products with parameter vectors.

Influence functions need ``∇θ ℓ(z_i, θ*)ᵀ u`` for every training row ``i`` and a
few fixed vectors ``u`` (Eq. 8–9 of FairIF). :func:`grad_dot` streams the rows in
chunks and never holds an ``n × P`` matrix. Its default ``method="jvp"`` uses
the chain rule ``∇θ ℓ_i ᵀ u = ℓ'(f_i, y_i) · (∂f_i/∂θ) u``: one forward-mode
Jacobian-vector product of the logits per chunk, about the cost of two forward
passes, whatever ``P``. ``method="vmap"`` forms the chunk's per-sample
gradients with ``vmap(grad(...))`` (the generic route, as in opacus'
functorch mode) and multiplies; both give the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.func import grad, jvp, vmap

from ._functional import FunctionalModel, LossFn, bce_with_logits, iter_chunks

__all__ = ["per_sample_grads", "iter_per_sample_grads", "grad_dot", "mean_loss_grad"]

GRAD_DOT_METHODS = ("jvp", "vmap")


def _targets(model: FunctionalModel, y) -> torch.Tensor:
    return model.to_tensor(y)


def _single_loss(model: FunctionalModel, loss: LossFn):
    """Loss of one row as a function of the parameters (for ``vmap(grad)``)."""

    def loss_one(params, x, target):
        logits = model.logits(params, x.unsqueeze(0))
        return loss(logits, target.unsqueeze(0)).sum()

    return loss_one


def iter_per_sample_grads(
    model: FunctionalModel,
    X,
    y,
    *,
    loss: LossFn = bce_with_logits,
    chunk_size: int | None = 1024,
) -> Iterator[tuple[slice, torch.Tensor]]:
    """Per-sample loss gradients, one chunk of rows at a time.

    Yields
    ------
    rows : slice
        The rows of the chunk.
    grads : Tensor of shape (rows, P)
        ``∇θ ℓ(z_i, θ)`` of each row, flattened over the variable parameters.
    """
    X, y = model.to_tensor(X), _targets(model, y)
    per_row = vmap(grad(_single_loss(model, loss)), in_dims=(None, 0, 0))
    for rows in iter_chunks(len(X), chunk_size):
        yield rows, model.flatten(per_row(model.params, X[rows], y[rows]))


def per_sample_grads(
    model: FunctionalModel,
    X,
    y,
    *,
    loss: LossFn = bce_with_logits,
    chunk_size: int | None = 1024,
) -> torch.Tensor:
    """All per-sample loss gradients as an ``(n, P)`` matrix.

    Meant for small problems and tests; large ones should stream with
    :func:`iter_per_sample_grads` or use :func:`grad_dot`.

    Parameters
    ----------
    model : FunctionalModel
        The network at the trained parameters.
    X : array-like or Tensor of shape (n, ...)
        Inputs.
    y : array-like or Tensor of shape (n,)
        Targets (0/1 for the default loss).
    loss : callable, default=bce_with_logits
        Per-row loss ``loss(logits, target) -> (n,)``.
    chunk_size : int or None, default=1024
        Rows per vectorised call.

    Returns
    -------
    Tensor of shape (n, P)
    """
    chunks = [g for _, g in iter_per_sample_grads(model, X, y, loss=loss, chunk_size=chunk_size)]
    return torch.cat(chunks)


def _logit_derivative(loss: LossFn, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``∂ℓ(f_i, y_i)/∂f_i`` for each row (each row's loss depends on its own logit)."""
    with torch.enable_grad():
        logits = logits.detach().requires_grad_(True)
        (derivative,) = torch.autograd.grad(loss(logits, target).sum(), logits)
    return derivative


def _grad_dot_jvp(model, loss, X, y, tangents) -> torch.Tensor:
    """``(rows, k)`` dot products through one batched JVP of the logits."""

    def logits_fn(params):
        return model.logits(params, X)

    def directional(tangent):
        return jvp(logits_fn, (model.params,), (tangent,))

    logits, directions = vmap(directional, out_dims=(None, 0))(tangents)
    return (directions * _logit_derivative(loss, logits, y)).T


def grad_dot(
    model: FunctionalModel,
    X,
    y,
    vectors: torch.Tensor,
    *,
    loss: LossFn = bce_with_logits,
    chunk_size: int | None = 8192,
    method: str = "jvp",
) -> torch.Tensor:
    """Dot products of every row's loss gradient with one or more vectors.

    Computes ``G u_j`` for ``G`` the ``(n, P)`` per-sample gradient matrix
    without forming it: rows are processed ``chunk_size`` at a time.

    Parameters
    ----------
    model : FunctionalModel
        The network at the trained parameters.
    X : array-like or Tensor of shape (n, ...)
        Inputs.
    y : array-like or Tensor of shape (n,)
        Targets.
    vectors : Tensor of shape (P,) or (k, P)
        Parameter-space vectors ``u_j`` (flat, see :meth:`FunctionalModel.flatten`).
    loss : callable, default=bce_with_logits
        Per-row loss ``loss(logits, target) -> (n,)``; it must depend on the
        parameters only through the logits (true for any loss of a network
        output).
    chunk_size : int or None, default=8192
        Rows per chunk; memory is ``O(chunk_size · k)`` for ``"jvp"`` and
        ``O(chunk_size · P)`` for ``"vmap"``.
    method : {"jvp", "vmap"}, default="jvp"
        ``"jvp"``: forward-mode product of the logits' Jacobian with ``u``
        times ``ℓ'``; ``"vmap"``: explicit per-sample gradients of the chunk.

    Returns
    -------
    Tensor of shape (n,) or (n, k)
        ``out[i, j] = ∇θ ℓ(z_i)ᵀ u_j``.
    """
    if method not in GRAD_DOT_METHODS:
        raise ValueError(f"method must be one of {list(GRAD_DOT_METHODS)}; got {method!r}.")
    single = vectors.dim() == 1
    vectors = vectors.reshape(-1, model.n_params).to(device=model.device, dtype=model.dtype)
    X, y = model.to_tensor(X), _targets(model, y)
    tangents = model.unflatten(vectors)
    out = []
    for rows in iter_chunks(len(X), chunk_size):
        if method == "jvp":
            out.append(_grad_dot_jvp(model, loss, X[rows], y[rows], tangents))
        else:
            chunk = next(iter_per_sample_grads(model, X[rows], y[rows], loss=loss, chunk_size=None))
            out.append(chunk[1] @ vectors.T)
    result = torch.cat(out).detach()
    return result[:, 0] if single else result


def mean_loss_grad(
    model: FunctionalModel,
    X,
    y,
    *,
    weights=None,
    loss: LossFn = bce_with_logits,
    chunk_size: int | None = 8192,
) -> torch.Tensor:
    """Flat gradient of the weighted mean loss ``(1/n) Σ_i w_i ℓ(z_i)``."""
    X, y = model.to_tensor(X), _targets(model, y)
    weights = torch.ones(len(X)) if weights is None else weights
    weights = model.to_tensor(weights)
    total = torch.zeros(model.n_params, device=model.device, dtype=model.dtype)

    def chunk_loss(params, X_chunk, y_chunk, w_chunk):
        return (w_chunk * loss(model.logits(params, X_chunk), y_chunk)).sum()

    for rows in iter_chunks(len(X), chunk_size):
        total += model.flatten(grad(chunk_loss)(model.params, X[rows], y[rows], weights[rows]))
    return total / len(X)
