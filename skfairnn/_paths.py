# SPDX-License-Identifier: BSD-3-Clause
"""Activation paths of a feed-forward network (FairNeuron's neural network slicing).

Used by :class:`~skfairnn.FairNeuronClassifier`. The network is a chain of
``nn.Linear`` layers :math:`f_0, \\dots, f_{L-1}` (the last one the output);
:math:`z_l` is the output of :math:`f_l` and :math:`x_l` its input, so
:math:`x_{l+1}` is the activation of :math:`z_l`.

The path of one sample (Gao et al. 2022, Sec. 4; the authors'
``get_path_set4``) is traced backwards from the output neuron with the largest
value. For every neuron :math:`j` of layer :math:`l \\ge 1` on the path, the
contributions of its incoming synapses are

.. math::

    c_{jk} = w^{(l)}_{jk}\\, s_k, \\qquad
    s = z_{l-1} \\ (\\text{``"pre"``, the code}) \\quad\\text{or}\\quad
    s = x_l \\ (\\text{``"post"``}),

and the synapses are taken in decreasing order of :math:`c_{jk}` until their
cumulative sum reaches :math:`\\gamma\\, z_{l,j}` (all of them if it never
does). The source neurons of the taken synapses are on the path of layer
:math:`l - 1`. The analysis stops at the first hidden layer: the path is a set
of synapses between hidden layers and into the output, and its neurons are
hidden neurons.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .modules import eval_mode

__all__ = [
    "CONTRIBUTIONS",
    "Paths",
    "linear_chain",
    "activation_paths",
    "path_signatures",
    "rare_path_mask",
    "rows_per_chunk",
]

#: which value of the source neuron a synapse's contribution multiplies
CONTRIBUTIONS = ("pre", "post")

_MSG_CHAIN = (
    "FairNeuron's path analysis needs a feed-forward stack of nn.Linear layers (each "
    "layer's input is the previous layer's activation); {module} {problem}. Use the "
    "default MLP or a module whose nn.Linear layers are applied in registration order."
)


@dataclass
class Paths:
    """The activation paths of a batch of samples.

    Attributes
    ----------
    synapses : list of BoolTensor
        ``synapses[l - 1][i, j, k]``: the synapse from neuron ``k`` of layer
        ``l - 1`` to neuron ``j`` of layer ``l`` is on sample ``i``'s path,
        for ``l = 1, ..., L - 1``.
    neurons : list of BoolTensor
        ``neurons[l][i, k]``: hidden neuron ``k`` of layer ``l`` is on the
        path, for the hidden layers ``l = 0, ..., L - 2``.
    """

    synapses: list[torch.Tensor]
    neurons: list[torch.Tensor]

    def neuron_mask(self) -> torch.Tensor:
        """The path's hidden neurons, all layers side by side: ``(n, sum of widths)``."""
        return torch.cat(self.neurons, dim=1)


def linear_chain(module: nn.Module) -> list[nn.Linear]:
    """The ``nn.Linear`` layers of ``module`` in registration order, checked to chain.

    Raises
    ------
    ValueError
        If there are fewer than two layers (no hidden neuron), a layer's
        ``in_features`` differs from the previous layer's ``out_features``,
        or the module holds convolution layers.
    """
    name = type(module).__name__
    if any(isinstance(m, nn.modules.conv._ConvNd) for m in module.modules()):
        raise ValueError(_MSG_CHAIN.format(module=name, problem="has convolution layers"))
    layers = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if len(layers) < 2:
        raise ValueError(
            _MSG_CHAIN.format(
                module=name, problem=f"has {len(layers)} nn.Linear layer(s), no hidden layer"
            )
        )
    for before, after in zip(layers, layers[1:]):
        if after.in_features != before.out_features:
            problem = (
                f"has a layer with in_features={after.in_features} after one with "
                f"out_features={before.out_features}"
            )
            raise ValueError(_MSG_CHAIN.format(module=name, problem=problem))
    return layers


