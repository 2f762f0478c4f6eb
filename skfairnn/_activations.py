# SPDX-License-Identifier: BSD-3-Clause
"""Neurons of a network: which layers, their activations, their importance.

Shared by :class:`~skfairnn.RunnerClassifier` and :mod:`skfairnn.diagnostics`.

*Neurons* are the output units of ``nn.Linear`` layers and the output
channels of ``nn.Conv2d`` layers. A neuron's *activation* is read after the
layer's non-linearity, as RUNNER's code does (post-ReLU). A channel's
activation is its mean over the spatial positions.

Which non-linearity belongs to which layer is read off the forward pass
itself, per *call*, not per module: :class:`ActivationRecorder` hooks every
weighted layer and every activation module (:data:`ACTIVATION_TYPES`), records
the calls of one forward pass in order, and pairs each diagnosed layer with
the first activation call whose input is derived from the layer's output
(followed through the autograd graph) without passing through another
weighted layer or another activation call. So a module that calls one
activation several times (``self.act`` after every layer, torchvision's
``BasicBlock.relu``) gives each layer the output of *its* call, and
batch-norm, pooling, dropout or a residual sum between a layer and its
activation are looked through.

Where no activation module consumes a layer's output (a functional
``F.relu``/``torch.relu`` in ``forward``, or no non-linearity at all) the
layer's own output is used, which is *pre*-activation for a functional
non-linearity. A layer that is not called exactly once per forward pass, or
whose paired activation does not have one entry per neuron along dimension 1,
raises a ``ValueError`` naming the layer (and the activation).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral

import torch
from torch import nn

from .cells import check_constraint
from .gaps import spread_by_label
from .modules import WEIGHTED_LAYERS, find_layers

__all__ = [
    "ACTIVATION_TYPES",
    "NeuronLayer",
    "ActivationSite",
    "ActivationRecorder",
    "find_neuron_layers",
    "neuron_activations",
    "n_selected",
    "neuron_importance",
    "neuron_discrimination",
    "IMPORTANCES",
    "unit_importance",
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
_MSG_CALLS = (
    "Layer {name!r} was called {count} times in one forward pass of {module}; its neurons' "
    "activations are defined only for a layer called exactly once. Leave it out of the "
    "diagnosed layers with the `layers` parameter (e.g. layers={others})."
)
_MSG_NO_GRAPH = (
    "Cannot pair layer {name!r} with its activation: its output has no autograd graph "
    "(do its parameters require grad?). The pairing follows the layer's output through "
    "the autograd graph of a forward pass run with gradients enabled."
)
_MSG_WIDTH = (
    "Layer {name!r} has {n_neurons} neurons but {where} has {width} entries along dimension 1 "
    "(shape {shape}); neurons are read along dimension 1 (features of nn.Linear, channels of "
    "nn.Conv2d). Leave the layer out with the `layers` parameter."
)
_MSG_UNTRACED = (
    "{module}'s forward pass called {name!r} {count} times, the traced pass {traced}; "
    "activations are paired per call, so the forward passes must call the layers and "
    "activation modules the same way."
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
    """

    name: str
    layer: nn.Module

    @property
    def n_neurons(self) -> int:
        return int(self.layer.weight.shape[0])


@dataclass(frozen=True)
class ActivationSite:
    """Where a layer's activation is read: the output of one call of one module.

    Attributes
    ----------
    module : str
        Name of the activation module, or the layer's own name where no
        activation module consumes its output.
    call : int
        Index of the call among that module's calls in one forward pass
        (``0`` for the layer itself).
    """

    module: str
    call: int


def find_neuron_layers(module: nn.Module, layers: Sequence[str] | None = None) -> list[NeuronLayer]:
    """The layers whose neurons are diagnosed.

    Where their activations are read is found per forward pass by
    :class:`ActivationRecorder`.

    Parameters
    ----------
    module : nn.Module
        The network.
    layers : sequence of str, default=None
        Names of ``nn.Linear``/``nn.Conv2d`` submodules. ``None`` takes every
        such layer except the last registered one (the output layer), as
        RUNNER diagnoses the hidden layers (:func:`skfairnn.modules.find_layers`
        with ``output_layer=False``).

    Raises
    ------
    ValueError
        If a named layer is missing or not ``nn.Linear``/``nn.Conv2d``, or if
        ``layers=None`` and the module has no hidden weighted layer.
    """
    return [
        NeuronLayer(name, layer) for name, layer in find_layers(module, layers, output_layer=False)
    ]


