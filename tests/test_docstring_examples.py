# SPDX-License-Identifier: BSD-3-Clause
"""The Examples sections of the docstrings run and print what they show.

Collected through the imported package (not ``--doctest-modules`` on the source
tree), so it works the same for an editable and a regular install.
"""

import doctest
import importlib
import pkgutil

import pytest

import skfairnn

MODULES = sorted(info.name for info in pkgutil.walk_packages(skfairnn.__path__, prefix="skfairnn."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_public_classes_carry_examples():
    finder = doctest.DocTestFinder()
    for name in ("ERMClassifier", "FairRegClassifier", "GCMClassifier", "ReweightedClassifier"):
        tests = finder.find(getattr(skfairnn, name), name)
        assert any(test.examples for test in tests), f"{name} has no docstring example"
