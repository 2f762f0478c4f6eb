# SPDX-License-Identifier: BSD-3-Clause
"""FAIRER's decision-rationale maths: first-order importance and a safe cosine.

Used by :class:`~skfairnn.FairerClassifier` (Eq. 8–9) and by the neuron-parity
diagnostics (:mod:`skfairnn.diagnostics`).
"""

from __future__ import annotations

import torch

__all__ = ["resolve_layers", "taylor_importance", "scaled_cosine"]


def resolve_layers(module: torch.nn.Module, layers) -> list[tuple[str, torch.nn.Module]]:
    """``(name, layer)`` pairs: ``find_layers(module)`` or the layers named in ``layers``.

    Raises
    ------
    ValueError
        If a name is not a submodule of ``module`` or has no ``weight`` tensor.
    """
    from .modules import find_layers

    if layers is None:
        return find_layers(module)
    named = dict(module.named_modules())
    missing = [name for name in layers if name not in named]
    weightless = [
        name
        for name in layers
        if name in named and not isinstance(getattr(named[name], "weight", None), torch.Tensor)
    ]
    if missing or weightless or not layers:
        raise ValueError(
            f"layers must name submodules of {type(module).__name__} that have a weight "
            f"tensor; unknown: {missing}, without weight: {weightless}. Weighted layers: "
            f"{[name for name, _ in find_layers(module)]}."
        )
    return [(name, named[name]) for name in layers]


def taylor_importance(weight: torch.Tensor, grad: torch.Tensor, granularity: str) -> torch.Tensor:
    r"""First-order importance :math:`(g \cdot w)^2` (FAIRER Eq. 8), flattened.

    ``granularity="parameter"``: one score per weight element (the paper);
    ``"unit"``: summed over each output unit's fan-in (and kernel), one score
    per neuron or filter (the authors' code).
    """
    score = (weight * grad).square()
    if granularity == "unit":
        return score.reshape(score.shape[0], -1).sum(1)
    return score.reshape(-1)


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
