# SPDX-License-Identifier: BSD-3-Clause
"""The papers' experiments that ``skfairnn reproduce`` reruns, with their published numbers.

Two kinds of entry:

* a **comparison** names a dataset, a constraint, the methods (keys of
  :data:`~skfairnn.benchmarks.METHODS`), the epoch-selection rule and the
  columns to show, and carries the paper's reported means next to which our
  measured means are printed (run through :func:`~skfairnn.benchmarks.compare`);
* a **study** has its own protocol (FairIF's tables, the pruning study, the
  robustness study). Its code is not part of the installed ``skfairnn``: it
  lives in the separate ``skfairnn-benchmarks`` project (``benchmarks/`` of
  the repository, import package ``skfairnn_benchmarks``). The spec's
  ``"study"`` names the callable as ``"module:function"``, imported only when
  the study runs (:func:`resolve_study`); the callable is
  ``study(seeds, *, quick, data_home, device, out)``, writes its files into
  ``out`` and returns the table to print, with the paper's numbers in
  ``paper …`` columns where the paper gives numbers. An optional
  ``"study_options"`` dict is passed to it as further keywords (e.g. the
  epoch-selection rule ``{"selection": "accuracy"}``).

The published numbers are quoted from the papers
(``notes/reference-implementations.md`` §8); they are references, never
outputs. :data:`RUNNER_PUBLISHED` is the one copy of RUNNER's Tables 1–2,
which the comparisons below and ``python -m skfairnn_benchmarks.reproduce_runner``
both read. Its ROC column (reject-option classification, Kamiran et al. 2012)
is filed under ``"postprocess"``, our nearest post-processor (fairlearn's
``ThresholdOptimizer`` on the Vanilla net): another post-processing rule, so
that row is a reference for the kind of method, not for the same one. The
FairSmote column is ``"fair_smote"`` (RUNNER ran the authors' generator; ours
is SMOTE's, see :class:`~skfairnn.FairSMOTEClassifier`).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

__all__ = [
    "REPRODUCTIONS",
    "RUNNER_PUBLISHED",
    "STUDY_PACKAGE",
    "StudyNotInstalledError",
    "resolve_study",
    "study_available",
]

#: import package holding the studies' code (distribution ``skfairnn-benchmarks``)
STUDY_PACKAGE = "skfairnn_benchmarks"
_INSTALL_HINT = (
    "the study code is the separate skfairnn-benchmarks project; from a checkout of "
    "the repository run: pip install ./benchmarks"
)

#: RUNNER (ICSE 2024) Tables 1-2, mean over 10 splits: (dataset, constraint) -> method -> metrics
RUNNER_PUBLISHED: dict[tuple[str, str], dict[str, dict[str, float]]] = {
    ("adult", "demographic_parity"): {
        "erm": {"ap": 0.781, "acc": 0.850, "dp": 0.170},
        "adversarial": {"ap": 0.765, "acc": 0.823, "dp": 0.066},
        "fair_smote": {"ap": 0.781, "acc": 0.852, "dp": 0.146},
        "postprocess": {"ap": 0.646, "acc": 0.845, "dp": 0.082},  # ROC
        "fairneuron": {"dp": 0.171},  # RUNNER's run of FairNeuron (metric only)
        "runner": {"ap": 0.766, "acc": 0.838, "dp": 0.048},
    },
    ("compas", "demographic_parity"): {
        "erm": {"ap": 0.643, "acc": 0.655, "dp": 0.174},
        "reweighting": {"ap": 0.637, "acc": 0.643, "dp": 0.029},
        "fair_smote": {"ap": 0.632, "acc": 0.654, "dp": 0.166},
        "postprocess": {"ap": 0.501, "acc": 0.636, "dp": 0.049},  # ROC
        "fairneuron": {"dp": 0.190},
        "runner": {"ap": 0.623, "acc": 0.649, "dp": 0.006},
    },
    ("german", "demographic_parity"): {
        "erm": {"ap": 0.797, "acc": 0.682, "dp": 0.134},
        "fair_smote": {"ap": 0.811, "acc": 0.66, "dp": 0.161},
        "postprocess": {"ap": 0.792, "acc": 0.695, "dp": 0.15},  # ROC
        "runner": {"ap": 0.840, "acc": 0.654, "dp": 0.056},
    },
    ("lsac", "demographic_parity"): {
        "erm": {"ap": 0.924, "acc": 0.839, "dp": 0.007},
        "fair_smote": {"ap": 0.913, "acc": 0.823, "dp": 0.007},
        "postprocess": {"ap": 0.879, "acc": 0.847, "dp": 0.004},  # ROC
        "runner": {"ap": 0.924, "acc": 0.840, "dp": 0.004},
    },
    ("adult", "equalized_odds"): {
        "erm": {"ap": 0.779, "acc": 0.850, "eo": 0.096},
        "oversample": {"ap": 0.762, "acc": 0.819, "eo": 0.141},
        "fair_smote": {"ap": 0.785, "acc": 0.852, "eo": 0.104},
        "postprocess": {"ap": 0.6, "acc": 0.825, "eo": 0.145},  # ROC
        "fairneuron": {"eo": 0.138},
        "runner": {"ap": 0.767, "acc": 0.813, "eo": 0.082},
    },
    ("compas", "equalized_odds"): {
        "erm": {"ap": 0.641, "acc": 0.653, "eo": 0.348},
        "fair_smote": {"ap": 0.635, "acc": 0.654, "eo": 0.318},
        "postprocess": {"ap": 0.523, "acc": 0.636, "eo": 0.246},  # ROC
        "fairneuron": {"eo": 0.353},
        "runner": {"ap": 0.637, "acc": 0.651, "eo": 0.046},
    },
    ("german", "equalized_odds"): {
        "erm": {"ap": 0.788, "acc": 0.650, "eo": 0.343},
        "fair_smote": {"ap": 0.808, "acc": 0.634, "eo": 0.297},
        "postprocess": {"ap": 0.764, "acc": 0.636, "eo": 0.25},  # ROC
        "runner": {"ap": 0.838, "acc": 0.660, "eo": 0.179},
    },
    ("lsac", "equalized_odds"): {
        "erm": {"ap": 0.925, "acc": 0.841, "eo": 0.024},
        "fair_smote": {"ap": 0.916, "acc": 0.823, "eo": 0.048},
        "postprocess": {"ap": 0.864, "acc": 0.7, "eo": 0.029},  # ROC
        "runner": {"ap": 0.908, "acc": 0.671, "eo": 0.018},
    },
}

REPRODUCTIONS: dict[str, dict] = {
    "gcm-adult-eo": {
        "paper": "GCM (IJCAI 2023), Adult, equalized odds (text of Sec. 5 and Table 3)",
        "dataset": "adult",
        "constraint": "equalized_odds",
        "selection": "hard",
        "columns": ("ap", "eo"),
        "methods": ("erm", "oversample", "fairreg", "gcm_t0", "gcm_t2"),
        "published": {
            "erm": {"ap": 0.778, "eo": 0.096},
            "oversample": {"ap": 0.762, "eo": 0.140},
            "fairreg": {"ap": 0.747, "eo": 0.051},
            "gcm_t2": {"ap": 0.751, "eo": 0.033},
        },
    },
    "gcm-compas-dp": {
        "paper": "GCM (IJCAI 2023), COMPAS, demographic parity (Sec. 4.3's resampled batches, "
        "cells matched per label; numbers from the text)",
        "dataset": "compas",
        "constraint": "demographic_parity",
        "selection": "hard",
        "columns": ("ap", "acc", "dp"),
        "methods": ("erm", "dp_resample", "fairreg", "gcm_t2", "gcm_t2_dp_paper"),
        "published": {
            "erm": {"ap": 0.649, "dp": 0.245},
            "dp_resample": {"ap": 0.636, "dp": 0.029},
            "fairreg": {"ap": 0.634, "dp": 0.015},
            "gcm_t2_dp_paper": {"ap": 0.633, "dp": 0.0027},
        },
    },
    "fairer-adult-dp": {
        "paper": "FAIRER (ICML 2023), Adult, demographic parity (probability-level gaps; "
        "its Post-processing baseline is ThresholdOptimizer here)",
        "dataset": "adult",
        "constraint": "demographic_parity",
        "selection": "prob",
        "columns": ("ap", "dp_prob", "dp"),
        "methods": ("erm", "fairreg", "fair_mixup", "fairer", "postprocess"),
        "published": {},
    },
    "runner-adult-dp": {
        "paper": "RUNNER (ICSE 2024), Table 1, Adult ΔDP",
        "dataset": "adult",
        "constraint": "demographic_parity",
        "selection": "hard",
        "columns": ("ap", "acc", "dp"),
        "methods": ("erm", "adversarial", "fair_smote", "postprocess", "fairneuron", "runner"),
        "published": RUNNER_PUBLISHED[("adult", "demographic_parity")],
    },
    "runner-adult-eo": {
        "paper": "RUNNER (ICSE 2024), Table 2, Adult ΔEO (max of ΔTPR, ΔFPR in the code)",
        "dataset": "adult",
        "constraint": "equalized_odds",
        "selection": "hard",
        "columns": ("ap", "acc", "eo", "eo_max"),
        "methods": ("erm", "oversample", "fair_smote", "postprocess", "fairneuron", "runner"),
        "published": RUNNER_PUBLISHED[("adult", "equalized_odds")],
    },
    "runner-compas-dp": {
        "paper": "RUNNER (ICSE 2024), Table 1, COMPAS ΔDP",
        "dataset": "compas",
        "constraint": "demographic_parity",
        "selection": "hard",
        "columns": ("ap", "acc", "dp"),
        "methods": ("erm", "reweighting", "fair_smote", "postprocess", "fairneuron", "runner"),
        "published": RUNNER_PUBLISHED[("compas", "demographic_parity")],
    },
    "baselines-adult-eo": {
        "paper": "skfairnn baselines, Adult, equalized odds (foundation acceptance run)",
        "dataset": "adult",
        "constraint": "equalized_odds",
        "selection": "hard",
        "columns": ("ap", "acc", "eo", "dp"),
        "methods": ("erm", "oversample", "fairreg", "adversarial", "arl"),
        "published": {},
    },
    "fairif-tabular": {
        "paper": "FairIF (WSDM 2024), Table 4: logistic regression on Adult, German, COMPAS; "
        "groups known on the validation rows only",
        "study": "skfairnn_benchmarks.fairif:reproduce_table4",
    },
    "fairif-digits": {
        "paper": "FairIF (WSDM 2024), Table 1 (MLP) on coloured digits, three bias settings, "
        "and the §6.4 weight study; each model at its epoch of best validation accuracy",
        "study": "skfairnn_benchmarks.fairif:reproduce_table1",
        # Sec. 6.1: "We report the results of the epochs with the best task accuracy"
        "study_options": {"selection": "accuracy"},
    },
    "pruning-adult": {
        "paper": "Wang, Wang & Liu (ICML 2022), §6.2 / Fig. 2: accuracy and DP violation "
        "against the fraction of Adult kept",
        "study": "skfairnn_benchmarks.pruning:reproduce_fig2",
    },
    "robustness": {
        "paper": "skfairnn robustness study: every estimator at its defaults and a 3-value grid, "
        "constraint equalized_odds, judged through predict() on the six datasets and three "
        "synthetic stress sets, against fairlearn's ExponentiatedGradient / ThresholdOptimizer",
        "study": "skfairnn_benchmarks.robustness:reproduce_robustness",
    },
    "pruning-first-order": {
        "paper": "Wang, Wang & Liu (ICML 2022), App. C.3: Eq. 11 vs the actual output change",
        "study": "skfairnn_benchmarks.pruning:reproduce_c3",
    },
}


class StudyNotInstalledError(ModuleNotFoundError):
    """A study's code (the ``skfairnn-benchmarks`` project) is not installed."""


