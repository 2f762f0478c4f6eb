# SPDX-License-Identifier: BSD-3-Clause
"""Tiny networks and hand computations shared by the RUNNER tests and its diagnostics' tests."""

import numpy as np
import torch
from torch import nn

from skfairnn import FairBatch


def tiny_net(seed=0):
    """3 -> 4 -> 3 -> 1 with smooth activations, float64 (finite differences are exact)."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    return net.double()


def tiny_batch(groups=(0, 0, 0, 1, 1, 1, 0, 1, 0, 1), n_groups=2):
    rng = np.random.default_rng(1)
    X = torch.as_tensor(rng.normal(size=(len(groups), 3)))
    y = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1, 1, 0][: len(groups)], dtype=torch.float64)
    group = torch.as_tensor(groups)
    return FairBatch(X, y, group, torch.ones(len(groups), dtype=torch.float64), n_groups)


def relaxed_gap(p, batch, constraint):
    """Eq. 3-4 by hand for two groups."""
    g0, g1 = batch.group == 0, batch.group == 1
    if constraint == "demographic_parity":
        return abs(p[g0].mean() - p[g1].mean())
    total = 0.0
    for label in [0, 1] if constraint == "equalized_odds" else [1]:
        c = batch.y == label
        total = total + abs(p[g0 & c].mean() - p[g1 & c].mean())
    return total


def hand_importance(net, batch, constraint):
    """Eq. 6 per neuron, sum_j (w_mj * dGap/dw_mj)^2, gradient by central differences."""
    out = {}
    for name in ("0", "2"):
        weight = getattr(net, name).weight
        grad = torch.zeros_like(weight)
        with torch.no_grad():
            for index in np.ndindex(*weight.shape):
                old = weight[index].item()
                values = []
                for step in (1e-6, -1e-6):
                    weight[index] = old + step
                    p = torch.sigmoid(net(batch.X)[:, 0])
                    values.append(float(relaxed_gap(p, batch, constraint)))
                weight[index] = old
                grad[index] = (values[0] - values[1]) / 2e-6
            out[name] = ((weight * grad) ** 2).sum(1)
    return out


def hand_activations(net, X):
    h1 = torch.tanh(net[0](X))
    return {"1": h1, "3": torch.tanh(net[2](h1))}


class SharedReLUMLP(nn.Module):
    """fc1 -> ReLU -> fc2 -> ReLU -> out, one ``self.act`` called after both hidden layers."""

    def __init__(self, input_dim, hidden=8):
        super().__init__()
        self.fc1 = nn.Linear(input_dim, hidden)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, X):
        return self.out(self.act(self.fc2(self.act(self.fc1(X)))))


class TwoReLUMLP(nn.Module):
    """Same network and parameters (same creation order) with one nn.ReLU per layer."""

    def __init__(self, input_dim, hidden=8):
        super().__init__()
        self.fc1 = nn.Linear(input_dim, hidden)
        self.act1 = nn.ReLU()
        self.fc2 = nn.Linear(hidden, hidden)
        self.act2 = nn.ReLU()
        self.out = nn.Linear(hidden, 1)

    def forward(self, X):
        return self.out(self.act2(self.fc2(self.act1(self.fc1(X)))))
