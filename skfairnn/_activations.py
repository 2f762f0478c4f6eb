# SPDX-License-Identifier: BSD-3-Clause
"""Neurons of a network: which layers, their activations, their importance.

Shared by :class:`~skfairnn.RunnerClassifier` and :mod:`skfairnn.diagnostics`.

*Neurons* are the output units of ``nn.Linear`` layers and the output
channels of ``nn.Conv2d`` layers. A neuron's *activation* is read after the
layer's non-linearity, as RUNNER's code does (post-ReLU): the activation
module that follows the layer in registration order (``nn.ReLU``,
``nn.Tanh``, ...), before the next weighted layer. Where no such module exists
(a functional ``F.relu`` in ``forward``, or one activation module shared by
several layers) the layer's own output is used. A channel's activation is its
mean over the spatial positions.

:func:`record_activations` captures these outputs with forward hooks during
one forward pass, so a method reads them from the same graph as its logits.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from numbers import Integral

import torch
from torch import nn

from .gaps import group_means

__all__ = [
    "ACTIVATION_TYPES",
    "NeuronLayer",
    "find_neuron_layers",
    "record_activations",
    "neuron_activations",
    "n_selected",
    "neuron_importance",
    "neuron_discrimination",
    "IMPORTANCES",
]

#: modules recognised as the non-linearity that follows a weighted layer
ACTIVATION_TYPES = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Tanh,
    nn.Sigmoid,
    nn.Softplus,
    nn.Hardtanh,
    nn.Hardswish,
)
_WEIGHTED = (nn.Linear, nn.Conv2d)

_MSG_NO_LAYERS = (
    "{module} has no hidden nn.Linear/nn.Conv2d layer to diagnose (layers are found among "
    "registered submodules; the last weighted layer is the output layer). Pass the layer "
    "names explicitly with the `layers` parameter, e.g. layers=['fc1', 'fc2'] "
    "(keys of dict(module.named_modules()))."
)
_MSG_BAD_LAYER = (
    "layers: {name!r} is not an nn.Linear or nn.Conv2d submodule of {module}; "
    "available: {available}."
)


@dataclass(frozen=True)
class NeuronLayer:
    """A diagnosed layer.

    Attributes
    ----------
    name : str
        Qualified name of the ``nn.Linear``/``nn.Conv2d`` layer.
    layer : nn.Module
        The layer (its ``weight`` rows are the neurons' weights).
    output : str
        Name of the module whose output is the activation (the following
        activation module, or ``name`` itself).
    """

    name: str
    layer: nn.Module
    output: str

    @property
    def n_neurons(self) -> int:
        return int(self.layer.weight.shape[0])


def _following_activations(module: nn.Module) -> dict[str, str]:
    """Map each weighted layer to the activation module registered right after it."""
    follow: dict[str, str] = {}
    current = None
    for name, sub in module.named_modules():
        if isinstance(sub, _WEIGHTED):
            current = name
        elif current is not None and isinstance(sub, ACTIVATION_TYPES):
            follow[current] = name
            current = None
    return follow


def find_neuron_layers(module: nn.Module, layers: Sequence[str] | None = None) -> list[NeuronLayer]:
    """The layers whose neurons are diagnosed, with where to read their activations.

    Parameters
    ----------
    module : nn.Module
        The network.
    layers : sequence of str, default=None
        Names of ``nn.Linear``/``nn.Conv2d`` submodules. ``None`` takes every
        such layer except the last (the output layer), as RUNNER diagnoses
        the hidden layers.

    Raises
    ------
    ValueError
        If a named layer is missing or not ``nn.Linear``/``nn.Conv2d``, or if
        ``layers=None`` and the module has no hidden weighted layer.
    """
    modules = dict(module.named_modules())
    weighted = [name for name, sub in modules.items() if isinstance(sub, _WEIGHTED)]
    if layers is None:
        names = weighted[:-1]
        if not names:
            raise ValueError(_MSG_NO_LAYERS.format(module=type(module).__name__))
    else:
        if isinstance(layers, str):
            raise TypeError(f"layers must be a list of module names; got the string {layers!r}.")
        names = list(layers)
        if not names:
            raise ValueError("layers must name at least one layer; got an empty list.")
        for name in names:
            if name not in modules or not isinstance(modules[name], _WEIGHTED):
                raise ValueError(
                    _MSG_BAD_LAYER.format(
                        name=name, module=type(module).__name__, available=weighted
                    )
                )
    follow = _following_activations(module)
    outputs = [follow.get(name, name) for name in names]
    shared = {out for out in outputs if outputs.count(out) > 1}
    return [
        NeuronLayer(name, modules[name], name if out in shared else out)
        for name, out in zip(names, outputs)
    ]


@contextmanager
def record_activations(module: nn.Module, names: Sequence[str]) -> Iterator[dict]:
    """Capture the outputs of the named submodules during forward passes.

    Yields a dict ``name -> output tensor`` (the latest forward; still
    attached to the graph) that fills while the context is open; the hooks
    are removed on exit, the dict keeps its contents.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    >>> with record_activations(net, ["1"]) as acts:
    ...     _ = net(torch.ones(2, 3))
    >>> acts["1"].shape
    torch.Size([2, 4])
    """
    modules = dict(module.named_modules())
    store: dict[str, torch.Tensor] = {}

    def hook_for(name):
        def hook(_module, _inputs, output):
            store[name] = output

        return hook

    handles = [modules[name].register_forward_hook(hook_for(name)) for name in set(names)]
    try:
        yield store
    finally:
        for handle in handles:
            handle.remove()


def neuron_activations(output: torch.Tensor) -> torch.Tensor:
    """One value per (sample, neuron): ``(n, M)``; channels are averaged over space."""
    if output.dim() > 2:
        return output.flatten(2).mean(2)
    return output


def n_selected(top_k, n_neurons: int, name: str = "") -> int:
    """Number of neurons kept by ``top_k`` in a layer of ``n_neurons``.

    A float in (0, 1] is a fraction (``floor(top_k * n_neurons)``, at least 1,
    as the authors' ``int(ratio * 200)``); an int is a count.
    """
    if isinstance(top_k, Integral) and not isinstance(top_k, bool):
        if top_k > n_neurons:
            raise ValueError(
                f"top_k={top_k} is larger than layer {name!r}, which has {n_neurons} "
                "neurons; pass a smaller count or a fraction in (0, 1]."
            )
        return int(top_k)
    return max(1, math.floor(top_k * n_neurons + 1e-9))


def _elementwise(weight: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    return (weight * grad).pow(2).flatten(1).sum(1)


def _neuron(weight: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    return (weight * grad).flatten(1).sum(1).pow(2)


#: per-neuron aggregations of the first-order Taylor term w ⊙ ∂Gap/∂w (RUNNER Eq. 6)
IMPORTANCES = {"elementwise": _elementwise, "neuron": _neuron}


def neuron_importance(
    weight: torch.Tensor, grad: torch.Tensor, how: str = "elementwise"
) -> torch.Tensor:
    r"""Unfairness importance of each neuron (output row/channel of ``weight``), Eq. (6).

    ``"elementwise"`` (the authors' code): :math:`\sum_j (w_{mj}\,g_{mj})^2`;
    ``"neuron"``: :math:`(\sum_j w_{mj}\,g_{mj})^2`, the first-order Taylor
    estimate of Eq. (5) for zeroing all of neuron :math:`m`'s weights.
    """
    return IMPORTANCES[how](weight, grad)


def neuron_discrimination(
    activations: torch.Tensor,
    y: torch.Tensor,
    groups: torch.Tensor,
    n_groups: int,
    constraint: str,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Neuron discrimination :math:`\delta` of every neuron, Eq. (8)/(11) of RUNNER.

    Parameters
    ----------
    activations : Tensor of shape (n, M)
        Activation of each neuron for each sample.
    y, groups : Tensor of shape (n,)
        Labels (0/1) and group codes.
    n_groups : int
        Number of groups.
    constraint : {"demographic_parity", "equalized_odds", "equal_opportunity"}
        ``demographic_parity``: spread of the group means
        :math:`E[f_m(x)|A=a]`; ``equalized_odds``: the sum over :math:`y` of
        the spreads within label :math:`y` (Eq. 10); ``equal_opportunity``:
        the :math:`y = 1` term.
    weights : Tensor of shape (n,), default=None
        Sample weights.

    Returns
    -------
    Tensor of shape (M,)
        ``max - min`` over the present groups of the (cell) mean activation,
        which is :math:`|E_0 f_m - E_1 f_m|` for two groups; 0 where fewer
        than two groups are present.
    """
    if constraint == "demographic_parity":
        masks = [None]
    elif constraint == "equalized_odds":
        masks = [y == 0, y == 1]
    elif constraint == "equal_opportunity":
        masks = [y == 1]
    else:
        raise ValueError(
            "constraint must be one of 'demographic_parity', 'equalized_odds', "
            f"'equal_opportunity'; got {constraint!r}."
        )
    total = activations.new_zeros(activations.shape[1])
    for mask in masks:
        means, totals = group_means(activations, groups, n_groups, weights, mask=mask)
        total = total + _column_spread(means, totals)
    return total


def _column_spread(means: torch.Tensor, totals: torch.Tensor) -> torch.Tensor:
    """Per-column ``max - min`` over the present groups; zeros if fewer than 2 are present."""
    present = (totals > 0)[:, None]
    high = means.masked_fill(~present, float("-inf")).amax(0)
    low = means.masked_fill(~present, float("inf")).amin(0)
    # no host sync: with < 2 groups present the spread is replaced by 0
    return torch.where(present.sum() >= 2, high - low, torch.zeros_like(high))
