# SPDX-License-Identifier: BSD-3-Clause
"""Methods × seeds on one dataset: a results table and an AP-versus-gap Pareto plot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ._data import load_protocol_data
from ._protocol import SELECTIONS, evaluate
from ._runs import append_row, read_rows, run_tasks, task_key
from .methods import METHODS, RELATIVE_FIT_COST

__all__ = [
    "SUMMARY_COLUMNS",
    "compare",
    "compare_many",
    "compare_tasks",
    "drop_failed",
    "plot_pareto",
    "summarize",
]

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


@lru_cache(maxsize=4)
def _cached_data(dataset: str, seed: int, data_home):
    """A worker loads each (dataset, seed) split once, however many methods it runs."""
    return load_protocol_data(dataset, seed=seed, data_home=data_home)


def run_compare_task(task: dict) -> dict:
    """One (method, seed) run of :func:`compare`: fit with the protocol, test metrics."""
    data = _cached_data(task["dataset"], task["seed"], task["data_home"])
    estimator = _factory(task["method"])(task["constraint"], task["seed"], task["quick"])
    estimator = _with_overrides(estimator, task["overrides"])
    return evaluate(
        estimator,
        data,
        constraint=task["constraint"],
        selection=task["selection"],
        random_state=task["seed"],
    )


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
    n_jobs: int | None = None,
    torch_threads: int | None = None,
    path=None,
    resume: bool = True,
    progress_bar: bool | None = False,
) -> pd.DataFrame:
    """Run each method on each seed's split; one row per (method, seed).

    The runs go through :func:`joblib.Parallel` (:mod:`skfairnn.benchmarks._runs`):
    ``n_jobs`` local processes, or the active :func:`joblib.parallel_config`
    backend (Dask, Ray) when ``n_jobs`` is ``None``. Rows come back in the
    sequential order (seed, then method) with the same numbers whatever the
    backend; a run that raises gives a row with its ``error``.

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
    selection : {"hard", "prob", "accuracy", "last"}, default="hard"
        Epoch-selection rule (:func:`~skfairnn.benchmarks.evaluate`).
    device : str, default=None
        Training device of the networks (``"cuda"``); ``None`` keeps the default.
    overrides : dict, default=None
        Parameters set on every method that has them (others are left alone),
        e.g. ``{"fairness_weight": 0.4}`` for a sweep.
    progress : callable, default=None
        Called with each run's row (a dict) as soon as it is done.
    n_jobs : int, default=None
        Parallel runs (see above).
    torch_threads : int, default=None
        torch threads per run (``None``: 1 in parallel, torch's default otherwise).
    path : path, default=None
        JSONL file each run is appended to as it finishes; with ``resume``
        the runs already in it are not run again.
    resume : bool, default=True
        Reuse the rows already in ``path``.
    progress_bar : bool or None, default=False
        A tqdm bar over the runs (``None``: when stderr is a terminal).

    Raises
    ------
    ValueError
        For an unknown method or a ``selection`` not in
        :data:`~skfairnn.benchmarks._protocol.SELECTIONS`.
    """
    tasks = compare_tasks(
        dataset,
        methods,
        constraint=constraint,
        seeds=seeds,
        quick=quick,
        data_home=data_home,
        selection=selection,
        device=device,
        overrides=overrides,
    )
    rows = run_tasks(
        tasks,
        run_compare_task,
        path=path,
        n_jobs=n_jobs,
        torch_threads=torch_threads,
        resume=resume,
        progress=progress_bar,
        describe=_describe,
        desc=f"{dataset} {constraint}",
        on_row=progress,
    )
    return _results_frame(rows)


def compare_tasks(
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
) -> list[dict]:
    """The runs of :func:`compare` (same arguments), as :func:`run_compare_task` tasks.

    Seed-major: every method of seed 0, then seed 1, ...

    Raises
    ------
    ValueError
        For an unknown method or ``selection``.
    """
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {list(SELECTIONS)}; got {selection!r}.")
    for name in methods:
        _factory(name)
    settings = {**(overrides or {}), **({"device": device} if device is not None else {})}
    seeds = range(seeds) if isinstance(seeds, int) else seeds
    return [
        {
            "dataset": dataset,
            "method": name,
            "seed": int(seed),
            "constraint": constraint,
            "quick": bool(quick),
            "selection": selection,
            "overrides": settings,
            "data_home": None if data_home is None else str(data_home),
        }
        for seed in seeds
        for name in methods
    ]


def compare_many(
    comparisons: Mapping[str, dict],
    *,
    out,
    n_jobs: int | None = None,
    torch_threads: int | None = None,
    resume: bool = True,
    progress=None,
    progress_bar: bool | None = False,
) -> dict[str, pd.DataFrame]:
    """Run several :func:`compare` grids as one pool of runs; one results table per grid.

    ``skfairnn reproduce`` runs its comparisons through here. Compared with
    one :func:`compare` call after another:

    * every worker stays busy until the last run of the last grid (each grid
      no longer waits for its slowest run before the next one starts), and
      the long runs start first (``cost`` of :func:`run_tasks`, from
      :data:`~skfairnn.benchmarks.methods.RELATIVE_FIT_COST`);
    * a run that several grids share (ERM on Adult for the GCM, RUNNER and
      baselines tables) runs once.

    Each grid's rows go to ``out/<name>_runs.jsonl`` as they finish, the
    file that ``compare(..., path=...)`` writes, so a run already in a
    grid's file is not repeated (``resume``), and the tables are those that
    :func:`compare` gives for each grid.

    Parameters
    ----------
    comparisons : mapping of str to dict
        Grid name to the keyword arguments of :func:`compare_tasks`.
    out : path
        Folder of the per-grid JSONL files.
    n_jobs, torch_threads, progress_bar :
        As in :func:`compare`.
    resume : bool, default=True
        Reuse the rows already in the grids' files (``False`` deletes them).
    progress : callable, default=None
        ``(name, row) -> None`` for each new row, once per grid holding it.

    Returns
    -------
    dict of str to DataFrame
        Each grid's table, rows in its task order (as :func:`compare`).
    """
    out = Path(out)
    grids = {name: compare_tasks(**kwargs) for name, kwargs in comparisons.items()}
    paths = {name: out / f"{name}_runs.jsonl" for name in grids}
    keys = {name: [task_key(task) for task in tasks] for name, tasks in grids.items()}
    holders: dict[str, list[str]] = {}  # task key -> the grids that list it
    for name, grid_keys in keys.items():
        for key in dict.fromkeys(grid_keys):
            holders.setdefault(key, []).append(name)
    out.mkdir(parents=True, exist_ok=True)
    done: dict[str, dict] = {}
    written: dict[str, set] = {}  # grid -> the task keys its file holds
    for name, path in paths.items():
        if not resume:
            path.unlink(missing_ok=True)
        rows = read_rows(path)
        written[name] = {row.get("task_key") for row in rows}
        for row in rows:
            if row.get("task_key") in holders and not row.get("error"):
                done.setdefault(row["task_key"], row)
    for key, row in done.items():  # a shared run found in one grid's file fills the others
        for name in holders[key]:
            if key not in written[name]:
                append_row(paths[name], row)

    def record(row: dict) -> None:
        for name in holders[row["task_key"]]:
            append_row(paths[name], row)
            if progress is not None:
                progress(name, row)

    unique = {key: task for name in grids for key, task in zip(keys[name], grids[name])}
    todo = [task for key, task in unique.items() if key not in done]
    for row in run_tasks(
        todo,
        run_compare_task,
        n_jobs=n_jobs,
        torch_threads=torch_threads,
        progress=progress_bar,
        describe=_describe,
        desc="reproduce",
        on_row=record,
        cost=_expected_cost,
    ):
        done[row["task_key"]] = row
    return {
        name: _results_frame([done[key] for key in keys[name] if key in done]) for name in grids
    }


def _expected_cost(task: dict) -> float:
    return RELATIVE_FIT_COST.get(task["method"], 1.0)


def _results_frame(rows: list[dict]) -> pd.DataFrame:
    """Result rows as the table :func:`compare` returns (task bookkeeping dropped)."""
    drop = ("dataset", "constraint", "quick", "selection", "overrides", "data_home", "task_key")
    return pd.DataFrame([{k: v for k, v in row.items() if k not in drop} for row in rows])


def _describe(row: dict) -> str:
    gap = next((g for g in ("eo", "dp", "eop") if g in row), None)
    text = f"{row['method']} s{row['seed']} acc {row.get('acc', float('nan')):.3f}"
    return text + (f" {gap} {row[gap]:.3f}" if gap else "")


def drop_failed(results: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``results`` without an ``error`` (all of them if there is no such column)."""
    if "error" not in results:
        return results
    return results[~results["error"].fillna("").astype(bool)]


def summarize(results: pd.DataFrame, columns: Sequence[str] = SUMMARY_COLUMNS) -> pd.DataFrame:
    """Mean ± std per method, formatted, in the order the methods were run.

    Failed runs (a non-empty ``error``) are left out.
    """
    results = drop_failed(results)
    order = list(dict.fromkeys(results["method"]))
    grouped = results.groupby("method")[list(columns)]
    mean, std = grouped.mean().loc[order], grouped.std(ddof=0).loc[order]
    table = pd.DataFrame(index=order)
    for column in columns:
        table[column] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(mean[column], std[column])]
    table.index.name = "method"
    return table