def rows_per_chunk(layers: Sequence[nn.Linear], entries: int = 2**23) -> int:
    """Rows per :func:`activation_paths` call keeping ``(rows, out, in)`` near ``entries``."""
    return max(1, entries // max(layer.out_features * layer.in_features for layer in layers[1:]))


def _layer_values(module: nn.Module, layers: Sequence[nn.Linear], X: torch.Tensor):
    """Inputs and outputs of every layer in one evaluation-mode forward pass of ``X``."""
    inputs: dict[int, torch.Tensor] = {}
    outputs: dict[int, torch.Tensor] = {}

    def hook(index):
        def record(_module, args, output):
            inputs[index] = args[0].detach()
            outputs[index] = output.detach()

        return record

    handles = [layer.register_forward_hook(hook(i)) for i, layer in enumerate(layers)]
    try:
        with torch.no_grad(), eval_mode(module):
            module(X)
    finally:
        for handle in handles:
            handle.remove()
    if len(outputs) != len(layers):
        raise ValueError(
            _MSG_CHAIN.format(module=type(module).__name__, problem="did not call every layer")
        )
    return [inputs[i] for i in range(len(layers))], [outputs[i] for i in range(len(layers))]


def activation_paths(
    module: nn.Module,
    layers: Sequence[nn.Linear],
    X: torch.Tensor,
    gamma: float,
    contribution: str = "pre",
) -> Paths:
    """Trace the activation path of every row of ``X`` (see the module docstring).

    Parameters
    ----------
    module : nn.Module
        The network; ``layers`` are its ``nn.Linear`` layers (:func:`linear_chain`).
    layers : sequence of nn.Linear
    X : Tensor of shape (n, n_features)
    gamma : float
        :math:`\\gamma`, the fraction of a neuron's value its kept synapses
        must reach.
    contribution : {"pre", "post"}, default="pre"
        Source value of a contribution: the source layer's output before its
        activation (the authors' code hooks the ``nn.Linear`` outputs) or
        after it (the signal the synapse carries).

    Returns
    -------
    Paths
    """
    inputs, outputs = _layer_values(module, layers, X)
    n_layers = len(layers)
    top = outputs[-1].reshape(len(X), -1).argmax(dim=1)
    active = torch.zeros_like(outputs[-1].reshape(len(X), -1), dtype=torch.bool)
    active[torch.arange(len(X)), top] = True
    synapses: list[torch.Tensor] = [None] * (n_layers - 1)
    neurons: list[torch.Tensor] = [None] * (n_layers - 1)
    for layer in range(n_layers - 1, 0, -1):
        source = outputs[layer - 1] if contribution == "pre" else inputs[layer]
        weight = layers[layer].weight.detach()
        rows, targets = torch.nonzero(active, as_tuple=True)  # only the path's neurons
        contrib = weight[targets] * source[rows]  # (pairs, in)
        ordered, order = torch.sort(contrib, dim=1, descending=True)
        value = outputs[layer].reshape(len(X), -1)[rows, targets]
        reached = ordered.cumsum(dim=1) >= gamma * value.unsqueeze(1)
        n_in = contrib.shape[1]
        last = torch.where(reached.any(dim=1), reached.int().argmax(dim=1), n_in - 1)
        kept_sorted = torch.arange(n_in, device=X.device).unsqueeze(0) <= last.unsqueeze(1)
        kept = torch.zeros((len(X), weight.shape[0], n_in), dtype=torch.bool, device=X.device)
        kept[rows, targets] = torch.zeros_like(kept_sorted).scatter(1, order, kept_sorted)
        synapses[layer - 1] = kept
        active = kept.any(dim=1)
        neurons[layer - 1] = active
    return Paths(synapses, neurons)


def path_signatures(paths: Paths) -> list[bytes]:
    """One digest per row identifying its set of synapses (equal sets, equal digests)."""
    flat = torch.cat([s.flatten(1) for s in paths.synapses], dim=1).cpu().numpy()
    packed = np.packbits(flat, axis=1)
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in packed]


def rare_path_mask(signatures: Sequence[bytes], theta: float, groups=None) -> np.ndarray:
    """Rows whose path set is rare: count :math:`\\le \\max(\\theta\\,c_{\\max}, 1)`.

    :math:`c_{\\max}` is the count of the most frequent path set (the
    authors' ``sample_sort``). With ``groups``, sets are counted and compared
    within each group separately.
    """
    signatures = np.asarray(signatures, dtype=object)
    groups = np.zeros(len(signatures), dtype=np.int64) if groups is None else np.asarray(groups)
    rare = np.zeros(len(signatures), dtype=bool)
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        _, inverse, counts = np.unique(signatures[rows], return_inverse=True, return_counts=True)
        limit = max(theta * counts.max(), 1)
        rare[rows] = counts[inverse.ravel()] <= limit
    return rare
