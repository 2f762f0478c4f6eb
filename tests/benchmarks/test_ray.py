"""compare and run_tasks on a Ray cluster (joblib's Ray backend): the sequential numbers,
rows streamed to the JSONL file, resume, failures recorded, one GPU per run; ``--ray``."""

import builtins
import os

import pandas as pd
import pytest

ray = pytest.importorskip("ray")

import joblib  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402
from ray.util.joblib import register_ray  # noqa: E402

from skfairnn.benchmarks import compare, run_tasks  # noqa: E402
from skfairnn.benchmarks._runs import TIMING_COLUMNS  # noqa: E402
from skfairnn.cli import _backend, _parser, main  # noqa: E402

GRID = dict(methods=["erm"], seeds=2, quick=True, torch_threads=1)


def _comparable(frame):
    return frame.drop(columns=list(TIMING_COLUMNS)).reset_index(drop=True)


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster of 2 CPUs and 2 declared (not real) GPUs, its own processes."""
    register_ray()
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 2, "num_gpus": 2, "include_dashboard": False},
    )
    yield cluster
    cluster.shutdown()


@pytest.fixture
def connected(cluster):
    kept = builtins.print  # ray.shutdown() leaves Ray's own print behind (Ray 2.60)
    ray.init(address=cluster.address)
    yield
    ray.shutdown()
    builtins.print = kept


@pytest.fixture(scope="module")
def sequential():
    return compare("german", **GRID)


def test_compare_on_ray_gives_the_sequential_runs_streamed_and_resumable(
    connected, sequential, tmp_path
):
    path = tmp_path / "ray.jsonl"
    with joblib.parallel_backend("ray"):
        on_ray = compare("german", **GRID, path=path)
    pd.testing.assert_frame_equal(_comparable(sequential), _comparable(on_ray))
    assert len(path.read_text().splitlines()) == 2
    # rerunning resumes: every row comes from the file, none is run again
    with joblib.parallel_backend("ray"):
        again = compare("german", **GRID, path=path)
    pd.testing.assert_frame_equal(on_ray, again)
    assert len(path.read_text().splitlines()) == 2


def test_run_tasks_on_ray_one_gpu_per_run_and_failures_recorded(connected, tmp_path):
    def probe(task):
        if task["kind"] == "raise":
            raise RuntimeError("boom")
        if task["kind"] == "die":
            os._exit(1)  # the worker process dies mid-run
        return {"gpus": os.environ.get("CUDA_VISIBLE_DEVICES", "")}

    tasks = [{"kind": kind, "i": i} for i, kind in enumerate(["ok", "ok", "raise", "die"])]
    remote_args = {"num_gpus": 1, "max_retries": 0}
    with joblib.parallel_backend("ray", n_jobs=2, ray_remote_args=remote_args):
        rows = run_tasks(tasks, probe, path=tmp_path / "runs.jsonl")
    assert [row["i"] for row in rows] == [0, 1, 2, 3]
    assert {rows[0]["gpus"], rows[1]["gpus"]} <= {"0", "1"}  # exactly one GPU each
    assert rows[0]["error"] == rows[1]["error"] == ""
    assert rows[2]["error"].startswith("RuntimeError: boom")
    assert "WorkerCrashedError" in rows[3]["error"]
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == 4


@pytest.mark.parametrize("device, remote_args", [("cuda", {"num_gpus": 1}), (None, None)])
def test_cli_ray_connects_to_the_cluster_and_asks_a_gpu_per_run_on_cuda(
    cluster, device, remote_args
):
    argv = ["compare", "--ray", cluster.address, *(["--device", device] if device else [])]
    args = _parser().parse_args(argv)
    print_before = builtins.print
    with _backend(args):
        assert ray.cluster_resources()["GPU"] == 2  # connected to the fixture's cluster
        backend, n_jobs = joblib.parallel.get_active_backend()
        assert backend.ray_remote_args == remote_args
        assert n_jobs == -1 and args.n_jobs is None
    assert not ray.is_initialized()
    # Ray's shutdown swaps builtins.print; the CLI restores it, or no net fitted later pickles
    assert builtins.print is print_before


def test_cli_refuses_dask_and_ray_together(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--dask", "tcp://127.0.0.1:1", "--ray", "auto"])
    assert "not allowed with argument" in capsys.readouterr().err
