# SPDX-License-Identifier: BSD-3-Clause
"""scikit-learn's estimator checks over every public estimator.

The estimators come from :func:`skfairnn.utils.all_estimators`; the only
hand-written part is how a meta-estimator is built (:data:`META_INSTANCES`).

Expected failures, with reasons, are listed once here:

* ``check_no_attributes_set_in_init``: skorch's ``NeuralNet.__init__`` sets
  ``history_``, ``initialized_`` and ``virtual_params_`` and stores dunder
  keyword arguments (``module__hidden_sizes``) as attributes; this is how
  skorch makes ``set_params(module__...)`` work.
* ``check_sample_weight_equivalence_on_dense_data`` (and ``_sparse_data``,
  the same check on densified sparse input): weights versus repeated
  rows agree only up to float32 round-off after stochastic minibatch training
  (the check demands ``rtol=1e-7``; we differ in the 8th digit).
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skfairnn import ERMClassifier, KamiranCaldersReweighter
from skfairnn.utils import all_estimators

# enough training for the blob checks (accuracy > 0.83) while staying fast
FAST = dict(max_epochs=30, lr=1e-2, batch_size=64, module__hidden_sizes=(32,), random_state=0)

#: how each meta-estimator is built for the checks (the weighter is the fast, exact one)
META_INSTANCES = {
    "ReweightedClassifier": lambda cls: cls(KamiranCaldersReweighter(), ERMClassifier(**FAST)),
}

# Every in-processing network, and every meta-estimator; weighters have no predict, so they
# are checked through the meta-estimator.
ESTIMATORS = [cls(**FAST) for _, cls in all_estimators("classifier")] + [
    META_INSTANCES[name](cls) for name, cls in all_estimators("meta")
]

SKORCH_INIT = "skorch's __init__ sets history_/initialized_/virtual_params_ and dunder kwargs"
FLOAT32_SGD = "weights vs repeated rows agree only to float32 round-off after minibatch SGD"
EXPECTED_FAILURES = {
    "check_no_attributes_set_in_init": SKORCH_INIT,
    "check_sample_weight_equivalence_on_dense_data": FLOAT32_SGD,
    "check_sample_weight_equivalence_on_sparse_data": FLOAT32_SGD,
}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
