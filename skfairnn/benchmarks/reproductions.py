# SPDX-License-Identifier: BSD-3-Clause
"""The papers' experiments that ``skfairnn reproduce`` reruns, with their published numbers.

Two kinds of entry:

* a **comparison** names a dataset, a constraint, the methods (keys of
  :data:`~skfairnn.benchmarks.METHODS`), the epoch-selection rule and the
  columns to show, and carries the paper's reported means next to which our
  measured means are printed (run through :func:`~skfairnn.benchmarks.compare`);
* a **study** has its own protocol (FairIF's tables, the pruning study): its
  ``"study"`` is a callable ``study(seeds, *, quick, data_home, device, out)``
  that writes its files into ``out`` and returns the table to print, with the
  paper's numbers in ``paper …`` columns where the paper gives numbers.

The published numbers are quoted from the papers
(``notes/reference-implementations.md`` §8); they are references, never
outputs.
"""

from __future__ import annotations

from ._fairif_study import reproduce_table1, reproduce_table4
from ._pruning_study import reproduce_c3, reproduce_fig2
from ._robustness import reproduce_robustness

__all__ = ["REPRODUCTIONS"]

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
    "fairer-adult-dp": {
        "paper": "FAIRER (ICML 2023), Adult, demographic parity (probability-level gaps)",
        "dataset": "adult",
        "constraint": "demographic_parity",
        "selection": "prob",
        "columns": ("ap", "dp_prob", "dp"),
        "methods": ("erm", "fairreg", "fairer"),
        "published": {},
    },
    "runner-adult-dp": {
        "paper": "RUNNER (ICSE 2024), Table 1, Adult ΔDP",
        "dataset": "adult",
        "constraint": "demographic_parity",
        "selection": "hard",
        "columns": ("ap", "acc", "dp"),
        "methods": ("erm", "adversarial", "runner"),
        "published": {
            "erm": {"ap": 0.781, "acc": 0.850, "dp": 0.170},
            "adversarial": {"ap": 0.765, "acc": 0.823, "dp": 0.066},
            "runner": {"ap": 0.766, "acc": 0.838, "dp": 0.048},
        },
    },
    "runner-adult-eo": {
        "paper": "RUNNER (ICSE 2024), Table 2, Adult ΔEO (max of ΔTPR, ΔFPR in the code)",
        "dataset": "adult",
        "constraint": "equalized_odds",
        "selection": "hard",
        "columns": ("ap", "acc", "eo", "eo_max"),
        "methods": ("erm", "oversample", "runner"),
        "published": {
            "erm": {"ap": 0.779, "acc": 0.850, "eo": 0.096},
            "oversample": {"ap": 0.762, "acc": 0.819, "eo": 0.141},
            "runner": {"ap": 0.767, "acc": 0.813, "eo": 0.082},
        },
    },
    "runner-compas-dp": {
        "paper": "RUNNER (ICSE 2024), Table 1, COMPAS ΔDP",
        "dataset": "compas",
        "constraint": "demographic_parity",
        "selection": "hard",
        "columns": ("ap", "acc", "dp"),
        "methods": ("erm", "reweighting", "runner"),
        "published": {
            "erm": {"ap": 0.643, "acc": 0.655, "dp": 0.174},
            "reweighting": {"ap": 0.637, "acc": 0.643, "dp": 0.029},
            "runner": {"ap": 0.623, "acc": 0.649, "dp": 0.006},
        },
    },
    "baselines-adult-eo": {
        "paper": "skfairnn baselines, Adult, equalized odds (foundation acceptance run)",
        "dataset": "adult",
        "constraint": "equalized_odds",
        "selection": "hard",
        "columns": ("ap", "acc", "eo", "dp"),
        "methods": ("erm", "oversample", "fairreg", "adversarial"),
        "published": {},
    },
    "fairif-tabular": {
        "paper": "FairIF (WSDM 2024), Table 4: logistic regression on Adult, German, COMPAS; "
        "groups known on the validation rows only",
        "study": reproduce_table4,
    },
    "fairif-digits": {
        "paper": "FairIF (WSDM 2024), Table 1 (MLP) on coloured digits, three bias settings, "
        "and the §6.4 weight study",
        "study": reproduce_table1,
    },
    "pruning-adult": {
        "paper": "Wang, Wang & Liu (ICML 2022), §6.2 / Fig. 2: accuracy and DP violation "
        "against the fraction of Adult kept",
        "study": reproduce_fig2,
    },
    "robustness": {
        "paper": "skfairnn robustness study: every estimator at its defaults and a 3-value grid, "
        "constraint equalized_odds, judged through predict() on the six datasets and three "
        "synthetic stress sets, against fairlearn's ExponentiatedGradient / ThresholdOptimizer",
        "study": reproduce_robustness,
    },
    "pruning-first-order": {
        "paper": "Wang, Wang & Liu (ICML 2022), App. C.3: Eq. 11 vs the actual output change",
        "study": reproduce_c3,
    },
}
