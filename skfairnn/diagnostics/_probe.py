# SPDX-License-Identifier: BSD-3-Clause
"""The data a diagnostic looks at: encoded tensors on the network's device.

Every diagnostic function takes ``(net, X, y, sensitive_features)`` and every
per-epoch logger either such data or a fixed random subsample of the training
rows; both become a :class:`ProbeData` here, so validation, label and group
encoding and device placement are written once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .._batches import training_tensors
from ..groups import encode_sensitive_features

__all__ = ["ProbeData", "module_of", "encode_probe", "training_subsample", "probe_for"]


@dataclass
class ProbeData:
    """Encoded inputs on the module's device.

    Attributes
    ----------
    X : Tensor
        Inputs.
    y : Tensor of shape (n,)
        Labels as 0/1 floats.
    group : LongTensor of shape (n,)
        Group codes (those of ``net.sensitive_groups_`` for a fitted net).
    n_groups : int
        Number of group codes.
    """

    X: torch.Tensor
    y: torch.Tensor
    group: torch.Tensor
    n_groups: int


def module_of(net) -> nn.Module:
    """The torch module of a fitted skfairnn network (or the module itself)."""
    return net if isinstance(net, nn.Module) else net.module_


def encode_probe(net, X, y, sensitive_features) -> ProbeData:
    """Validate and encode ``X``, ``y`` and the groups the way ``net`` saw them in fit.

    ``net`` may also be a bare ``nn.Module``; then ``y`` must be 0/1 and the
    groups are encoded afresh.
    """
    parameter = next(module_of(net).parameters())
    labels = None
    if isinstance(net, nn.Module):
        X = np.asarray(X.detach().cpu() if isinstance(X, torch.Tensor) else X)
        y_codes = np.asarray(y)
        if not np.isin(y_codes, (0, 1)).all():
            raise ValueError("y must be 0/1 when net is an nn.Module.")
    else:
        X = net._validate_X(X)
        y_codes = net._encode_target(np.asarray(y), reset=False)
        labels = getattr(net, "sensitive_groups_", None)
    groups = encode_sensitive_features(sensitive_features, n_samples=len(X), labels=labels)
    return ProbeData(
        X=torch.as_tensor(X, dtype=parameter.dtype, device=parameter.device),
        y=torch.as_tensor(y_codes, dtype=parameter.dtype, device=parameter.device),
        group=torch.as_tensor(groups.codes, device=parameter.device),
        n_groups=groups.n_groups,
    )


def training_subsample(net, dataset_train, max_samples: int, random_state) -> ProbeData:
    """At most ``max_samples`` training rows, the same ones every epoch."""
    tensors, y, _ = training_tensors(dataset_train)
    rows = np.arange(len(y))
    if len(rows) > max_samples:
        rng = np.random.default_rng(random_state)
        rows = np.sort(rng.choice(rows, max_samples, replace=False))
    parameter = next(net.module_.parameters())
    index = torch.as_tensor(rows, device=tensors["X"].device)
    return ProbeData(
        X=tensors["X"][index].to(parameter.device),
        y=y[index].to(device=parameter.device, dtype=parameter.dtype),
        group=tensors["group"][index].to(parameter.device),
        n_groups=net.n_groups_,
    )


def probe_for(callback, net, dataset_train) -> ProbeData:
    """A logger's data: its own ``X, y, sensitive_features`` or a training subsample."""
    if callback.X is not None:
        return encode_probe(net, callback.X, callback.y, callback.sensitive_features)
    return training_subsample(net, dataset_train, callback.max_samples, callback.random_state)
