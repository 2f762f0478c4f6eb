# SPDX-License-Identifier: BSD-3-Clause
"""FAIRER's decision-rationale maths: first-order importance and a safe cosine.

Used by :class:`~skfairnn.FairerClassifier` (Eq. 8–9) and by the neuron-parity
diagnostics (:mod:`skfairnn.diagnostics`).
"""

from __future__ import annotations

import torch

from ._activations import unit_importance

__all__ = ["taylor_importance", "cell_taylor_importances", "scaled_cosine", "cosine_matrix"]


def taylor_importance(weight: torch.Tensor, grad: torch.Tensor, granularity: str) -> torch.Tensor:
    r"""First-order importance :math:`(g \cdot w)^2` (FAIRER Eq. 8), flattened.

    ``granularity="parameter"``: one score per weight element (the paper);
    ``"unit"``: summed over each output unit's fan-in (and kernel), one score
    per neuron or filter (the authors' code).
    """
    if granularity == "unit":
        return unit_importance(weight, grad)
    return (weight * grad).square().reshape(-1)


def cell_taylor_importances(
    weight: torch.Tensor, grads: torch.Tensor, granularity: str
) -> torch.Tensor:
    """:func:`taylor_importance` of every cell at once: one row per cell.

    ``grads`` stacks the cells' gradients w.r.t. ``weight`` along a first
    axis, shape ``(n_cells, *weight.shape)``; the result has shape
    ``(n_cells, n_scores)``.
    """
    terms = (weight * grads).square()
    if granularity == "unit":
        return terms.flatten(2).sum(2)
    return terms.flatten(1)


def _unit_max(v: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """``v`` divided by its (detached) largest magnitude; unchanged if that is below ``tiny``.

    ``dim``: one scale per slice along ``dim`` (per row for ``dim=-1``).
    """
    magnitude = v.detach().abs()
    scale = magnitude.max() if dim is None else magnitude.amax(dim, keepdim=True)
    return v / torch.where(scale >= torch.finfo(v.dtype).tiny, scale, torch.ones_like(scale))


def scaled_cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine similarity that stays finite, with a finite gradient, for tiny or zero vectors.

    Each vector is first divided by its (detached) largest magnitude, which
    leaves the cosine and its gradient unchanged but avoids underflow of the
    squared norms. An all-zero (or subnormal) vector is left unscaled, so it
    gives a cosine of 0 and, through the ``eps`` in the norms, a finite
    gradient (scaling it by ``1 / tiny`` would overflow the gradient).
    """
    a, b = _unit_max(a), _unit_max(b)
    eps = torch.finfo(a.dtype).eps
    return (a * b).sum() / ((a.square().sum() + eps).sqrt() * (b.square().sum() + eps).sqrt())


def cosine_matrix(rows: torch.Tensor) -> torch.Tensor:
    r""":func:`scaled_cosine` of every pair of rows of ``rows`` (shape ``(k, d)``), as ``(k, k)``.

    Each row is scaled as in :func:`scaled_cosine`; entry ``(a, b)`` is then
    :math:`G_{ab} / \sqrt{(G_{aa} + \epsilon)(G_{bb} + \epsilon)}` with
    :math:`G` the Gram matrix of the scaled rows, which is
    ``scaled_cosine(rows[a], rows[b])`` up to rounding. One matrix product
    replaces a cosine per pair (and the squared norms come from its
    diagonal), and its backward writes each row's gradient once.
    """
    rows = _unit_max(rows, dim=-1)
    gram = rows @ rows.T
    norms = (gram.diagonal() + torch.finfo(rows.dtype).eps).sqrt()
    return gram / (norms[:, None] * norms[None, :])
