# SPDX-License-Identifier: BSD-3-Clause
"""The complete method of ``docs/user_guide/writing_a_method.rst`` runs and does what it says."""

import re
from pathlib import Path

import numpy as np
from sklearn.base import clone

from skfairnn import ERMClassifier
from skfairnn.datasets import make_biased_classification

GUIDE = Path(__file__).parents[2] / "docs" / "user_guide" / "writing_a_method.rst"


def _method_from_the_guide():
    text = GUIDE.read_text()
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text)
    source = "\n".join("\n".join(line[4:] for line in block.splitlines()) for block in blocks)
    namespace: dict = {}
    exec(compile(source, str(GUIDE), "exec"), namespace)
    return namespace["MeanLogitGapClassifier"]


def _dp_gap(pred, A):
    return abs(pred[A == 0].mean() - pred[A == 1].mean())


def test_the_guides_method_is_an_estimator_that_reduces_the_gap():
    method = _method_from_the_guide()
    X, y, A = make_biased_classification(1500, random_state=0)
    params = dict(max_epochs=5, random_state=0, module__hidden_sizes=(16,))
    fair = method(fairness_weight=2.0, **params).fit(X, y, sensitive_features=A)
    erm = ERMClassifier(sampling="group_balanced", **params).fit(X, y, sensitive_features=A)
    assert _dp_gap(fair.predict(X), A) < 0.5 * _dp_gap(erm.predict(X), A)
    assert clone(fair).get_params()["power"] == 1.0
    # fairness_weight=0 is exactly ERM with the same sampling
    off = method(fairness_weight=0.0, **params).fit(X, y, sensitive_features=A)
    np.testing.assert_allclose(off.predict_proba(X), erm.predict_proba(X), atol=1e-6)
