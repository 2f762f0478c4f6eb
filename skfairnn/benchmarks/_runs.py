# SPDX-License-Identifier: BSD-3-Clause
"""Run a grid of independent benchmark runs through joblib, streamed to JSONL, resumable.

Every ``compare``, ``reproduce`` and robustness run is a *task*: a dict of
plain values (dataset, method, seed, settings) passed to a module-level
function that returns one result row. :func:`run_tasks` sends the tasks
through :class:`joblib.Parallel`, so they run

* sequentially (``n_jobs=1``, the default),
* in local processes (``n_jobs=N``; joblib's loky backend), or
* on whatever backend is active: ``with joblib.parallel_config(backend="dask"):``
  after connecting a :class:`distributed.Client` runs them on a Dask cluster,
  ``backend="ray"`` (after ``ray.util.joblib.register_ray()``) on Ray.

Ray's joblib backend is a pool of Ray actors that hands results back only once
all are done (it has no ``return_as="generator"``), which would hold every row
back until the end of the grid. Under it the runs are therefore sent to Ray as
tasks directly, with the backend's ``ray_remote_args`` (``{"num_gpus": 1}``
gives each run a GPU of its own) and at most its ``n_jobs`` runs at a time
(the cluster's CPU count when ``n_jobs`` is -1 or unset).

Each finished run is appended to the JSONL file at once (by this process, in
the order runs finish), a run that raises is recorded with its error instead
of stopping the grid, and calling again with the same file skips the tasks
whose rows are already there (failed runs are retried). Rows come back in the
order of the tasks, so the result does not depend on how the runs were
scheduled; torch's thread count is pinned in every run (``torch_threads``) so
that the numbers do not depend on it either. A run is one unit of work: joblib
calls inside it (a ``ColumnTransformer``'s) run sequentially in the worker
instead of going back to the cluster as new tasks: with distributed releases
before 2026.7, such nested tasks on a cluster of several workers fail
(``AttributeError: 'dict' object has no attribute 'transform'``) or are cancelled.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import joblib

__all__ = ["TIMING_COLUMNS", "run_tasks", "task_key", "read_rows"]

#: columns that differ between identical runs (left out of reproducibility checks)
TIMING_COLUMNS = ("fit_time", "run_time")


def task_key(task: dict) -> str:
    """A stable text key of a task (its fields, sorted; tuples written as lists)."""
    return json.dumps(task, sort_keys=True, default=repr)


def read_rows(path) -> list[dict]:
    """The rows of a JSONL results file (a truncated last line, from a crash, is skipped)."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def append_row(path, row: dict) -> None:
    """Append ``row`` to the JSONL file at ``path`` (one line, written at once)."""
    with open(path, "a") as handle:
        handle.write(json.dumps(row) + "\n")


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


def _failed_row(task: dict, error: BaseException, run_time: float) -> dict:
    """The row of a run that raised ``error`` (its task, the error, no results)."""
    text = f"{type(error).__name__}: {error}"
    if error.__traceback__ is not None:
        frame = traceback.extract_tb(error.__traceback__)[-1]
        text += f" (at {frame.filename}:{frame.lineno})"
    return {**task, "error": text, "run_time": run_time, "task_key": task_key(task)}


def _execute(function: Callable[[dict], dict], task: dict, torch_threads: int | None) -> dict:
    """Run one task in a worker; a failure becomes an ``error`` row."""
    import torch

    previous = torch.get_num_threads()
    if torch_threads:
        torch.set_num_threads(torch_threads)
    start = time.perf_counter()
    try:
        with joblib.parallel_config(backend="sequential"):
            row = {**task, **function(task), "error": ""}
        row["run_time"] = time.perf_counter() - start
        row["task_key"] = task_key(task)
    except Exception as error:  # recorded, not fatal: the grid goes on
        row = _failed_row(task, error, time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous)
    return _jsonable(row)


def _active_ray_backend():
    """The active joblib backend and its ``n_jobs`` if the backend is Ray's, else ``None``.

    Looked up by class, not by the name it was registered under; Ray is not
    imported when nothing imported its joblib backend.
    """
    module = sys.modules.get("ray.util.joblib.ray_backend")
    if module is None:
        return None
    backend, n_jobs = joblib.parallel.get_active_backend()
    return (backend, n_jobs) if isinstance(backend, module.RayBackend) else None


def _on_ray(
    backend, n_jobs: int, todo: Sequence[dict], function, torch_threads: int | None
) -> Iterator[dict]:
    """Run the tasks as Ray tasks, at most ``n_jobs`` at once; yield rows as runs finish.

    A run whose worker died (killed for memory, a crash in native code) gives
    an ``error`` row like a run that raised. Closing the generator cancels
    the runs still in flight.
    """
    import ray

    options = dict(getattr(backend, "ray_remote_args", None) or {})
    execute = ray.remote(_execute)
    if options:
        execute = execute.options(**options)
    waiting, running = deque(todo), {}
    try:
        while waiting or running:
            while waiting and len(running) < n_jobs:
                task = waiting.popleft()
                running[execute.remote(function, task, torch_threads)] = (task, time.perf_counter())
            (ref,), _ = ray.wait(list(running), num_returns=1)
            task, start = running.pop(ref)
            try:
                row = ray.get(ref)
            except Exception as error:  # the run's worker died: recorded, not fatal
                # no "(at ...)": the traceback is this process's wait, not the run's
                error = error.with_traceback(None)
                row = _jsonable(_failed_row(task, error, time.perf_counter() - start))
            yield row
    finally:
        for ref in running:
            ray.cancel(ref, force=True)


