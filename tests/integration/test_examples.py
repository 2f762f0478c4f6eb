# SPDX-License-Identifier: BSD-3-Clause
"""Every script in examples/ runs in quick mode."""

import runpy
from pathlib import Path

import pytest
import sklearn

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, monkeypatch, tmp_path):
    monkeypatch.setenv("SKFAIRNN_EXAMPLES_QUICK", "1")
    monkeypatch.chdir(tmp_path)
    with sklearn.config_context():  # examples may switch routing on globally
        runpy.run_path(str(path), run_name="__main__")
