# SPDX-License-Identifier: BSD-3-Clause
"""``skfairnn.utils.discovery``: one estimator list, found in the subpackages' modules."""

import importlib
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator

import skfairnn
from skfairnn import FairNetClassifier
from skfairnn.utils import all_estimators, discovery
from skfairnn.utils.discovery import TYPE_FILTERS, export_public_names

ROOT = Path(__file__).resolve().parents[2]


def _write_package(root: Path, name: str, modules: dict[str, str]) -> None:
    package = root / name
    package.mkdir()
    init = "from skfairnn.utils.discovery import export_public_names\n"
    init += "__all__ = export_public_names(__name__, __path__, globals())\n"
    (package / "__init__.py").write_text(init)
    for module, source in modules.items():
        (package / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def scratch_path(tmp_path, monkeypatch):
    """A folder on ``sys.path`` for throw-away packages (removed from the import cache after)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        sys.modules.pop(name)


NEW_METHOD = """
    from skfairnn import FairNetClassifier

    __all__ = ["FairMixupClassifier", "mixup_path"]


    class FairMixupClassifier(FairNetClassifier):
        pass


    def mixup_path():
        return None
"""


def test_types_partition_the_estimators():
    everything = all_estimators()
    by_type = {kind: all_estimators(kind) for kind in TYPE_FILTERS}
    assert sorted(pair for pairs in by_type.values() for pair in pairs) == everything
    assert all_estimators(["reweighter", "meta"]) == sorted(by_type["reweighter"] + by_type["meta"])


def test_all_estimators_are_sorted_public_estimator_classes():
    everything = all_estimators()
    assert [name for name, _ in everything] == sorted(name for name, _ in everything)
    for name, cls in everything:
        assert cls.__name__ == name and issubclass(cls, BaseEstimator)
        assert getattr(skfairnn, name) is cls and name in skfairnn.__all__
    assert all(issubclass(cls, FairNetClassifier) for _, cls in all_estimators("classifier"))
    assert FairNetClassifier not in dict(everything).values()  # the base is not a method


def test_the_papers_methods_are_found():
    names = dict(all_estimators())
    for name in ("ERMClassifier", "GCMClassifier", "FairerClassifier", "RunnerClassifier"):
        assert name in dict(all_estimators("classifier"))
    for name in ("FairIFReweighter", "InfluencePruner", "KamiranCaldersReweighter"):
        assert name in dict(all_estimators("reweighter"))
    assert [name for name, _ in all_estimators("meta")] == ["ReweightedClassifier"]
    assert "HingeLoss" not in names  # a torch module in weighting's __all__, not an estimator


@pytest.mark.parametrize("bad", ["regressor", ["classifier", "transformer"], [], 3])
def test_unknown_type_filter_is_a_value_error(bad):
    with pytest.raises(ValueError, match="type_filter must be None, one of"):
        all_estimators(bad)


def test_subpackages_reexport_their_modules_all():
    for package in (skfairnn.methods, skfairnn.weighting):
        modules = discovery.public_modules(package.__name__, package.__path__)
        expected = sorted(name for module in modules for name in module.__all__)
        assert package.__all__ == expected
        assert all(getattr(package, name) is not None for name in expected)
    assert "check_user_weights" not in skfairnn.weighting.__all__  # _common.py is private


def test_a_new_module_appears_everywhere_without_editing_a_list(scratch_path, monkeypatch):
    _write_package(scratch_path, "scratch_methods", {"fair_mixup": NEW_METHOD, "_private": ""})
    package = importlib.import_module("scratch_methods")
    assert package.__all__ == ["FairMixupClassifier", "mixup_path"]
    monkeypatch.setattr(discovery, "ESTIMATOR_PACKAGES", ("scratch_methods",))
    assert [name for name, _ in all_estimators("classifier")] == ["FairMixupClassifier"]
    assert all_estimators("meta") == []


def test_a_public_module_without_all_is_an_import_error(scratch_path):
    _write_package(scratch_path, "scratch_no_all", {"loose": "X = 1\n"})
    with pytest.raises(ImportError, match=r"scratch_no_all\.loose .* defines no __all__"):
        importlib.import_module("scratch_no_all")


def test_a_name_exported_twice_is_an_import_error(scratch_path):
    twice = '__all__ = ["shared"]\nshared = 1\n'
    _write_package(scratch_path, "scratch_clash", {"one": twice, "two": twice})
    with pytest.raises(ImportError, match="'shared' is exported by both scratch_clash.one"):
        importlib.import_module("scratch_clash")


def test_export_public_names_fills_the_namespace(scratch_path):
    _write_package(scratch_path, "scratch_fill", {"alpha": '__all__ = ["A"]\nA = 1\n'})
    namespace = {}
    names = export_public_names("scratch_fill", [str(scratch_path / "scratch_fill")], namespace)
    assert names == ["A"] and namespace == {"A": 1}


def test_import_loads_no_plotting_or_benchmark_code():
    code = (
        "import sys, skfairnn; "
        "bad = [m for m in sys.modules if m.split('.')[0] == 'matplotlib' "
        "or m.startswith('skfairnn.benchmarks') or m == 'skfairnn.cli']; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


def _backticked_classes(text: str) -> set[str]:
    return set(re.findall(r"^\| `([A-Za-z]+)(?:\(|`)", text, flags=re.MULTILINE))


def test_readme_methods_table_names_every_estimator():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Methods", 1)[1].split("\n## ", 1)[0]
    assert _backticked_classes(table) == {name for name, _ in all_estimators()}


def test_methods_guide_names_every_estimator():
    guide = (ROOT / "docs" / "user_guide" / "methods.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r":class:`~skfairnn\.([A-Za-z]+)`", guide))
    assert {name for name, _ in all_estimators()} <= listed