def _ray_workers(backend, n_jobs: int | None) -> int:
    """How many runs go to Ray at once: ``n_jobs``, or the cluster's CPUs for -1 / unset."""
    import ray

    if not ray.is_initialized():
        ray.init()  # RAY_ADDRESS or a local instance, as Ray's joblib backend does
    return backend.effective_n_jobs(-1 if n_jobs is None else n_jobs)


def _progress_bar(total: int, initial: int, desc: str | None, enabled: bool | None):
    """A tqdm bar on stderr, on only when stderr is a terminal (unless forced)."""
    from tqdm.auto import tqdm

    disable = not sys.stderr.isatty() if enabled is None else not enabled
    return tqdm(total=total, initial=initial, desc=desc, disable=disable, unit="run")


def run_tasks(
    tasks: Sequence[dict],
    function: Callable[[dict], dict],
    *,
    path=None,
    n_jobs: int | None = None,
    torch_threads: int | None = None,
    resume: bool = True,
    progress: bool | None = None,
    describe: Callable[[dict], str] | None = None,
    desc: str | None = None,
    on_row: Callable[[dict], None] | None = None,
    cost: Callable[[dict], float] | None = None,
) -> list[dict]:
    """Run ``function(task)`` for every task; return the rows in task order.

    Parameters
    ----------
    tasks : sequence of dict
        JSON-able descriptions of the runs; each must be unique.
    function : callable
        A module-level (picklable) function ``task -> dict of results``.
        joblib calls inside it run sequentially (each run is one unit of work).
    path : path, default=None
        JSONL file; each finished row is appended as soon as it arrives.
    n_jobs : int, default=None
        Worker processes (joblib). ``None`` uses the active
        :func:`joblib.parallel_config` (1 outside one; the cluster's size
        under the Dask and Ray backends).
    torch_threads : int, default=None
        ``torch.set_num_threads`` inside every run; ``None`` is 1 when runs go
        in parallel, torch's default when they are sequential.
    resume : bool, default=True
        Skip tasks whose successful rows are already in ``path``.
    progress : bool, default=None
        Show a tqdm bar (runs done, ETA, last result); ``None``: only on a
        terminal.
    describe : callable, default=None
        ``row -> str`` shown as the bar's last result.
    desc : str, default=None
        Label of the bar.
    on_row : callable, default=None
        Called with each new row as it arrives.
    cost : callable, default=None
        ``task -> number``, a task's expected run time (any unit). The runs
        are dispatched in decreasing cost (ties in task order), so that on
        several workers the long runs start first instead of finishing alone
        at the end of the grid. Scheduling only: the rows and their order
        are the same with or without it.
    """
    keys = [task_key(task) for task in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("tasks must be unique; some tasks are listed twice.")
    done: dict[str, dict] = {}
    if path is not None and resume:
        for row in read_rows(path):
            if row.get("task_key") in keys and not row.get("error"):
                done[row["task_key"]] = row
    elif path is not None:
        Path(path).unlink(missing_ok=True)
    todo = [task for task, key in zip(tasks, keys) if key not in done]
    if cost is not None:
        todo.sort(key=cost, reverse=True)  # stable: equal costs keep the task order
    ray_backend = _active_ray_backend() if todo else None
    if ray_backend is not None:
        backend, context_jobs = ray_backend
        workers = _ray_workers(backend, context_jobs if n_jobs is None else n_jobs)
    else:
        workers = joblib.effective_n_jobs(n_jobs) if todo else 1
    if torch_threads is None:
        torch_threads = 1 if workers != 1 else None
    if not todo:
        results: Iterator[dict] = iter(())
    elif ray_backend is not None:
        results = _on_ray(ray_backend[0], workers, todo, function, torch_threads)
    else:
        parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        results = parallel(joblib.delayed(_execute)(function, task, torch_threads) for task in todo)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    bar = _progress_bar(len(tasks), len(done), desc, progress)
    try:
        for row in results:
            done[row["task_key"]] = row
            if path is not None:
                append_row(path, row)
            if on_row is not None:
                on_row(row)
            bar.update(1)
            if row["error"]:
                bar.set_postfix_str(f"failed: {row['error'][:60]}")
            elif describe is not None:
                bar.set_postfix_str(describe(row))
    finally:
        bar.close()
        if hasattr(results, "close"):
            results.close()  # an interruption stops the runs still in flight
    return [done[key] for key in keys if key in done]
