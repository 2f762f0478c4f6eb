# SPDX-License-Identifier: BSD-3-Clause
"""Checks on the repository's tracked text files."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKERS = ("<<<<<<< ", ">>>>>>> ")


def tracked_text_files() -> list[Path]:
    try:
        listing = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    suffixes = {".py", ".md", ".rst", ".toml", ".cfg", ".txt", ".yml", ".yaml", ""}
    return [ROOT / name for name in listing if Path(name).suffix in suffixes]


def test_no_merge_conflict_markers():
    """A merge left unresolved must not land (README once carried one)."""
    offending = []
    for path in tracked_text_files():
        if not path.is_file():
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
        offending += [
            f"{path.relative_to(ROOT)}:{n}"
            for n, line in enumerate(lines, 1)
            if line.startswith(MARKERS)
        ]
    assert not offending, f"merge-conflict markers in {offending}"
