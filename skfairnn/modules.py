# SPDX-License-Identifier: BSD-3-Clause
"""Default networks and layer discovery.

Every skfairnn classifier trains a module that maps a batch of inputs to one
logit per row (shape ``(n,)`` or ``(n, 1)``); ``sigmoid(logit)`` is the
probability of the positive class. :class:`MLP` is the default (the papers'
120→200→200→1 Adult network with ``hidden_sizes=(200, 200)``); :class:`ConvNet`
is a small CNN for image inputs of shape ``(n, C, H, W)``.

Losses: :class:`HingeLoss` (the training loss of Wang, Wang & Liu's code), for
``criterion=HingeLoss``.

Layer discovery, the one rule used by every method that looks inside the
network (FAIRER, RUNNER), by the diagnostics and by the influence functions:
:func:`find_layers` returns the :data:`WEIGHTED_LAYERS` submodules
(``nn.Linear``/``nn.Conv2d``) in registration order, the last one being the
output layer, or checks the layers a user names through a ``layers``
parameter (qualified names, keys of ``dict(module.named_modules())``). Custom
modules work as long as their weighted layers are registered submodules.
:func:`as_logits` maps a module's output, ``(n,)`` or ``(n, 1)``, to one logit
per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "WEIGHTED_LAYERS",
    "ConvNet",
    "HingeLoss",
    "LogisticRegressionModule",
    "as_logits",
    "eval_mode",
    "find_layers",
]

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "leaky_relu": nn.LeakyReLU}

#: the layers whose output units (features, channels) are a network's neurons
WEIGHTED_LAYERS: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv2d)

_MSG_LOGITS = "{name} must return one logit per row, of shape (n,) or (n, 1); got shape {shape}."
_MSG_NO_LAYERS = (
    "{module} has no {hidden}{types} layer{why}; pass the layer names explicitly through "
    "the `layers` parameter (keys of dict(module.named_modules())); its {types} layers: "
    "{found}."
)
_MSG_BAD_LAYER = "layers: {name!r} is not an {types} submodule of {module}; available: {available}."


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Put ``module`` in ``eval`` mode for the block and restore its mode afterwards.

    Used wherever a fitted network is probed (diagnostics, influence scores):
    dropout off and batch-norm running statistics, without changing the mode
    the caller left it in.
    """
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def _activation(name: str) -> nn.Module:
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATIONS)}; got {name!r}."
        ) from None


class MLP(nn.Module):
    """Fully connected network with one output logit.

    Parameters
    ----------
    input_dim : int
        Number of input features (filled in from ``X`` by the estimator).
    hidden_sizes : sequence of int, default=(200, 200)
        Width of each hidden layer; ``()`` gives logistic regression.
    activation : {"relu", "tanh", "gelu", "leaky_relu"}, default="relu"
        Hidden activation.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    """

    def __init__(
        self,
        input_dim: int,
        hidden_sizes: Sequence[int] = (200, 200),
        activation: str = "relu",
        dropout: float = 0.0,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = input_dim
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), _activation(activation)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X.flatten(1)).squeeze(-1)


class LogisticRegressionModule(MLP):
    """A linear model with one logit (FairIF's tabular setting)."""

    def __init__(self, input_dim: int):
        super().__init__(input_dim, hidden_sizes=())


class ConvNet(nn.Module):
    """Small CNN (conv → ReLU → max-pool blocks, then a linear head).

    Parameters
    ----------
    in_channels : int
        Image channels (filled in from ``X`` of shape ``(n, C, H, W)``).
    channels : sequence of int, default=(16, 32)
        Filters of each conv block (3×3 kernels, padding 1, 2×2 pooling).
    hidden_size : int, default=64
        Width of the hidden linear layer after global average pooling.
    """

    def __init__(self, in_channels: int, channels: Sequence[int] = (16, 32), hidden_size=64):
        super().__init__()
        blocks: list[nn.Module] = []
        width = in_channels
        for size in channels:
            blocks += [nn.Conv2d(width, size, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            width = size
        self.features = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(
            nn.Linear(width, hidden_size), nn.ReLU(), nn.Linear(hidden_size, 1)
        )

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(X)).flatten(1)).squeeze(-1)


