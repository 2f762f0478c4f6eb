# SPDX-License-Identifier: BSD-3-Clause
"""Default networks and layer discovery.

Every skfairnn classifier trains a module that maps a batch of inputs to one
logit per row (shape ``(n,)`` or ``(n, 1)``); ``sigmoid(logit)`` is the
probability of the positive class. :class:`MLP` is the default (the papers'
120→200→200→1 Adult network with ``hidden_sizes=(200, 200)``); :class:`ConvNet`
is a small CNN for image inputs of shape ``(n, C, H, W)``.

Layer discovery (used by the methods that look inside the network, FAIRER and
RUNNER, and by the diagnostics): :func:`find_layers` returns the
``nn.Linear``/``nn.Conv2d`` submodules in registration order; the last one is
taken as the output layer. Custom modules work as long as their weighted layers
are registered submodules; methods that need specific layers accept their
qualified names (``dict(module.named_modules())`` keys) through a ``layers``
parameter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

__all__ = [
    "MLP",
    "ConvNet",
    "LogisticRegressionModule",
    "find_layers",
    "eval_mode",
    "ACTIVATIONS",
]

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "leaky_relu": nn.LeakyReLU}


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


def find_layers(
    module: nn.Module, types: tuple[type, ...] = (nn.Linear, nn.Conv2d)
) -> list[tuple[str, nn.Module]]:
    """Weighted layers of ``module`` in registration order, as ``(name, layer)``.

    Raises
    ------
    ValueError
        If ``module`` has no layer of the given types.
    """
    layers = [(name, layer) for name, layer in module.named_modules() if isinstance(layer, types)]
    if not layers:
        raise ValueError(
            f"{type(module).__name__} has no {'/'.join(t.__name__ for t in types)} layer; "
            "pass the layer names explicitly through the estimator's `layers` parameter."
        )
    return layers


def as_logits(output: torch.Tensor, module: nn.Module | None = None) -> torch.Tensor:
    """A module's output as one logit per row: shape ``(n,)`` from ``(n,)`` or ``(n, 1)``.

    Raises
    ------
    ValueError
        If the output has another shape, naming the module when given.
    """
    if output.dim() == 2 and output.shape[1] == 1:
        return output[:, 0]
    if output.dim() != 1:
        name = type(module).__name__ if module is not None else "module"
        raise ValueError(
            f"module must return one logit per row (shape (n,) or (n, 1)); "
            f"{name} returned shape {tuple(output.shape)}."
        )
    return output
