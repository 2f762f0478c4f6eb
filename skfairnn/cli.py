# SPDX-License-Identifier: BSD-3-Clause
"""Command line: ``skfairnn compare``, ``skfairnn reproduce`` and ``skfairnn list``.

``compare`` trains methods × seeds on one dataset with the papers' protocol and
prints AP, accuracy, ΔDP, ΔEO and fit time (mean ± std); it writes the per-run
CSV, the summary and an AP-versus-gap Pareto plot into ``--out``.
``reproduce`` reruns the papers' experiments (:data:`~skfairnn.benchmarks.REPRODUCTIONS`)
and prints the published numbers beside ours; the studies among them need the
``skfairnn-benchmarks`` project (``pip install ./benchmarks``), and
``reproduce --list`` shows every experiment with or without it.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import inspect
import json
import sys
import time
from pathlib import Path

import pandas as pd

from .benchmarks import (
    METHODS,
    REPRODUCTIONS,
    StudyNotInstalledError,
    compare,
    compare_many,
    plot_pareto,
    resolve_study,
    study_available,
    summarize,
)
from .benchmarks._data import DATASETS
from .benchmarks._protocol import GAP_COLUMNS, SELECTIONS

__all__ = ["main"]

DEFAULT_METHODS = "erm,adversarial,gcm_t2,fairer,runner,fairif,prune_fairness"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skfairnn", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    cmp = sub.add_parser("compare", help="compare methods on one dataset")
    cmp.add_argument(
        "--dataset",
        default="adult",
        choices=["adult", *DATASETS],
        help="adult = the Fair Mixup pipeline (bundled); others per skfairnn.benchmarks",
    )
    cmp.add_argument(
        "--methods",
        default=DEFAULT_METHODS,
        help=f"comma-separated, from: {', '.join(sorted(METHODS))}",
    )
    cmp.add_argument("--constraint", default="equalized_odds", choices=sorted(GAP_COLUMNS))
    cmp.add_argument("--selection", default="hard", choices=list(SELECTIONS))
    cmp.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="override a parameter of every method that has it, e.g. --set fairness_weight=0.4",
    )

    rep = sub.add_parser("reproduce", help="rerun the papers' experiments")
    rep.add_argument("experiments", nargs="*", help=f"default: all of {', '.join(REPRODUCTIONS)}")
    rep.add_argument(
        "--list", action="store_true", help="list the experiments (and what each needs); run none"
    )

    for command in (cmp, rep):
        command.add_argument("--seeds", type=int, default=3, help="number of split seeds")
        command.add_argument("--first-seed", type=int, default=0, help="seeds start here")
        command.add_argument("--out", default="skfairnn_out", help="output folder")
        command.add_argument("--quick", action="store_true", help="short training (smoke run)")
        command.add_argument("--data-home", default=None)
        command.add_argument("--device", default=None, help="e.g. cuda (default: cpu)")
        command.add_argument(
            "--quiet", action="store_true", help="no progress bar and no per-run lines"
        )
        command.add_argument(
            "--n-jobs",
            type=int,
            default=None,
            help="runs in parallel local processes (joblib; -1: one per core)",
        )
        engine = command.add_mutually_exclusive_group()
        engine.add_argument(
            "--dask",
            default=None,
            metavar="ADDRESS",
            help="run on a Dask cluster (scheduler address, e.g. tcp://10.0.0.5:8786)",
        )
        engine.add_argument(
            "--ray",
            default=None,
            metavar="ADDRESS",
            help="run on a Ray cluster (address for ray.init: auto, 10.0.0.5:6379, "
            "ray://10.0.0.5:10001); with --device cuda each run gets one GPU",
        )
        command.add_argument(
            "--threads",
            type=int,
            default=None,
            help="torch threads per run (default: 1 in parallel, torch's default otherwise)",
        )
        command.add_argument(
            "--fresh",
            action="store_true",
            help="start over instead of resuming from the runs already in --out",
        )

    sub.add_parser("list", help="list methods and experiments")
    return parser


def _write(results: pd.DataFrame, summary: pd.DataFrame, out: Path, stem: str, gap: str, title):
    out.mkdir(parents=True, exist_ok=True)
    results.to_csv(out / f"{stem}_runs.csv", index=False)
    summary.to_csv(out / f"{stem}_summary.csv")
    plot_pareto(results, out / f"{stem}_pareto.png", gap=gap, title=title)


def _parse_overrides(pairs: list[str]) -> dict:
    """``["fairness_weight=0.4", "module__hidden_sizes=(64,)"]`` as a parameter dict."""
    overrides = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"--set expects PARAM=VALUE; got {pair!r}")
        try:
            overrides[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            overrides[name] = text  # a plain string such as a constraint name
    return overrides


def _show_bar(args) -> bool:
    return not args.quiet and sys.stderr.isatty()


def _reporter(args, log, gap: str, prefix: str = ""):
    """Log each finished run (when no progress bar shows it)."""

    def report(row: dict) -> None:
        if args.quiet or _show_bar(args):
            return
        if row.get("error"):
            log(f"{prefix}{row['method']} seed {row['seed']}: FAILED {row['error']}")
            return
        log(
            f"{prefix}{row['method']} seed {row['seed']}: AP {row['ap']:.3f} acc {row['acc']:.3f} "
            f"{gap} {row[gap]:.3f} ({row['fit_time']:.0f} s)"
        )

    return report


def _run_options(args, stem: str) -> dict:
    """Keyword arguments of :func:`~skfairnn.benchmarks.compare` shared by the commands."""
    return dict(
        n_jobs=args.n_jobs,
        torch_threads=args.threads,
        path=Path(args.out) / f"{stem}_runs.jsonl",
        resume=not args.fresh,
        progress_bar=_show_bar(args),
    )


@contextlib.contextmanager
def _backend(args):
    """Connect to ``--dask ADDRESS`` or ``--ray ADDRESS`` and make it joblib's backend."""
    if args.dask is not None:
        with _dask_backend(args):
            yield
    elif args.ray is not None:
        with _ray_backend(args):
            yield
    else:
        yield


