# SPDX-License-Identifier: BSD-3-Clause
"""setup.cfg configures only tools that do not read pyproject.toml, and agrees with it."""

import configparser
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