def study_available() -> bool:
    """Whether :data:`STUDY_PACKAGE` can be imported (found without importing it)."""
    return importlib.util.find_spec(STUDY_PACKAGE) is not None


def resolve_study(name: str) -> Callable:
    """The callable of study ``name``, imported now (``"module:function"`` in its spec).

    Parameters
    ----------
    name : str
        A key of :data:`REPRODUCTIONS` whose spec has a ``"study"``.

    Returns
    -------
    callable
        ``study(seeds, *, quick, data_home, device, out)``.

    Raises
    ------
    StudyNotInstalledError
        When ``skfairnn_benchmarks`` is not installed; the message says how to
        install it. Any other import error of the study's code propagates.
    ValueError
        When ``name`` is not a study of :data:`REPRODUCTIONS`.
    """
    spec = REPRODUCTIONS.get(name)
    if spec is None or "study" not in spec:
        studies = [key for key, value in REPRODUCTIONS.items() if "study" in value]
        raise ValueError(f"name must be one of the studies {studies}; got {name!r}.")
    module_name, _, function = spec["study"].partition(":")
    package = module_name.partition(".")[0]
    try:  # the package first: only its absence is "not installed"
        importlib.import_module(package)
    except ModuleNotFoundError as error:
        if error.name != package:
            raise
        raise StudyNotInstalledError(
            f"skfairnn reproduce {name} needs the {package} package: {_INSTALL_HINT}.",
            name=package,
        ) from error
    return getattr(importlib.import_module(module_name), function)