@contextlib.contextmanager
def _dask_backend(args):
    try:
        from distributed import Client
    except ImportError:
        raise SystemExit(
            "--dask needs dask.distributed: pip install 'skfairnn[distributed]'"
        ) from None
    import joblib

    with Client(args.dask), joblib.parallel_config(backend="dask", n_jobs=args.n_jobs or -1):
        args.n_jobs = None  # the backend's own worker count
        yield


@contextlib.contextmanager
def _ray_backend(args):
    """Ray's joblib backend on the cluster at ``--ray``; a GPU per run with ``--device cuda``."""
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError:
        raise SystemExit("--ray needs Ray: pip install 'skfairnn[ray]'") from None
    import joblib

    register_ray()
    on_gpu = args.device is not None and args.device.startswith("cuda")
    with (
        _builtin_print_kept(),
        ray.init(address=args.ray),
        joblib.parallel_config(
            backend="ray",
            n_jobs=args.n_jobs or -1,
            ray_remote_args={"num_gpus": 1} if on_gpu else None,
        ),
    ):
        args.n_jobs = None  # the backend's own worker count
        yield


@contextlib.contextmanager
def _builtin_print_kept():
    """Restore ``builtins.print`` after Ray, whose ``ray.shutdown()`` leaves its own in place.

    Measured with Ray 2.60. skorch's ``PrintLog`` holds ``print``, so every network
    fitted afterwards in the same process would fail to pickle.
    """
    import builtins

    kept = builtins.print
    try:
        yield
    finally:
        builtins.print = kept


def _report_failures(results: pd.DataFrame, log) -> None:
    if "error" not in results:
        return
    for _, row in results[results["error"].astype(bool)].iterrows():
        log(f"run failed: {row['method']} seed {row['seed']}: {row['error']}")


def _run_compare(args, log) -> int:
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        log(f"unknown method(s) {unknown}; available: {sorted(METHODS)}")
        return 2
    start = time.perf_counter()
    stem = f"compare_{args.dataset}_{args.constraint}"
    with _backend(args):
        results = compare(
            args.dataset,
            methods,
            constraint=args.constraint,
            seeds=range(args.first_seed, args.first_seed + args.seeds),
            quick=args.quick,
            data_home=args.data_home,
            selection=args.selection,
            device=args.device,
            overrides=_parse_overrides(args.set),
            progress=_reporter(args, log, GAP_COLUMNS[args.constraint][0]),
            **_run_options(args, stem),
        )
    _report_failures(results, log)
    summary = summarize(results)
    print(
        f"\n{args.dataset}, {args.constraint}, {args.seeds} seed(s)"
        f"{' (quick)' if args.quick else ''}:\n"
    )
    print(summary.to_string())
    _write(
        results,
        summary,
        Path(args.out),
        stem,
        GAP_COLUMNS[args.constraint][0],
        f"{args.dataset}, {args.constraint}",
    )
    print(f"\nwrote {args.out}/{stem}_*.csv/.png in {time.perf_counter() - start:.0f} s")
    return 0


def _published_table(spec: dict, summary: pd.DataFrame) -> pd.DataFrame:
    table = summary[list(spec["columns"])].copy()
    for column in spec["columns"]:
        table[f"paper {column}"] = [
            spec["published"].get(method, {}).get(column, "") for method in table.index
        ]
    return table


