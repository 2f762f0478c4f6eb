# SPDX-License-Identifier: BSD-3-Clause
"""``skfairnn.benchmarks.methods``: every discovered network can be run by name."""

from skfairnn import GCMClassifier
from skfairnn.benchmarks import methods
from skfairnn.benchmarks.methods import METHODS, short_name
from skfairnn.utils import all_estimators


def test_every_discovered_network_has_a_registry_entry():
    built = {type(factory("equalized_odds", 0, True)) for factory in METHODS.values()}
    missing = [name for name, cls in all_estimators("classifier") if cls not in built]
    assert missing == []


def test_a_network_without_a_configuration_gets_a_default_entry(monkeypatch):
    class NewMethodClassifier(GCMClassifier):
        pass

    monkeypatch.setattr(methods, "METHODS", dict(METHODS))
    monkeypatch.setattr(
        methods, "all_estimators", lambda kind: [("NewMethodClassifier", NewMethodClassifier)]
    )
    methods._register_discovered()
    assert short_name(NewMethodClassifier) == "newmethod"
    estimator = methods.METHODS["newmethod"]("equalized_odds", 3, True)
    assert type(estimator) is NewMethodClassifier
    assert estimator.constraint == "equalized_odds" and estimator.sampling == "cell_balanced"
    assert estimator.random_state == 3 and estimator.max_epochs == 4
    assert set(methods.METHODS) - set(METHODS) == {"newmethod"}  # configured ones untouched


def test_gcm_dp_paper_entry_is_section_4_3_for_dp_and_gcm_t2_otherwise():
    from skfairnn.benchmarks import METHODS

    dp = METHODS["gcm_t2_dp_paper"]("demographic_parity", 0, False).get_params()
    assert (dp["dp_cells"], dp["sampling"], dp["batch_size"]) == (
        "label_cells",
        "dp_resampled",
        2000,
    )
    eo, t2 = (METHODS[name]("equalized_odds", 0, False).get_params(deep=False)
              for name in ("gcm_t2_dp_paper", "gcm_t2"))  # fmt: skip
    assert eo == t2
