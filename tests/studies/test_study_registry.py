# SPDX-License-Identifier: BSD-3-Clause
"""The installed package holds specs, not studies: lazy resolution and ``skfairnn reproduce``."""

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import skfairnn
import skfairnn.benchmarks
from skfairnn.benchmarks import (
    REPRODUCTIONS,
    RUNNER_PUBLISHED,
    StudyNotInstalledError,
    resolve_study,
)
from skfairnn.cli import main

STUDIES = [name for name, spec in REPRODUCTIONS.items() if "study" in spec]
#: the harness the core package keeps: protocol, runs, compare, data, registries
CORE_MODULES = {"_compare", "_data", "_protocol", "_runs", "methods", "reproductions"}


@pytest.fixture
def without_study_package(monkeypatch):
    """``skfairnn_benchmarks`` not importable, as in an install without ``./benchmarks``."""
    for name in [m for m in sys.modules if m.startswith("skfairnn_benchmarks.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "skfairnn_benchmarks", None)


def test_installed_package_holds_no_study_module():
    modules = {info.name for info in pkgutil.iter_modules(skfairnn.benchmarks.__path__)}
    assert modules == CORE_MODULES
    everything = {info.name for info in pkgutil.walk_packages(skfairnn.__path__, "skfairnn.")}
    for study in ("fairif_study", "pruning_study", "robustness", "balanced_adult"):
        assert not [name for name in everything if name.rsplit(".", 1)[-1].endswith(study)]


def test_study_specs_name_their_callable_in_the_benchmarks_package():
    assert {"fairif-tabular", "fairif-digits", "pruning-adult", "pruning-first-order"} <= set(
        STUDIES
    )
    for name in STUDIES:
        target = REPRODUCTIONS[name]["study"]
        assert isinstance(target, str) and target.startswith("skfairnn_benchmarks.")
        study = resolve_study(name)
        assert callable(study) and study.__module__ == target.partition(":")[0]
    with pytest.raises(ValueError, match="name must be one of the studies"):
        resolve_study("gcm-adult-eo")


def test_importing_skfairnn_loads_no_study_and_no_plotting_code():
    code = (
        "import sys, skfairnn, skfairnn.benchmarks, skfairnn.cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('matplotlib', 'skfairnn_benchmarks')))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "[]"


def test_missing_benchmarks_package_gives_the_install_command(without_study_package):
    with pytest.raises(StudyNotInstalledError, match=r"pip install \./benchmarks"):
        resolve_study("fairif-tabular")


def test_other_import_errors_of_a_study_are_not_masked(monkeypatch):
    monkeypatch.setitem(
        REPRODUCTIONS, "broken", {"paper": "-", "study": "skfairnn_benchmarks.no_such:run"}
    )
    with pytest.raises(ModuleNotFoundError) as error:
        resolve_study("broken")
    assert not isinstance(error.value, StudyNotInstalledError)


def test_cli_reproduce_study_without_the_package_exits_before_running(
    without_study_package, tmp_path, capsys
):
    out = tmp_path / "out"
    argv = ["reproduce", "gcm-adult-eo", "fairif-tabular", "--quick", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "pip install ./benchmarks" in err and "fairif-tabular" in err
    assert "gcm-adult-eo" in err  # what still runs without it
    assert not out.exists()  # nothing ran, not even the comparison


def test_cli_reproduce_list_shows_every_spec_without_the_package(without_study_package, capsys):
    assert main(["reproduce", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == list(REPRODUCTIONS)
    for name, line in zip(REPRODUCTIONS, lines):
        if name in STUDIES:
            assert "needs: pip install ./benchmarks" in line
        else:
            assert "[comparison]" in line


def test_runner_script_reads_the_registry_tables():
    from skfairnn_benchmarks import reproduce_runner

    assert not hasattr(reproduce_runner, "PUBLISHED")  # no second copy
    frame = pd.DataFrame(
        [{"dataset": "lsac", "constraint": "eo", "method": "runner", "seed": 0, "ap": 0.9,
          "acc": 0.7, "dp": 0.01, "eo": 0.02, "eo_max": 0.01, "fit_time": 1.0}]
    )  # fmt: skip
    paper = reproduce_runner.summarize(frame).loc[("lsac", "eo", "runner"), "paper"]
    published = RUNNER_PUBLISHED[("lsac", "equalized_odds")]["runner"]
    assert paper == " ".join(f"{k}={v}" for k, v in published.items())
    assert (
        REPRODUCTIONS["runner-adult-eo"]["published"]
        == RUNNER_PUBLISHED[("adult", "equalized_odds")]
    )


def test_cli_reproduces_fairif_table4_and_the_first_order_check(tmp_path, capsys):
    code = main(
        ["reproduce", "fairif-tabular", "pruning-first-order", "--quick", "--seeds", "1"]
        + ["--out", str(tmp_path), "--quiet"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "FairIF (tuned)" in printed and "paper AOD" in printed
    runs = pd.read_csv(tmp_path / "fairif-tabular" / "fairif_table4_runs.csv")
    assert set(runs["method"]) == {"Original", "FairIF (l2_weight=0.1)", "FairIF (tuned)"}
    assert runs["AOD"].between(0, 1).all() and runs["Acc"].between(50, 100).all()
    # App. C.3: Eq. 11 predicts the output change of one small update almost exactly
    report = json.loads((tmp_path / "reproduce.json").read_text())
    assert report["pruning-first-order"][0]["eta=0.001"] > 0.99


def test_cli_passes_a_specs_study_options_to_the_study(tmp_path, capsys):
    from skfairnn.cli import _parser, _reproduce_study

    assert REPRODUCTIONS["fairif-digits"]["study_options"] == {"selection": "accuracy"}
    seen = {}

    def study(seeds, *, quick, data_home, device, out, selection="last"):
        seen["selection"] = selection
        return pd.DataFrame({"x": [1]})

    args = _parser().parse_args(["reproduce", "fairif-digits", "--out", str(tmp_path)])
    _reproduce_study("fairif-digits", study, args, [0])
    assert seen == {"selection": "accuracy"}
    _reproduce_study("fairif-tabular", study, args, [0])
    assert seen == {"selection": "last"}