@dataclass
class _Call:
    """One call of a hooked module in a forward pass."""

    name: str
    activation: bool  # an activation module (else a weighted layer)
    index: int  # among this module's calls in the pass
    input_node: object  # autograd node of the input (activation calls)
    output_node: object
    output: torch.Tensor | None  # kept for activation calls and diagnosed layers


def _node(value) -> object:
    return value.grad_fn if isinstance(value, torch.Tensor) else None


class ActivationRecorder:
    """Capture each diagnosed layer's activation, per activation *call*, during forward passes.

    Used as a context manager around forward passes of ``module``: while it
    is open, hooks on every ``nn.Linear``/``nn.Conv2d`` layer and every
    activation module record each call of the latest forward pass (a shared
    activation module contributes one output per call). :meth:`activations`,
    called inside the context after a forward pass, returns for each
    diagnosed layer the output of the activation call paired with it (still
    attached to the graph). Leaving the context removes the hooks and drops
    the recorded outputs; :attr:`sites` is kept.

    The pairing comes from the forward pass itself when it ran with
    gradients enabled: each layer gets the first activation call whose input
    is reached from the layer's output through the autograd graph without
    crossing another weighted layer's output or another activation call's
    output; a layer that no activation module consumes keeps its own output.
    A forward pass run without gradients (``torch.no_grad()``) reuses the
    pairing of the latest traced pass (call indices per module), after
    checking that it called every module as often.

    Parameters
    ----------
    module : nn.Module
        The network.
    layers : sequence of str
        Names of the diagnosed ``nn.Linear``/``nn.Conv2d`` layers.

    Attributes
    ----------
    sites : dict of str to ActivationSite or None
        Pairing found by the latest traced forward pass (``None`` before).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1, self.fc2, self.out = nn.Linear(3, 4), nn.Linear(4, 5), nn.Linear(5, 1)
    ...         self.act = nn.ReLU()  # shared by both hidden layers
    ...     def forward(self, x):
    ...         return self.out(self.act(self.fc2(self.act(self.fc1(x)))))
    >>> net = Net()
    >>> with ActivationRecorder(net, ["fc1", "fc2"]) as recorder:
    ...     _ = net(torch.ones(2, 3))
    ...     acts = recorder.activations()
    >>> recorder.sites
    {'fc1': ActivationSite(module='act', call=0), 'fc2': ActivationSite(module='act', call=1)}
    >>> acts["fc2"].shape
    torch.Size([2, 5])
    """

    def __init__(self, module: nn.Module, layers: Sequence[str]):
        self.module = module
        self.layers = list(layers)
        self.sites: dict[str, ActivationSite] | None = None
        self._traced_counts: dict[str, int] = {}
        self._handles: list = []
        self._reset()

    # ------------------------------------------------------------ hooks
    def _reset(self, *_args) -> None:
        self._calls: list[_Call] = []  # weighted and activation calls, in order
        self._by_module: dict[str, list[_Call]] = defaultdict(list)
        self._pending: dict[str, object] = {}
        self._grad_enabled = torch.is_grad_enabled()

    def _input_hook(self, name: str):
        def hook(_module, inputs):
            self._pending[name] = _node(inputs[0]) if inputs else None

        return hook

    def _output_hook(self, name: str, activation: bool, keep: bool):
        def hook(_module, _inputs, output):
            call = _Call(
                name,
                activation,
                len(self._by_module[name]),
                self._pending.pop(name, None),
                _node(output),
                output if keep else None,
            )
            self._calls.append(call)
            self._by_module[name].append(call)

        return hook

    def __enter__(self) -> ActivationRecorder:
        diagnosed = set(self.layers)
        self._handles.append(self.module.register_forward_pre_hook(self._reset))
        for name, sub in self.module.named_modules():
            if isinstance(sub, ACTIVATION_TYPES):
                self._handles.append(sub.register_forward_pre_hook(self._input_hook(name)))
                self._handles.append(sub.register_forward_hook(self._output_hook(name, True, True)))
            elif isinstance(sub, WEIGHTED_LAYERS):
                keep = name in diagnosed
                self._handles.append(
                    sub.register_forward_hook(self._output_hook(name, False, keep))
                )
        return self

    def __exit__(self, *exc_info) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._reset()  # drop the recorded outputs (and their graph); keep ``sites``

    # ------------------------------------------------------------ pairing
    def _check_called_once(self) -> None:
        for name in self.layers:
            count = len(self._by_module.get(name, ()))
            if count != 1:
                others = [other for other in self.layers if other != name]
                raise ValueError(
                    _MSG_CALLS.format(
                        name=name, count=count, module=type(self.module).__name__, others=others
                    )
                )

    def _trace(self) -> dict[str, ActivationSite]:
        """Pair each diagnosed layer with the activation call that consumes its output."""
        layer_of = {}  # id(autograd node of a weighted layer's output) -> layer name
        stops = set()  # ids of nodes of activation outputs
        activation_calls = []
        for call in self._calls:
            if call.activation:
                activation_calls.append(call)
                if call.output_node is not None:
                    stops.add(id(call.output_node))
            elif call.output_node is not None:
                layer_of[id(call.output_node)] = call.name
        for name in self.layers:
            if self._by_module[name][0].output_node is None:
                raise ValueError(_MSG_NO_GRAPH.format(name=name))
        sites: dict[str, ActivationSite] = {}
        wanted = set(self.layers)
        for call in activation_calls:
            if wanted.issubset(sites):
                break
            for name in _sources(call.input_node, layer_of, stops):
                if name in wanted and name not in sites:
                    sites[name] = ActivationSite(call.name, call.index)
        return {name: sites.get(name, ActivationSite(name, 0)) for name in self.layers}

    def activations(self) -> dict[str, torch.Tensor]:
        """Activation of each diagnosed layer in the latest forward pass.

        Returns
        -------
        dict of str to Tensor
            Layer name to the output of its paired call (shape ``(n, M, ...)``).

        Raises
        ------
        ValueError
            If a diagnosed layer was not called exactly once, its paired
            activation does not have one entry per neuron along dimension 1,
            or no forward pass with gradients enabled gave a pairing.
        """
        self._check_called_once()
        counts = {name: len(calls) for name, calls in self._by_module.items()}
        if self._grad_enabled:
            self.sites = self._trace()
            self._traced_counts = counts
        elif self.sites is None:
            raise ValueError(
                "No forward pass with gradients enabled was recorded: the activations are "
                "paired with their layers through the autograd graph. Run one forward pass "
                "outside torch.no_grad() first."
            )
        else:
            for name, traced in self._traced_counts.items():
                if counts.get(name, 0) != traced:
                    raise ValueError(
                        _MSG_UNTRACED.format(
                            module=type(self.module).__name__,
                            name=name,
                            count=counts.get(name, 0),
                            traced=traced,
                        )
                    )
        result = {}
        for name in self.layers:
            site = self.sites[name]
            output = self._by_module[site.module][site.call].output
            n_neurons = int(self.module.get_submodule(name).weight.shape[0])
            if output.dim() < 2 or output.shape[1] != n_neurons:
                raise ValueError(
                    _MSG_WIDTH.format(
                        name=name,
                        n_neurons=n_neurons,
                        where=(
                            "its output (no activation module consumes it)"
                            if site.module == name
                            else f"its activation, call {site.call} of {site.module!r},"
                        ),
                        width=output.shape[1] if output.dim() >= 2 else None,
                        shape=tuple(output.shape),
                    )
                )
            result[name] = output
        return result


