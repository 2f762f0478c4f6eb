# SPDX-License-Identifier: BSD-3-Clause
"""RUNNER's neuron diagnostics: unfairness importance (Eq. 6) and discrimination (Eq. 8/11).

These functions look at a trained network on a data set: which neurons the
first-order Taylor criterion blames for the relaxed fairness gap, and how
differently each neuron fires for the groups. :class:`NeuronDiscriminationLogger`
records them per epoch; :func:`plot_neuron_discrimination_buckets` draws
RUNNER's Fig. 3.

The network is a fitted skfairnn classifier (its ``module_``, the layers it
diagnoses and its label encoding are used) or a plain ``nn.Module`` (then
``y`` must be 0/1). Neurons and activations are found as in
:mod:`skfairnn._activations`: hidden ``nn.Linear``/``nn.Conv2d`` layers,
post-activation outputs (the activation call that consumes each layer's
output in the forward pass), channels as neurons.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from skorch.callbacks import Callback
from torch import nn

from .._activations import (
    ActivationRecorder,
    find_neuron_layers,
    n_selected,
    neuron_activations,
    neuron_importance,
)
from .._activations import neuron_discrimination as _discrimination
from ..cells import check_constraint
from ..gaps import fairness_gap
from ..modules import as_logits, eval_mode
from ._probe import ProbeData, encode_probe, module_of, probe_for

__all__ = [
    "neuron_unfairness_importance",
    "neuron_discrimination",
    "neuron_discrimination_buckets",
    "NeuronDiscriminationLogger",
]


def _default_layers(net, layers):
    if layers is not None or isinstance(net, nn.Module):
        return layers
    return getattr(net, "layers_", None)


def _neuron_statistics(module, data: ProbeData, layers, constraint, importance, batch_size):
    """Per layer: (importance, discrimination) as float64 numpy arrays of shape (M,).

    The gap's gradient w.r.t. the weights is exact but computed in chunks: the
    gap depends on the weights only through the probabilities p, so
    ``∂Gap/∂W = Σ_i (∂Gap/∂p_i) ∂p_i/∂W`` with ``∂Gap/∂p`` from a first pass.
    The first chunk's forward pass runs with gradients enabled, which pairs
    each layer with its activation call (:class:`ActivationRecorder`); the
    other chunks reuse that pairing without a graph.
    """
    constraint = check_constraint(constraint)
    found = find_neuron_layers(module, layers)
    with eval_mode(module):
        chunks = list(torch.split(torch.arange(len(data.X), device=data.X.device), batch_size))
        scores, outputs = [], {layer.name: [] for layer in found}
        with ActivationRecorder(module, list(outputs)) as recorder:
            for position, index in enumerate(chunks):
                with torch.set_grad_enabled(position == 0):
                    X = data.X[index]
                    if position == 0 and X.is_floating_point():
                        X = X.detach().requires_grad_(True)  # a graph even for frozen layers
                    scores.append(torch.sigmoid(as_logits(module(X))).detach())
                    for name, value in recorder.activations().items():
                        outputs[name].append(neuron_activations(value).detach())
        scores = torch.cat(scores).requires_grad_(True)
        gap = fairness_gap(constraint, scores, data.y, data.group, data.n_groups)
        (coefficient,) = torch.autograd.grad(gap, scores, materialize_grads=True)
        weights = [layer.layer.weight for layer in found]
        grads = [torch.zeros_like(weight) for weight in weights]
        for index in chunks:
            surrogate = (coefficient[index] * torch.sigmoid(as_logits(module(data.X[index])))).sum()
            for total, part in zip(grads, torch.autograd.grad(surrogate, weights)):
                total += part
    result = {}
    for layer, weight, grad in zip(found, weights, grads):
        activations = torch.cat(outputs[layer.name])
        delta = _discrimination(activations, data.y, data.group, data.n_groups, constraint)
        ui = neuron_importance(weight.detach(), grad, importance)
        result[layer.name] = (_numpy(ui), _numpy(delta))
    return result


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy().astype(np.float64)


def neuron_unfairness_importance(
    net,
    X,
    y,
    sensitive_features,
    *,
    constraint: str = "demographic_parity",
    layers: Sequence[str] | None = None,
    importance: str = "elementwise",
    batch_size: int = 4096,
) -> dict[str, np.ndarray]:
    r"""Unfairness importance :math:`\mathrm{UI}^l_m` of every neuron (RUNNER Eq. 6).

    .. math::

        \mathrm{UI}^l_m = \sum_j \Big(w^l_{mj}\,
        \frac{\partial\,\mathrm{Gap}}{\partial w^l_{mj}}\Big)^2

    with the relaxed gap (Eq. 3–4) of the probabilities on the whole of
    ``X`` (model in eval mode).

    Parameters
    ----------
    net : fitted skfairnn classifier or nn.Module
        The network (``module_`` of a classifier).
    X : array-like of shape (n_samples, ...)
        Inputs.
    y : array-like of shape (n_samples,)
        Labels (as passed to ``fit``; 0/1 for a plain module).
    sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
        Groups.
    constraint : str, default="demographic_parity"
        One of "demographic_parity", "equalized_odds", "equal_opportunity"
        (fairlearn's "true_positive_rate_parity" is an alias of the last).
        Which relaxed gap is differentiated.
    layers : list of str, default=None
        Layers to diagnose; ``None``: the classifier's ``layers_`` if it has
        them, else the hidden ``nn.Linear``/``nn.Conv2d`` layers.
    importance : {"elementwise", "neuron"}, default="elementwise"
        Per-neuron aggregation (see :class:`~skfairnn.RunnerClassifier`).
    batch_size : int, default=4096
        Rows per forward chunk (the gradient is exact).

    Returns
    -------
    dict of str to ndarray of shape (n_neurons,)
        Importance of each neuron, per layer name.
    """
    data = encode_probe(net, X, y, sensitive_features)
    stats = _neuron_statistics(
        module_of(net), data, _default_layers(net, layers), constraint, importance, batch_size
    )
    return {name: ui for name, (ui, _) in stats.items()}


def neuron_discrimination(
    net,
    X,
    y,
    sensitive_features,
    *,
    constraint: str = "demographic_parity",
    layers: Sequence[str] | None = None,
    batch_size: int = 4096,
) -> dict[str, np.ndarray]:
    r"""Neuron discrimination :math:`\delta` of every neuron (RUNNER Eq. 8/11).

    :math:`\delta(m, l) = |E_{x\sim P_0} f^l_m(x) - E_{x\sim P_1} f^l_m(x)|`
    on post-activation outputs; summed over the label cells for
    ``"equalized_odds"``; ``max - min`` over groups for more than two.
    Parameters as in :func:`neuron_unfairness_importance`.

    Returns
    -------
    dict of str to ndarray of shape (n_neurons,)
    """
    data = encode_probe(net, X, y, sensitive_features)
    stats = _neuron_statistics(
        module_of(net), data, _default_layers(net, layers), constraint, "elementwise", batch_size
    )
    return {name: delta for name, (_, delta) in stats.items()}


def _bucket_means(ui: np.ndarray, delta: np.ndarray, n_buckets: int) -> np.ndarray:
    order = np.argsort(-ui, kind="stable")
    return np.array([delta[part].mean() for part in np.array_split(order, n_buckets)])


def neuron_discrimination_buckets(
    net,
    X,
    y,
    sensitive_features,
    *,
    n_buckets: int = 5,
    constraint: str = "demographic_parity",
    layers: Sequence[str] | None = None,
    batch_size: int = 4096,
) -> dict[str, np.ndarray]:
    """Mean neuron discrimination per importance bucket (RUNNER Sec. 5.1, Fig. 3).

    Each layer's neurons are sorted by decreasing unfairness importance and
    split into ``n_buckets`` equal buckets (quintiles by default: top 20%,
    20–40%, ...); the result is the mean :math:`\\delta` of each bucket.

    Returns
    -------
    dict of str to ndarray of shape (n_buckets,)
    """
    if not isinstance(n_buckets, int | np.integer) or n_buckets < 1:
        raise ValueError(f"n_buckets must be a positive int; got {n_buckets!r}.")
    data = encode_probe(net, X, y, sensitive_features)
    stats = _neuron_statistics(
        module_of(net), data, _default_layers(net, layers), constraint, "elementwise", batch_size
    )
    return {name: _bucket_means(ui, delta, n_buckets) for name, (ui, delta) in stats.items()}


class NeuronDiscriminationLogger(Callback):
    """Log the discrimination of the most unfairness-important neurons each epoch.

    At the end of every epoch the neurons are ranked by unfairness importance
    (Eq. 6) on the logged data, the ``top_k`` of each layer are selected
    (Eq. 7) and their mean discrimination :math:`\\delta` (Eq. 8) is written to
    ``net.history``: ``neuron_delta_top_<layer>`` per layer and
    ``neuron_delta_top`` (the mean over layers). Works with any skfairnn
    classifier, e.g. to compare ERM with RUNNER.

    Parameters
    ----------
    X, y, sensitive_features : array-like or None, default=None
        Data to diagnose on (e.g. a validation set). ``None``: the training
        data of the current fit (subsampled to ``max_samples`` rows).
    top_k : float, int or None, default=None
        Neurons per layer; ``None`` uses the net's ``top_k`` if it has one,
        else 0.1.
    constraint : str or None, default=None
        ``None`` uses the net's ``constraint`` if it has one, else
        ``"demographic_parity"``.
    max_samples : int, default=4096
        Rows drawn from the training data when ``X`` is None.
    random_state : int, default=0
        Seed for that subsample.
    """

    def __init__(
        self,
        X=None,
        y=None,
        sensitive_features=None,
        *,
        top_k=None,
        constraint=None,
        max_samples=4096,
        random_state=0,
    ):
        self.X = X
        self.y = y
        self.sensitive_features = sensitive_features
        self.top_k = top_k
        self.constraint = constraint
        self.max_samples = max_samples
        self.random_state = random_state

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        constraint = self.constraint or getattr(net, "constraint", "demographic_parity")
        top_k = self.top_k if self.top_k is not None else getattr(net, "top_k", 0.1)
        stats = _neuron_statistics(
            net.module_,
            probe_for(self, net, dataset_train),
            _default_layers(net, None),
            constraint,
            getattr(net, "importance", "elementwise"),
            4096,
        )
        means = []
        for name, (ui, delta) in stats.items():
            count = n_selected(top_k, len(ui), name)
            top = np.argsort(-ui, kind="stable")[:count]
            means.append(float(delta[top].mean()))
            net.history.record(f"neuron_delta_top_{name}", means[-1])
        net.history.record("neuron_delta_top", float(np.mean(means)))
