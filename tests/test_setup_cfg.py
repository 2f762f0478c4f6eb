# SPDX-License-Identifier: BSD-3-Clause
"""setup.cfg configures only tools that do not read pyproject.toml, and agrees with it."""

import configparser
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def test_setup_cfg_has_no_metadata_and_matches_ruff():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    # no duplicate of the package metadata or of tools configured in pyproject.toml
    assert not {"metadata", "options", "tool:pytest", "coverage:run"} & set(config.sections())
    line_length = pyproject["tool"]["ruff"]["line-length"]
    assert config.getint("flake8", "max-line-length") == line_length
    assert config.getint("pycodestyle", "max-line-length") == line_length


def test_flake8_reads_setup_cfg_and_the_code_passes_it():
    """flake8 (which reads setup.cfg, not pyproject.toml) passes on the code with our settings."""
    pytest.importorskip("flake8")
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "skfairnn", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
