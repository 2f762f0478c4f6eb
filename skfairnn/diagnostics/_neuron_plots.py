# SPDX-License-Identifier: BSD-3-Clause
"""RUNNER Fig. 3: neuron discrimination by unfairness-importance bucket, unfair vs fair model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._neurons import neuron_discrimination_buckets

__all__ = ["plot_neuron_discrimination_buckets"]


def plot_neuron_discrimination_buckets(
    unfair_net,
    fair_net,
    X,
    y,
    sensitive_features,
    *,
    n_buckets: int = 5,
    constraint: str = "demographic_parity",
    layers: Sequence[str] | None = None,
    labels: tuple[str, str] = ("unfair model", "fair model"),
    figure=None,
):
    """Bar chart of mean neuron discrimination per importance bucket (RUNNER Fig. 3).

    One panel per diagnosed layer; in each, the neurons of each model are
    sorted by decreasing unfairness importance (Eq. 6) on ``X`` and split into
    ``n_buckets`` equal buckets, and the bars give each bucket's mean
    discrimination (Eq. 11) for the two models side by side.

    Parameters
    ----------
    unfair_net, fair_net : fitted skfairnn classifiers or nn.Modules
        Typically :class:`~skfairnn.ERMClassifier` and
        :class:`~skfairnn.RunnerClassifier` with the same architecture.
    X, y, sensitive_features : array-like
        Data the statistics are computed on.
    n_buckets : int, default=5
        Number of importance buckets (quintiles).
    constraint : str, default="demographic_parity"
        Gap that ranks the neurons and cells of the discrimination.
    layers : list of str, default=None
        Layers to show (default: the hidden layers).
    labels : tuple of str
        Legend entries of the two models.
    figure : matplotlib Figure, default=None
        Figure to draw into (e.g. ``plt.figure()`` to show it inline); a new
        backend-free one if None.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (drawn with the Agg backend; save it with ``savefig``).
    """
    from matplotlib.figure import Figure

    kwargs = {"n_buckets": n_buckets, "constraint": constraint, "layers": layers}
    unfair = neuron_discrimination_buckets(unfair_net, X, y, sensitive_features, **kwargs)
    fair = neuron_discrimination_buckets(fair_net, X, y, sensitive_features, **kwargs)
    names = list(unfair)
    if figure is None:
        figure = Figure(figsize=(4 * len(names), 3.2), layout="constrained")
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    edges = np.linspace(0, 100, n_buckets + 1).round().astype(int)
    ticks = [f"{lo}-{hi}%" for lo, hi in zip(edges[:-1], edges[1:])]
    position = np.arange(n_buckets)
    for ax, name, fair_name in zip(axes, names, fair):
        ax.bar(position - 0.2, unfair[name], width=0.4, label=labels[0])
        ax.bar(position + 0.2, fair[fair_name], width=0.4, label=labels[1])
        ax.set_xticks(position, ticks, rotation=30)
        ax.set_title(f"layer {name}")
        ax.set_xlabel("neurons by unfairness importance")
        ax.set_ylabel("mean neuron discrimination δ")
    axes[0].legend()
    return figure
