# SPDX-License-Identifier: BSD-3-Clause
"""A stateless view of a network for :mod:`torch.func` transforms.

:class:`FunctionalModel` wraps a trained ``nn.Module`` whose output is one
logit per row. It holds detached copies of the parameters that influence
computations treat as variables (all of them, or those of the last layers),
maps flat parameter vectors to and from name → tensor dicts, and evaluates the
logits with :func:`torch.func.functional_call`, the other parameters and the
buffers held fixed. Every routine of :mod:`skfairnn.influence` works on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from ..modules import as_logits, eval_mode, find_layers

__all__ = [
    "FunctionalModel",
    "LossFn",
    "bce_with_logits",
    "last_layer_parameters",
    "iter_chunks",
]

#: per-row loss of logits ``(n,)`` and float targets ``(n,)``, returning ``(n,)``
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def bce_with_logits(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-row binary cross-entropy on logits (the loss of every skfairnn net)."""
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none")


def last_layer_parameters(module: nn.Module, n_layers: int) -> list[str]:
    """Names of the parameters of the last ``n_layers`` weighted layers.

    Layers are found by :func:`skfairnn.modules.find_layers` (``nn.Linear`` and
    ``nn.Conv2d`` in registration order); the last one is the output layer.

    Parameters
    ----------
    module : nn.Module
        The network.
    n_layers : int
        How many layers, counted from the output.

    Returns
    -------
    list of str
        Qualified parameter names (keys of ``module.named_parameters()``).
    """
    if n_layers < 1:
        raise ValueError(f"n_layers must be a positive integer; got {n_layers!r}.")
    layers = find_layers(module)[-n_layers:]
    prefixes = [name for name, _ in layers]
    return [
        name
        for name, _ in module.named_parameters()
        if any(name.startswith(prefix + ".") for prefix in prefixes)
    ]


def iter_chunks(n_rows: int, chunk_size: int | None) -> Iterator[slice]:
    """Consecutive row slices of at most ``chunk_size`` rows (all rows if None)."""
    step = n_rows if not chunk_size else int(chunk_size)
    for start in range(0, n_rows, max(step, 1)):
        yield slice(start, min(start + step, n_rows))


class FunctionalModel:
    """Stateless wrapper of a network for influence computations.

    Parameters
    ----------
    module : nn.Module
        Trained network returning one logit per row (shape ``(n,)`` or
        ``(n, 1)``). It is evaluated in ``eval`` mode (dropout off, batch
        norm on running statistics).
    parameters : iterable of str, default=None
        Names of the parameters treated as variables; ``None`` takes every
        parameter that requires a gradient. The rest stay fixed (use
        :func:`last_layer_parameters` to restrict to the last layers).

    Attributes
    ----------
    params : dict of str to Tensor
        Detached copies of the variable parameters at the trained point.
    n_params : int
        Their total number of elements, ``P``.
    device, dtype : torch.device, torch.dtype
        Those of the parameters.
    """

    def __init__(self, module: nn.Module, parameters: Iterable[str] | None = None):
        named = dict(module.named_parameters())
        if parameters is None:
            names = [name for name, p in named.items() if p.requires_grad]
        else:
            names = list(parameters)
            unknown = sorted(set(names) - set(named))
            if unknown:
                raise ValueError(
                    f"parameters {unknown} are not parameters of {type(module).__name__}; "
                    f"known: {sorted(named)}."
                )
        if not names:
            raise ValueError(f"{type(module).__name__} has no parameter to differentiate.")
        self.module = module
        self.params = {name: named[name].detach().clone() for name in names}
        self._frozen = {k: v.detach() for k, v in named.items() if k not in self.params}
        self._buffers = {k: v.detach() for k, v in module.named_buffers()}
        self._shapes = [p.shape for p in self.params.values()]
        self._sizes = [p.numel() for p in self.params.values()]
        self.n_params = sum(self._sizes)
        first = next(iter(self.params.values()))
        self.device, self.dtype = first.device, first.dtype

    def logits(self, params: dict[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
        """Logits ``(n,)`` of the rows ``X`` at the parameters ``params``."""
        with eval_mode(self.module):
            out = functional_call(self.module, (params, self._frozen, self._buffers), (X,))
        return as_logits(out)

    def flatten(self, tree: dict[str, torch.Tensor]) -> torch.Tensor:
        """Concatenate a name → tensor dict into flat vectors.

        Tensors with one extra leading dimension ``k`` (a batch of vectors)
        give a ``(k, P)`` matrix; plain parameter-shaped tensors give ``(P,)``.
        """
        parts = []
        for name, shape in zip(self.params, self._shapes, strict=True):
            value = tree[name]
            lead = value.shape[: value.dim() - len(shape)]
            parts.append(value.reshape(*lead, -1))
        return torch.cat(parts, dim=-1)

    def unflatten(self, vector: torch.Tensor) -> dict[str, torch.Tensor]:
        """Inverse of :meth:`flatten` for ``(P,)`` or ``(k, P)`` inputs."""
        if vector.shape[-1] != self.n_params:
            raise ValueError(
                f"vector has {vector.shape[-1]} entries in its last dimension; the model "
                f"has {self.n_params} variable parameters."
            )
        lead = vector.shape[:-1]
        pieces = torch.split(vector, self._sizes, dim=-1)
        return {
            name: piece.reshape(*lead, *shape)
            for name, piece, shape in zip(self.params, pieces, self._shapes, strict=True)
        }

    def to_tensor(self, data) -> torch.Tensor:
        """``data`` as a tensor of the parameters' dtype on their device."""
        return torch.as_tensor(data).to(device=self.device, dtype=self.dtype)
