# SPDX-License-Identifier: BSD-3-Clause
"""The papers' experiments that ``skfairnn reproduce`` reruns, with their published numbers.

Each entry names a dataset, a constraint, the methods (keys of
:data:`~skfairnn.benchmarks.METHODS`), the epoch-selection rule and the
columns to show, and carries the paper's reported means next to which our
measured means are printed. The published numbers are quoted from the papers
(``notes/reference-implementations.md`` §8); they are references, never
outputs.
"""

from __future__ import annotations

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
}