def _list_experiments() -> None:
    """One line per experiment: name, kind and paper (studies' code is not imported)."""
    missing = "" if study_available() else " (needs: pip install ./benchmarks)"
    for name, spec in REPRODUCTIONS.items():
        kind = f"study{missing}" if "study" in spec else "comparison"
        print(f"{name}: [{kind}] {spec['paper']}")


def _resolve_studies(names: list[str], log) -> dict | None:
    """The study callables of ``names``, or ``None`` after logging why one cannot load."""
    try:
        return {name: resolve_study(name) for name in names if "study" in REPRODUCTIONS[name]}
    except StudyNotInstalledError as error:
        comparisons = [name for name in REPRODUCTIONS if "study" not in REPRODUCTIONS[name]]
        log(f"{error}\nWithout it, these experiments run: {', '.join(comparisons)}")
        return None


def _reproduce_study(name: str, study, args, seeds) -> dict:
    """Run one study spec; print its table; return it as JSON records."""
    spec = REPRODUCTIONS[name]
    print(f"\n== {name}: {spec['paper']}")
    extra = dict(spec.get("study_options", {}))
    if "run_options" in inspect.signature(study).parameters:
        extra["run_options"] = _run_options(args, "runs")
    with _backend(args):
        table = study(
            seeds,
            quick=args.quick,
            data_home=args.data_home,
            device=args.device,
            out=Path(args.out) / name,
            **extra,
        )
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.to_string())
    return json.loads(table.reset_index().to_json(orient="records"))


def _comparison_grid(name: str, args, seeds) -> dict:
    """The :func:`~skfairnn.benchmarks.compare_tasks` arguments of comparison ``name``."""
    spec = REPRODUCTIONS[name]
    return dict(
        dataset=spec["dataset"],
        methods=[m for m in spec["methods"] if m in METHODS],
        constraint=spec["constraint"],
        seeds=seeds,
        quick=args.quick,
        data_home=args.data_home,
        selection=spec["selection"],
        device=args.device,
    )


def _report_comparison(name: str, results: pd.DataFrame, args, log) -> dict:
    """Print and write one comparison's table beside the paper's; return it as JSON."""
    spec = REPRODUCTIONS[name]
    print(f"\n== {name}: {spec['paper']}")
    missing = sorted(set(spec["methods"]) - set(METHODS))
    if missing:
        print(f"   (not registered, skipped: {', '.join(missing)})")
    _report_failures(results, log)
    summary = summarize(results, columns=tuple(spec["columns"]) + ("fit_time",))
    table = _published_table(spec, summary)
    print(table.to_string())
    _write(results, summary, Path(args.out), name, spec["columns"][-1], spec["paper"])
    return table.to_dict(orient="index")


def _run_comparisons(names: list[str], args, seeds, log) -> dict[str, pd.DataFrame]:
    """All comparisons of ``names`` as one pool of runs (:func:`compare_many`)."""
    if not names:
        return {}
    gaps = {name: REPRODUCTIONS[name]["columns"][-1] for name in names}
    reporters = {name: _reporter(args, log, gaps[name], f"{name}: ") for name in names}
    with _backend(args):
        return compare_many(
            {name: _comparison_grid(name, args, seeds) for name in names},
            out=args.out,
            n_jobs=args.n_jobs,
            torch_threads=args.threads,
            resume=not args.fresh,
            progress=lambda name, row: reporters[name](row),
            progress_bar=_show_bar(args),
        )


def _run_reproduce(args, log) -> int:
    if args.list:
        _list_experiments()
        return 0
    names = args.experiments or list(REPRODUCTIONS)
    unknown = sorted(set(names) - set(REPRODUCTIONS))
    if unknown:
        log(f"unknown experiment(s) {unknown}; available: {list(REPRODUCTIONS)}")
        return 2
    studies = _resolve_studies(names, log)  # before any run: a missing package fails fast
    if studies is None:
        return 2
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    start = time.perf_counter()
    comparisons = _run_comparisons([n for n in names if n not in studies], args, seeds, log)
    report = {
        name: _reproduce_study(name, studies[name], args, seeds)
        if name in studies
        else _report_comparison(name, comparisons[name], args, log)
        for name in names
    }
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "reproduce.json").write_text(json.dumps(report, indent=2))
    log(f"reproduce: {len(names)} experiment(s) in {time.perf_counter() - start:.0f} s")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``skfairnn`` console script."""
    args = _parser().parse_args(argv)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    if args.command == "list":
        print("methods:", ", ".join(sorted(METHODS)))
        print("experiments:", ", ".join(REPRODUCTIONS))
        return 0
    if args.command == "compare":
        return _run_compare(args, log)
    return _run_reproduce(args, log)


if __name__ == "__main__":
    sys.exit(main())
