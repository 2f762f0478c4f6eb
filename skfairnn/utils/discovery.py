# SPDX-License-Identifier: BSD-3-Clause
"""Discovery of skfairnn's public names and estimators.

The list of estimators exists once: it is what the public modules of
:mod:`skfairnn.methods` and :mod:`skfairnn.weighting` declare in their
``__all__``. A subpackage's ``__init__`` re-exports those names
(:func:`export_public_names`), the top-level package re-exports the
estimators among them, and :func:`all_estimators` lists them for the tests,
the benchmark registry and the API page. A new module
``skfairnn/methods/<name>.py`` with ``__all__ = ["<Name>Classifier"]``
therefore appears everywhere without an edit to any list.

Only the standard library is imported at module level: this module is
imported while ``skfairnn`` itself is being initialised.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable, MutableMapping
from types import ModuleType

__all__ = ["all_estimators", "export_public_names", "public_modules"]

#: the subpackages whose public modules define estimators
ESTIMATOR_PACKAGES = ("skfairnn.methods", "skfairnn.weighting")

#: ``type_filter`` values of :func:`all_estimators` and what each selects
TYPE_FILTERS = {
    "classifier": "in-processing networks: subclasses of skfairnn.FairNetClassifier",
    "reweighter": "sample weighters: fit sets sample_weight_ (no predict)",
    "meta": "meta-estimators wrapping other estimators (ReweightedClassifier)",
}

_MSG_NO_ALL = (
    "{module} is a public module of {package} but defines no __all__; every public "
    "module lists its public names in __all__ (prefix the file name with '_' to keep it "
    "private)."
)
_MSG_CLASH = "{name!r} is exported by both {first} and {second}; public names must be unique."
_MSG_TYPE_FILTER = "type_filter must be None, one of {options} or a list of them; got {value!r}."


def public_modules(package: str, path: Iterable[str]) -> list[ModuleType]:
    """Import the public modules of a package, in name order.

    Parameters
    ----------
    package : str
        Dotted name of the package (its ``__name__``).
    path : iterable of str
        The package's ``__path__``.

    Returns
    -------
    list of module
        Every module or subpackage directly in ``path`` whose name does not
        start with an underscore.
    """
    names = sorted(info.name for info in pkgutil.iter_modules(path))
    public = [name for name in names if not name.startswith("_")]
    return [importlib.import_module(f"{package}.{name}") for name in public]


def export_public_names(
    package: str, path: Iterable[str], namespace: MutableMapping[str, object]
) -> list[str]:
    """Copy the ``__all__`` names of a package's public modules into its namespace.

    Called from a subpackage's ``__init__`` as
    ``__all__ = export_public_names(__name__, __path__, globals())``.

    Parameters
    ----------
    package : str
        Dotted name of the package.
    path : iterable of str
        The package's ``__path__``.
    namespace : mutable mapping
        The package's ``globals()``; the exported objects are set in it.

    Returns
    -------
    list of str
        The exported names, sorted: the package's ``__all__``.

    Raises
    ------
    ImportError
        If a public module has no ``__all__``, or two modules export the same
        name.
    """
    origin: dict[str, str] = {}
    for module in public_modules(package, path):
        exported = getattr(module, "__all__", None)
        if exported is None:
            raise ImportError(_MSG_NO_ALL.format(module=module.__name__, package=package))
        for name in exported:
            if name in origin:
                raise ImportError(
                    _MSG_CLASH.format(name=name, first=origin[name], second=module.__name__)
                )
            origin[name] = module.__name__
            namespace[name] = getattr(module, name)
    return sorted(origin)


def _is_estimator_class(obj) -> bool:
    from sklearn.base import BaseEstimator

    return inspect.isclass(obj) and issubclass(obj, BaseEstimator) and not inspect.isabstract(obj)


def _estimator_type(cls: type) -> str:
    """Which of :data:`TYPE_FILTERS` an estimator class is (exactly one)."""
    from sklearn.base import ClassifierMixin, MetaEstimatorMixin

    from .._base import FairNetClassifier

    if issubclass(cls, FairNetClassifier):
        return "classifier"
    if issubclass(cls, MetaEstimatorMixin):
        return "meta"
    if not issubclass(cls, ClassifierMixin) and not hasattr(cls, "predict"):
        return "reweighter"
    raise TypeError(
        f"{cls.__module__}.{cls.__name__} is neither a FairNetClassifier, a "
        "meta-estimator nor a sample weighter; all_estimators cannot classify it."
    )


def _check_type_filter(type_filter) -> set[str]:
    if type_filter is None:
        return set(TYPE_FILTERS)
    wanted = [type_filter] if isinstance(type_filter, str) else type_filter
    try:
        wanted = set(wanted)
    except TypeError:
        wanted = None
    if not wanted or not wanted <= set(TYPE_FILTERS):
        raise ValueError(_MSG_TYPE_FILTER.format(options=sorted(TYPE_FILTERS), value=type_filter))
    return wanted


def all_estimators(type_filter: str | list[str] | None = None) -> list[tuple[str, type]]:
    """Every public estimator of skfairnn, found in its subpackages' modules.

    Walks the public modules of :mod:`skfairnn.methods` and
    :mod:`skfairnn.weighting` and keeps each class in a module's ``__all__``
    that is a scikit-learn estimator (a non-abstract
    :class:`~sklearn.base.BaseEstimator` subclass). Modelled on
    :func:`sklearn.utils.discovery.all_estimators`.

    Parameters
    ----------
    type_filter : {"classifier", "reweighter", "meta"}, list of them or None, \
            default=None
        Which kinds to return; ``None`` returns all.

        - ``"classifier"``: the in-processing networks, subclasses of
          :class:`~skfairnn.FairNetClassifier` (ERM included);
        - ``"reweighter"``: sample weighters, whose ``fit`` sets
          ``sample_weight_`` and which have no ``predict``;
        - ``"meta"``: meta-estimators that wrap other estimators
          (:class:`~skfairnn.ReweightedClassifier`).

    Returns
    -------
    list of (str, type)
        ``(class name, class)`` pairs sorted by name.

    Examples
    --------
    >>> from skfairnn.utils import all_estimators
    >>> [name for name, _ in all_estimators("meta")]
    ['ReweightedClassifier']
    >>> "GCMClassifier" in dict(all_estimators("classifier"))
    True
    """
    wanted = _check_type_filter(type_filter)
    found: dict[str, type] = {}
    for package_name in ESTIMATOR_PACKAGES:
        package = importlib.import_module(package_name)
        for module in public_modules(package_name, package.__path__):
            for name in getattr(module, "__all__", ()):
                obj = getattr(module, name)
                if _is_estimator_class(obj) and _estimator_type(obj) in wanted:
                    found[name] = obj
    return sorted(found.items())