def as_logits(output: torch.Tensor, module: nn.Module | None = None) -> torch.Tensor:
    """One logit per row: a module's output of shape ``(n,)`` or ``(n, 1)`` as ``(n,)``.

    Raises
    ------
    ValueError
        For any other shape (e.g. two logits per row: skfairnn is binary),
        naming ``module``'s class when given.
    """
    if output.dim() == 1:
        return output
    if output.dim() == 2 and output.shape[1] == 1:
        return output[:, 0]
    name = "The module" if module is None else type(module).__name__
    raise ValueError(_MSG_LOGITS.format(name=name, shape=tuple(output.shape)))


class HingeLoss(nn.Module):
    """Hinge loss on logits, ``max(0, 1 - (2y - 1) f)``: the training loss of [1]_'s code.

    Use as ``FairRegClassifier(criterion=HingeLoss)``; targets are 0/1.

    Parameters
    ----------
    reduction : {"none", "mean", "sum"}, default="mean"

    References
    ----------
    .. [1] Wang, Wang & Liu, "Understanding Instance-Level Impact of Fairness
       Constraints", ICML 2022.
    """

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = torch.relu(1.0 - (2.0 * target - 1.0) * logits)
        if self.reduction == "mean":
            return loss.mean()
        return loss.sum() if self.reduction == "sum" else loss


def _type_names(types: tuple[type, ...], sep: str = " or ") -> str:
    return sep.join(f"nn.{t.__name__}" for t in types)


def find_layers(
    module: nn.Module,
    layers: Sequence[str] | None = None,
    *,
    types: tuple[type[nn.Module], ...] = WEIGHTED_LAYERS,
    output_layer: bool = True,
) -> list[tuple[str, nn.Module]]:
    """The layers of ``module`` to look at, as ``(name, layer)``.

    Parameters
    ----------
    module : nn.Module
        The network.
    layers : sequence of str, default=None
        Qualified names of submodules (keys of ``dict(module.named_modules())``),
        returned in the given order, each checked to be one of ``types``.
        ``None`` finds every submodule of ``types`` in registration order.
    types : tuple of nn.Module classes, default=WEIGHTED_LAYERS
        The layer types (``nn.Linear`` and ``nn.Conv2d``).
    output_layer : bool, default=True
        With ``layers=None``: keep the last found layer, taken as the output
        layer. ``False`` returns the hidden layers only (RUNNER diagnoses
        those). Ignored for named layers.

    Returns
    -------
    list of (str, nn.Module)

    Raises
    ------
    TypeError
        If ``layers`` is a string rather than a list of names.
    ValueError
        Naming ``layers``, if it is empty or names a missing submodule or one
        of another type, or if ``layers=None`` finds no layer.
    """
    named = dict(module.named_modules())
    found = [name for name, sub in named.items() if isinstance(sub, types)]
    if layers is None:
        names = found if output_layer else found[:-1]
        if not names:
            raise ValueError(
                _MSG_NO_LAYERS.format(
                    module=type(module).__name__,
                    hidden="" if output_layer else "hidden ",
                    types=_type_names(types, "/"),
                    why="" if output_layer else " (the last one is the output layer)",
                    found=found,
                )
            )
        return [(name, named[name]) for name in names]
    if isinstance(layers, str):
        raise TypeError(f"layers must be a list of module names; got the string {layers!r}.")
    names = list(layers)
    if not names:
        raise ValueError("layers must name at least one layer; got an empty list.")
    for name in names:
        if not isinstance(named.get(name), types):
            raise ValueError(
                _MSG_BAD_LAYER.format(
                    name=name,
                    types=_type_names(types),
                    module=type(module).__name__,
                    available=found,
                )
            )
    return [(name, named[name]) for name in names]