def _sources(start, layer_of: dict, stops: set) -> list[str]:
    """Weighted layers whose outputs reach ``start`` in the graph without crossing a stop.

    Walks the autograd graph backwards from the node ``start`` (an
    activation call's input), stopping at weighted layers' outputs (which it
    reports) and at activation calls' outputs.
    """
    found, seen, stack = [], set(), [start]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if id(node) in layer_of:
            found.append(layer_of[id(node)])
            continue
        if id(node) in stops:
            continue
        stack.extend(fn for fn, _ in node.next_functions if fn is not None)
    return found


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


def unit_importance(weight: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    r"""First-order importance of each output unit: :math:`\sum_j (w_{mj}\, g_{mj})^2`.

    One score per output row (neuron) or channel (filter, summed over its
    kernel) of ``weight``, from the gradient ``grad`` of a gap or loss:
    RUNNER's Eq. (6) as in the authors' code (``importance="elementwise"``)
    and FAIRER's Eq. (8) at unit granularity.
    """
    return (weight * grad).pow(2).flatten(1).sum(1)


def _neuron(weight: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    return (weight * grad).flatten(1).sum(1).pow(2)


#: per-neuron aggregations of the first-order Taylor term w ⊙ ∂Gap/∂w (RUNNER Eq. 6)
IMPORTANCES = {"elementwise": unit_importance, "neuron": _neuron}


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
    constraint = check_constraint(constraint)
    return spread_by_label(activations, y, groups, n_groups, constraint, weights)
