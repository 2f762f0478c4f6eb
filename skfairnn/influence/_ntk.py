# SPDX-License-Identifier: BSD-3-Clause
"""Empirical neural tangent kernel (NTK) products without the kernel matrix.

The empirical NTK of a scalar-output network :math:`f(x;\\theta)` is
:math:`\\Theta(x_i, x_j) = \\nabla_\\theta f(x_i) \\cdot \\nabla_\\theta f(x_j)`
(Eq. 7 of Wang et al., ICML 2022). The fairness influence scores need the
kernel only through weighted row sums :math:`\\sum_j c_j \\Theta(x_i, x_j)`, and

.. math::

    \\sum_j c_j \\Theta(x_i, x_j)
    = \\nabla_\\theta f(x_i) \\cdot \\nabla_\\theta \\Big(\\sum_j c_j f(x_j)\\Big),

so one gradient ``g`` (a backward pass over the data, in chunks) and one
forward-mode Jacobian-vector product per chunk of rows (``torch.func.jvp`` of
the batched output in the direction ``g``) give all ``n`` sums: linear in
``n``, memory of one chunk, no ``n × n`` matrix and no per-sample gradients.

:func:`ntk_matrix` (explicit kernel from per-sample gradients,
``vmap(grad)``) is the small-data reference; :func:`ntk_diagonal` gives
:math:`\\Theta(x_i, x_i) = \\|\\nabla_\\theta f(x_i)\\|^2` in chunks, and
:func:`loss_gradient_norms` the per-row loss-gradient norms built on it (the
pruner's accuracy ranking).

All functions evaluate the module in ``eval`` mode (dropout off, batch-norm
running statistics) and restore its mode afterwards; tensors stay on the
module's device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import nn
from torch.func import functional_call, grad, jvp, vmap

from ..modules import as_logits, eval_mode
from ._functional import iter_chunks

__all__ = [
    "OUTPUTS",
    "functional_output",
    "loss_gradient_norms",
    "network_outputs",
    "ntk_diagonal",
    "ntk_matrix",
    "ntk_weighted_sum",
]

#: what ``f`` is: the network's logit (the paper's f) or the probability sigmoid(logit)
OUTPUTS = ("logit", "proba")


def functional_output(
    module: nn.Module, output: Literal["logit", "proba"] = "logit"
) -> tuple[dict, Callable]:
    """Detached trainable parameters and ``f(params, X) -> (n,)``.

    Parameters
    ----------
    module : nn.Module
        Maps ``X`` to one logit per row (shape ``(n,)`` or ``(n, 1)``).
    output : {"logit", "proba"}, default="logit"
        ``"proba"`` composes the logit with the sigmoid.

    Returns
    -------
    params : dict of str to Tensor
        The parameters that require gradients, detached.
    f : callable
        ``f(params, X)`` evaluates the module functionally (buffers fixed).
    """
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}; got {output!r}.")
    params = {k: v.detach() for k, v in module.named_parameters() if v.requires_grad}
    buffers = {k: v.detach() for k, v in module.named_buffers()}

    def f(p: dict, X: torch.Tensor) -> torch.Tensor:
        out = as_logits(functional_call(module, (p, buffers), (X,)))
        return torch.sigmoid(out) if output == "proba" else out

    return params, f


def _as_tensor(X, device) -> torch.Tensor:
    return torch.as_tensor(X, dtype=torch.float32, device=device)


def _weighted_output_gradient(f, params, X, coef, chunk_size, device) -> dict:
    """``∇_θ Σ_j coef_j f(x_j)``, accumulated over chunks of rows."""
    total = {k: torch.zeros_like(v) for k, v in params.items()}
    for rows in iter_chunks(len(X), chunk_size):
        Xc = _as_tensor(X[rows], device)
        cc = _as_tensor(coef[rows], device)
        part = grad(lambda p, Xc=Xc, cc=cc: (f(p, Xc) * cc).sum())(params)
        for k in total:
            total[k] += part[k]
    return total


def ntk_weighted_sum(
    module: nn.Module,
    X,
    coef,
    *,
    X_query=None,
    output: Literal["logit", "proba"] = "logit",
    chunk_size: int = 4096,
) -> torch.Tensor:
    r"""Weighted NTK row sums :math:`\sum_j c_j\,\Theta(x_i, x_j)` for every query row.

    Computed as :math:`\nabla_\theta f(x_i)\cdot\nabla_\theta\sum_j c_j f(x_j)`: one
    gradient over ``X`` and one JVP per chunk of ``X_query``.

    Parameters
    ----------
    module : nn.Module
        Network with one output per row.
    X : array-like or Tensor of shape (n, ...)
        Rows ``j`` of the sum.
    coef : array-like or Tensor of shape (n,)
        Weights :math:`c_j`.
    X_query : array-like or Tensor of shape (m, ...), default=None
        Rows ``i``; ``None`` means ``X``.
    output : {"logit", "proba"}, default="logit"
        Network output ``f`` whose NTK is used.
    chunk_size : int, default=4096
        Rows per forward/backward pass (bounds memory; the result does not depend on it).

    Returns
    -------
    Tensor of shape (m,)
        On the module's device, float32.
    """
    device = next(module.parameters()).device
    X_query = X if X_query is None else X_query
    with eval_mode(module):
        params, f = functional_output(module, output)
        direction = _weighted_output_gradient(f, params, X, coef, chunk_size, device)
        parts = []
        for rows in iter_chunks(len(X_query), chunk_size):
            Xc = _as_tensor(X_query[rows], device)
            _, tangent = jvp(lambda p, Xc=Xc: f(p, Xc), (params,), (direction,))
            parts.append(tangent.detach())
    return torch.cat(parts) if parts else torch.zeros(0, device=device)


def _per_sample_output_grads(f, params, Xc) -> torch.Tensor:
    """Flattened :math:`\\nabla_\\theta f(x_i)` for each row of ``Xc``: shape (b, p)."""

    def single(p, x):
        return f(p, x.unsqueeze(0))[0]

    grads = vmap(grad(single), in_dims=(None, 0))(params, Xc)
    return torch.cat([g.reshape(len(Xc), -1) for g in grads.values()], dim=1)


def ntk_matrix(
    module: nn.Module,
    X1,
    X2=None,
    *,
    output: Literal["logit", "proba"] = "logit",
) -> torch.Tensor:
    """Explicit empirical NTK :math:`\\Theta(x_i, x_j)`, shape ``(n1, n2)``.

    Materialises per-sample gradients (``n × p``); meant for small sets and as
    the reference for :func:`ntk_weighted_sum`.
    """
    device = next(module.parameters()).device
    with eval_mode(module):
        params, f = functional_output(module, output)
        J1 = _per_sample_output_grads(f, params, _as_tensor(X1, device))
        J2 = J1 if X2 is None else _per_sample_output_grads(f, params, _as_tensor(X2, device))
    return (J1 @ J2.T).detach()


def ntk_diagonal(
    module: nn.Module,
    X,
    *,
    output: Literal["logit", "proba"] = "logit",
    chunk_size: int = 512,
) -> torch.Tensor:
    """:math:`\\Theta(x_i, x_i) = \\|\\nabla_\\theta f(x_i)\\|^2` for every row, in chunks."""
    device = next(module.parameters()).device
    with eval_mode(module):
        params, f = functional_output(module, output)
        parts = [
            _per_sample_output_grads(f, params, _as_tensor(X[rows], device)).square().sum(1)
            for rows in iter_chunks(len(X), chunk_size)
        ]
    return torch.cat(parts).detach() if parts else torch.zeros(0, device=device)


@torch.no_grad()
def network_outputs(
    module: nn.Module,
    X,
    *,
    output: Literal["logit", "proba"] = "logit",
    chunk_size: int = 4096,
) -> torch.Tensor:
    """``f(x_i)`` for every row (eval mode, in chunks), shape ``(n,)``."""
    device = next(module.parameters()).device
    with eval_mode(module):
        params, f = functional_output(module, output)
        parts = [f(params, _as_tensor(X[rows], device)) for rows in iter_chunks(len(X), chunk_size)]
    return torch.cat(parts) if parts else torch.zeros(0, device=device)


def loss_gradient_norms(
    module: nn.Module,
    X,
    target: torch.Tensor,
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    chunk_size: int = 4096,
) -> torch.Tensor:
    r"""GraNd score :math:`|\partial\ell/\partial f(x_i)|\,\|\nabla_\theta f(x_i)\|` of every row.

    The norm of the per-row loss gradient :math:`\|\nabla_\theta \ell(f(x_i), y_i)\|`
    of a one-logit network (chain rule; Paul et al., NeurIPS 2021), from the
    logit derivative of ``criterion`` and :func:`ntk_diagonal`.

    Parameters
    ----------
    module : nn.Module
        Network with one logit per row.
    X : array-like or Tensor of shape (n, ...)
        Rows.
    target : Tensor of shape (n,)
        Targets 0/1 (float), on the module's device.
    criterion : callable
        ``criterion(logits, target)``, e.g. a fitted net's ``criterion_``;
        its reduction (mean or sum) rescales every score alike.
    chunk_size : int, default=4096
        Rows per forward pass.

    Returns
    -------
    Tensor of shape (n,)
        On the module's device.
    """
    logits = network_outputs(module, X, chunk_size=chunk_size).requires_grad_()
    (dloss,) = torch.autograd.grad(criterion(logits, target.to(logits.dtype)).sum(), logits)
    diag = ntk_diagonal(module, X)
    return (dloss.abs() * diag.clamp_min(0).sqrt()).detach()
