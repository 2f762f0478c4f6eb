# SPDX-License-Identifier: BSD-3-Clause
"""The post-processing entry (ThresholdOptimizer on ERM) and Fair-SMOTE through the harness."""

import numpy as np
import pytest
from fairlearn.postprocessing import ThresholdOptimizer
from numpy.testing import assert_array_equal

from skfairnn import ERMClassifier
from skfairnn.benchmarks import (
    METHODS,
    REPRODUCTIONS,
    RUNNER_PUBLISHED,
    compare,
    decisions,
    evaluate,
    fitted_network,
    load_protocol_data,
    predicts_with_groups,
)


@pytest.fixture(scope="module")
def german():
    return load_protocol_data("german", seed=0)


def test_postprocess_entry_is_threshold_optimizer_on_the_vanilla_network():
    for constraint, name in [
        ("equalized_odds", "equalized_odds"),
        ("demographic_parity", "demographic_parity"),
        ("equal_opportunity", "true_positive_rate_parity"),
    ]:
        estimator = METHODS["postprocess"](constraint, 3, True)
        assert isinstance(estimator, ThresholdOptimizer) and estimator.constraints == name
        network = estimator.estimator
        assert isinstance(network, ERMClassifier) and network.sampling == "random"
        assert network.random_state == 3 and network.prior_correction is None
    assert predicts_with_groups(estimator) and not predicts_with_groups(network)


def test_post_processor_is_judged_on_its_randomized_group_aware_decisions(german):
    estimator = METHODS["postprocess"]("equalized_odds", 0, True)
    result = evaluate(estimator, german, constraint="equalized_odds", random_state=5)
    assert result["epoch"] == -1  # no epoch selection: the network is post-processed once
    fitted = ThresholdOptimizer(**estimator.get_params(deep=False))
    fitted.fit(german.X_train, german.y_train, sensitive_features=german.a_train)
    assert fitted_network(fitted) is None  # its decisions are not the network's
    scores, hard = decisions(fitted, german.X_test, german.a_test, random_state=5)
    # by hand: fairlearn's own calls, with the groups and the seed
    expected = fitted.predict(german.X_test, sensitive_features=german.a_test, random_state=5)
    assert_array_equal(hard, expected)
    pmf = fitted._pmf_predict(german.X_test, sensitive_features=german.a_test)[:, 1]
    assert_array_equal(scores, pmf)
    assert result["acc"] == pytest.approx(np.mean(hard == german.y_test))


def test_postprocess_reduces_the_gap_of_erm_in_compare():
    results = compare("compas", ["erm", "postprocess"], seeds=[0], quick=True)
    assert not results["error"].astype(bool).any()
    gap = results.set_index("method")["eo"]
    # measured (quick, seed 0): ERM 0.452, ThresholdOptimizer 0.063
    assert gap["postprocess"] < 0.5 * gap["erm"]


def test_fair_smote_runs_through_compare(german):
    results = compare("german", ["fair_smote"], seeds=[0], quick=True)
    assert not results["error"].astype(bool).any()
    assert 0.5 < results["acc"].iloc[0] <= 1.0 and results["epoch"].iloc[0] >= 1


def test_runner_tables_carry_the_fair_smote_and_roc_rows():
    for key, rows in RUNNER_PUBLISHED.items():
        assert {"fair_smote", "postprocess"} <= set(rows), key
    assert RUNNER_PUBLISHED[("adult", "equalized_odds")]["postprocess"]["ap"] == 0.600
    assert RUNNER_PUBLISHED[("adult", "equalized_odds")]["fair_smote"]["eo"] == 0.104
    for name in ("runner-adult-dp", "runner-adult-eo", "runner-compas-dp"):
        assert {"fair_smote", "postprocess"} <= set(REPRODUCTIONS[name]["methods"])
    assert "postprocess" in REPRODUCTIONS["fairer-adult-dp"]["methods"]
