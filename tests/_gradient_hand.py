# SPDX-License-Identifier: BSD-3-Clause
"""Hand (numpy) forward/backward of a one-hidden-layer ReLU MLP, for gradient tests."""

import numpy as np
import torch

from skfairnn import FairBatch


def mlp_params(net):
    """(W1, b1, W2, b2) of ``MLP(hidden_sizes=(h,))`` as float64 numpy arrays."""
    lin1, lin2 = net.module_.net[0], net.module_.net[2]
    return [
        p.detach().numpy().astype(np.float64)
        for p in (lin1.weight, lin1.bias, lin2.weight, lin2.bias)
    ]


def mlp_cell_gradient(params, X, y, w=None):
    """Gradient of the weighted mean BCE of rows ``X, y`` w.r.t. (W1, b1, W2, b2)."""
    W1, b1, W2, b2 = params
    w = np.ones(len(X)) if w is None else w
    pre = X @ W1.T + b1
    h = np.maximum(pre, 0)
    z = h @ W2.T[:, 0] + b2[0]
    p = 1 / (1 + np.exp(-z))
    dz = w * (p - y) / w.sum()
    dW2 = (dz[:, None] * h).sum(0)[None, :]
    db2 = np.array([dz.sum()])
    dh = dz[:, None] * W2[0][None, :] * (pre > 0)
    return [dh.T @ X, dh.sum(0), dW2, db2], p


def make_batch(X, y, group, n_groups, weight=None):
    X = torch.as_tensor(X, dtype=torch.float64)
    return FairBatch(
        X=X,
        y=torch.as_tensor(y, dtype=torch.float64),
        group=torch.as_tensor(group, dtype=torch.long),
        sample_weight=torch.ones(len(X), dtype=torch.float64)
        if weight is None
        else torch.as_tensor(weight, dtype=torch.float64),
        n_groups=n_groups,
    )


def init_double(net, input_dim):
    """Initialise ``net`` without data (input size given) and switch it to float64."""
    net.set_params(module__input_dim=input_dim)
    net.initialize()
    net.module_.double()
    net.n_groups_ = 2
    return net


def finite_difference(fn, params, h=1e-6):
    """Central differences of scalar ``fn()`` w.r.t. each element of each tensor."""
    grads = []
    for p in params:
        g = torch.zeros_like(p)
        flat, gflat = p.data.view(-1), g.view(-1)
        for k in range(flat.numel()):
            old = flat[k].item()
            flat[k] = old + h
            up = fn().item()
            flat[k] = old - h
            down = fn().item()
            flat[k] = old
            gflat[k] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def cell_data(n=24, d=3, n_groups=2, seed=0):
    """A tiny batch with every (group, label) cell present: ``X, y, group``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.tile([0, 1], n // 2)
    group = np.repeat(np.arange(n_groups), n // n_groups)[rng.permutation(n)]
    return X, y, group
