# SPDX-License-Identifier: BSD-3-Clause
"""FAIRER's decision-rationale maths: first-order importance and a safe cosine.

Used by :class:`~skfairnn.FairerClassifier` (Eq. 8–9) and by the neuron-parity
diagnostics (:mod:`skfairnn.diagnostics`).
"""

from __future__ import annotations

import torch

from ._activations import unit_importance

__all__ = ["taylor_importance", "scaled_cosine"]


def taylor_importance(weight: torch.Tensor, grad: torch.Tensor, granularity: str) -> torch.Tensor:
    r"""First-order importance :math:`(g \cdot w)^2` (FAIRER Eq. 8), flattened.

    ``granularity="parameter"``: one score per weight element (the paper);
    ``"unit"``: summed over each output unit's fan-in (and kernel), one score
    per neuron or filter (the authors' code).
    """
    if granularity == "unit":
        return unit_importance(weight, grad)
    return (weight * grad).square().reshape(-1)


def _unit_max(v: torch.Tensor) -> torch.Tensor:
    """``v`` divided by its (detached) largest magnitude; unchanged if that is below ``tiny``."""
    scale = v.detach().abs().max()
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
