# SPDX-License-Identifier: BSD-3-Clause
"""Methods × seeds on one dataset: a results table and an AP-versus-gap Pareto plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ._data import load_protocol_data
from ._protocol import evaluate
from .methods import METHODS

__all__ = ["compare", "summarize", "plot_pareto", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = ("ap", "acc", "dp", "eo", "fit_time")


def _factory(name: str):
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; choose from {sorted(METHODS)}.") from None


def _with_overrides(estimator, overrides):
    """Set the overrides this estimator has (directly or on its inner network).

    ``module__*`` keys always apply to a network (skorch creates them on demand).
    """
    if not overrides:
        return estimator
    params = estimator.get_params()
    chosen = {}
    for name, value in overrides.items():
        for prefix in ("", "estimator__"):
            if prefix + name in params or (
                name.startswith("module__") and prefix + "module" in params
            ):
                chosen[prefix + name] = value
                break
    return estimator.set_params(**chosen)


def compare(
    dataset: str = "adult",
    methods: Sequence[str] = ("erm", "oversample", "fairreg"),
    *,
    constraint: str = "equalized_odds",
    seeds: int | Sequence[int] = 3,
    quick: bool = False,
    data_home=None,
    selection: str = "hard",
    device: str | None = None,
    overrides: dict | None = None,
    progress=None,
) -> pd.DataFrame:
    """Run each method on each seed's split; one row per (method, seed).

    Parameters
    ----------
    dataset : str, default="adult"
        See :func:`~skfairnn.benchmarks.load_protocol_data`.
    methods : sequence of str
        Names in :data:`~skfairnn.benchmarks.METHODS`.
    constraint : str, default="equalized_odds"
        Fairness constraint of the methods and of the epoch selection.
    seeds : int or sequence of int, default=3
        Number of seeds (``range(seeds)``) or the seeds themselves.
    quick : bool, default=False
        Short training (smoke runs).
    selection : {"hard", "prob", "last"}, default="hard"
        Epoch-selection rule (:func:`~skfairnn.benchmarks.evaluate`).
    device : str, default=None
        Training device of the networks (``"cuda"``); ``None`` keeps the default.
    overrides : dict, default=None
        Parameters set on every method that has them (others are left alone),
        e.g. ``{"fairness_weight": 0.4}`` for a sweep.
    progress : callable, default=None
        Called with each run's row (a dict) as soon as it is done.
    """
    factories = {name: _factory(name) for name in methods}
    settings = {**(overrides or {}), **({"device": device} if device is not None else {})}
    seeds = range(seeds) if isinstance(seeds, int) else seeds
    rows = []
    for seed in seeds:
        data = load_protocol_data(dataset, seed=seed, data_home=data_home)
        for name, factory in factories.items():
            estimator = _with_overrides(factory(constraint, seed, quick), settings)
            result = evaluate(estimator, data, constraint=constraint, selection=selection)
            rows.append({"method": name, "seed": seed, **result})
            if progress is not None:
                progress(rows[-1])
    return pd.DataFrame(rows)


def summarize(results: pd.DataFrame, columns: Sequence[str] = SUMMARY_COLUMNS) -> pd.DataFrame:
    """Mean ± std per method, formatted, in the order the methods were run."""
    order = list(dict.fromkeys(results["method"]))
    grouped = results.groupby("method")[list(columns)]
    mean, std = grouped.mean().loc[order], grouped.std(ddof=0).loc[order]
    table = pd.DataFrame(index=order)
    for column in columns:
        table[column] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(mean[column], std[column])]
    table.index.name = "method"
    return table


def plot_pareto(results: pd.DataFrame, path, *, gap: str = "eo", title: str | None = None):
    """AP against a gap, mean ± std per method, written to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grouped = results.groupby("method")
    mean, std = grouped[["ap", gap]].mean(), grouped[["ap", gap]].std(ddof=0).fillna(0)
    figure, axes = plt.subplots(figsize=(5, 4))
    for method in mean.index:
        axes.errorbar(
            mean.loc[method, gap],
            mean.loc[method, "ap"],
            xerr=std.loc[method, gap],
            yerr=std.loc[method, "ap"],
            fmt="o",
            capsize=3,
            label=method,
        )
    axes.set_xlabel(f"test {gap.upper()} gap (lower is fairer)")
    axes.set_ylabel("test average precision")
    axes.set_title(title or "accuracy–fairness trade-off")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(Path(path), dpi=120)
    plt.close(figure)
    return Path(path)
