# SPDX-License-Identifier: BSD-3-Clause
"""Speed-ups of the training step must not move the numbers.

Each case fits a small network with a fixed ``random_state`` and compares its
``predict_proba`` on a few rows with the values the step produced before it
was optimised (per-cell forwards by ``nonzero`` with one host read per cell,
RUNNER's activation pairing traced at every step, the relaxed gaps of
version 0.1): ``EXPECTED`` was computed with that code on CPU, one torch
thread. A change that alters a method's arithmetic (other cells, another
order of the gradient terms beyond rounding, a different neuron selection)
fails here.
"""

import numpy as np
import pytest
import torch

import skfairnn
from skfairnn.datasets import make_biased_classification

#: name -> (estimator, parameters, data parameters, zero some sample weights)
CASES = {
    "gcm_eo": ("GCMClassifier", {}, {}, False),
    "gcm_eo_sum_weighted": (
        "GCMClassifier",
        {"gradient": "sum", "magnitude": "abs", "fairness_weight": 0.03},
        {},
        True,
    ),
    "gcm_dp_groups_3": (
        "GCMClassifier",
        {"constraint": "demographic_parity"},
        {"n_groups": 3},
        False,
    ),
    "gcm_dp_label_cells": (
        "GCMClassifier",
        {"constraint": "demographic_parity", "dp_cells": "label_cells", "temperature": 0},
        {},
        False,
    ),
    "fairer_dp": ("FairerClassifier", {"alignment_weight": 0.1}, {}, False),
    "fairer_eo_unit_3": (
        "FairerClassifier",
        {"alignment_weight": 0.1, "constraint": "equalized_odds", "importance": "unit"},
        {"n_groups": 3},
        True,
    ),
    "fairreg_eo": ("FairRegClassifier", {}, {}, False),
    "fairreg_dp_logit_3": (
        "FairRegClassifier",
        {"constraint": "demographic_parity", "gap_scale": "logit"},
        {"n_groups": 3},
        True,
    ),
    "fairreg_eop": ("FairRegClassifier", {"constraint": "equal_opportunity"}, {}, False),
    "runner_dp": ("RunnerClassifier", {"top_k": 0.25}, {}, False),
    "runner_eo_3": (
        "RunnerClassifier",
        {
            "constraint": "equalized_odds",
            "top_k": 3,
            "importance": "neuron",
            "fairness_weight": 0.1,
        },
        {"n_groups": 3},
        True,
    ),
}

EXPECTED = {
    "gcm_eo": [
        0.3094488,
        0.6875344,
        0.95634494,
        0.26678991,
        0.18200239,
        0.70113185,
        0.1442563,
        0.81618735,
    ],
    "gcm_eo_sum_weighted": [
        0.19814196,
        0.74608068,
        0.98128701,
        0.17651704,
        0.09681445,
        0.79559027,
        0.06313067,
        0.87517497,
    ],
    "gcm_dp_groups_3": [
        0.96949186,
        0.14923765,
        0.30432941,
        0.33322862,
        0.44605211,
        0.23171346,
        0.99667653,
        0.11266264,
    ],
    "gcm_dp_label_cells": [
        0.43914912,
        0.50088783,
        0.58463449,
        0.4212754,
        0.41308674,
        0.56045192,
        0.3985656,
        0.52276226,
    ],
    "fairer_dp": [
        0.47503861,
        0.50444333,
        0.58814675,
        0.45032375,
        0.45507756,
        0.59437311,
        0.43697052,
        0.51496882,
    ],
    "fairer_eo_unit_3": [
        0.58011089,
        0.38579919,
        0.49199441,
        0.41711435,
        0.40501847,
        0.43303684,
        0.83587595,
        0.38320802,
    ],
    "fairreg_eo": [
        0.30504666,
        0.60988559,
        0.95807186,
        0.19417707,
        0.07498443,
        0.73605708,
        0.05492366,
        0.75333957,
    ],
    "fairreg_dp_logit_3": [
        0.67489132,
        0.36716576,
        0.45060181,
        0.5781838,
        0.5412225,
        0.37972062,
        0.8041589,
        0.3467178,
    ],
    "fairreg_eop": [
        0.23832458,
        0.56277679,
        0.95553779,
        0.15930262,
        0.06025513,
        0.70435019,
        0.03645056,
        0.7596888,
    ],
    "runner_dp": [
        0.31240583,
        0.41493011,
        0.79617705,
        0.23780208,
        0.18521503,
        0.68450043,
        0.15234735,
        0.53609523,
    ],
    "runner_eo_3": [
        0.77921053,
        0.20511598,
        0.51575659,
        0.52479904,
        0.50080885,
        0.29258046,
        0.99210325,
        0.15231187,
    ],
}


def fit_scores(name: str) -> np.ndarray:
    """Positive-class probabilities of the first 8 rows after the case's fit."""
    estimator, params, data_params, zero_weights = CASES[name]
    X, y, A = make_biased_classification(
        300, 6, bias="group_size", minority_fraction=0.4, random_state=0, **data_params
    )
    weight = np.ones(len(y))
    if zero_weights:
        weight[::7] = 0.0
        weight[1::5] = 2.5
    params = {"fairness_weight": 0.3, **params}
    clf = getattr(skfairnn, estimator)(
        module__hidden_sizes=(12, 8), batch_size=64, max_epochs=8, lr=1e-2, random_state=0, **params
    )
    clf.fit(X, y, sensitive_features=A, sample_weight=weight)
    return clf.predict_proba(X[:8])[:, 1]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fit_matches_the_unoptimised_step(name):
    with torch.random.fork_rng():
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            scores = fit_scores(name)
        finally:
            torch.set_num_threads(previous)
    # rtol 1e-3: rounding differs between CPUs; a 1 % change of a weight moves these >= 2e-3
    np.testing.assert_allclose(scores, EXPECTED[name], rtol=1e-3, atol=1e-4)


if __name__ == "__main__":  # print EXPECTED (run with the reference code on PYTHONPATH)
    torch.set_num_threads(1)
    for case in CASES:
        print(f"    {case!r}: {np.array2string(fit_scores(case), separator=', ', precision=8)},")