def _frontier(gap: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points (no other point has a smaller gap and a higher
    score), ordered by gap."""
    order = np.lexsort((-score, gap))
    best, keep = -np.inf, []
    for index in order:
        if score[index] > best:
            keep.append(index)
            best = score[index]
    return np.array(keep, dtype=int)


def plot_pareto(
    results: pd.DataFrame,
    path=None,
    *,
    gap: str = "eo",
    title: str | None = None,
    figure=None,
):
    """AP and accuracy against a gap, mean ± std over seeds per method, written to ``path``.

    Each panel marks ERM with a star and draws the Pareto frontier (the methods no other
    method beats on both the gap and the score). Uses :class:`matplotlib.figure.Figure`
    directly, so the user's matplotlib backend is left alone.

    Parameters
    ----------
    results : DataFrame
        Rows of :func:`compare`.
    path : path, default=None
        PNG file to write; ``None`` writes nothing.
    gap : str, default="eo"
        Column of the gap on the x axis.
    title : str, default=None
        Figure title.
    figure : matplotlib Figure, default=None
        Figure to draw into (e.g. ``plt.figure()`` to show it inline); a new
        backend-free one if None.

    Returns
    -------
    Path or matplotlib.figure.Figure
        ``Path(path)`` if ``path`` is given, else the figure.
    """
    from matplotlib.figure import Figure

    grouped = drop_failed(results).groupby("method", sort=False)
    columns = [c for c in ("ap", "acc") if c in results]
    mean = grouped[[gap, *columns]].mean()
    std = grouped[[gap, *columns]].std(ddof=0).fillna(0)
    if figure is None:
        figure = Figure(figsize=(5 * len(columns), 4.2))
    panels = figure.subplots(1, len(columns), squeeze=False)[0]
    labels = {"ap": "test average precision", "acc": "test accuracy of predict()"}
    for axes, column in zip(panels, columns):
        for index, method in enumerate(mean.index):
            axes.errorbar(
                mean.loc[method, gap],
                mean.loc[method, column],
                xerr=std.loc[method, gap],
                yerr=std.loc[method, column],
                fmt="*" if method == "erm" else "o",
                markersize=14 if method == "erm" else 6,
                capsize=3,
                color=f"C{index % 10}",
                label=method,
            )
        front = _frontier(mean[gap].to_numpy(), mean[column].to_numpy())
        axes.step(
            mean[gap].to_numpy()[front],
            mean[column].to_numpy()[front],
            where="post",
            color="0.4",
            linestyle="--",
            linewidth=1,
            label="Pareto frontier",
        )
        axes.set_xlabel(f"test {gap.upper()} gap (lower is fairer)")
        axes.set_ylabel(labels[column])
        axes.grid(alpha=0.3)
    panels[0].legend(fontsize=7)
    figure.suptitle(title or "accuracy–fairness trade-off", fontsize=10)
    figure.tight_layout()
    if path is None:
        return figure
    figure.savefig(Path(path), dpi=120)
    return Path(path)
