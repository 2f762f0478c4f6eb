# SPDX-License-Identifier: BSD-3-Clause
"""FairRegClassifier's gap scale: the relaxed gap on probabilities or on logits."""

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from skfairnn import FairBatch, FairRegClassifier
from skfairnn._forward import TrainingForward


def _batch():
    logits = torch.tensor([2.0, -1.0, 0.5, 3.0])
    group = torch.tensor([0, 0, 1, 1])
    batch = FairBatch(logits[:, None], torch.tensor([1.0, 0.0, 1.0, 1.0]), group,
                      torch.ones(4), 2)  # fmt: skip
    return logits, batch


@pytest.mark.parametrize("gap_scale", ["proba", "logit"])
def test_demographic_parity_gap_on_the_chosen_scale_by_hand(gap_scale):
    logits, batch = _batch()
    clf = FairRegClassifier(constraint="demographic_parity", gap_scale=gap_scale)
    scores = logits if gap_scale == "logit" else torch.sigmoid(logits)
    expected = abs(scores[:2].mean() - scores[2:].mean())  # |E[s|A=0] - E[s|A=1]|
    loss = clf.fairness_loss(batch, TrainingForward(logits=logits))
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)


def test_gap_scale_changes_training_and_is_validated(biased_data):
    X, y, A = biased_data
    params = dict(max_epochs=3, lr=1e-2, module__hidden_sizes=(8,), random_state=0)
    proba = FairRegClassifier(**params).fit(X, y, sensitive_features=A).predict_proba(X[:50])
    logit = FairRegClassifier(gap_scale="logit", **params).fit(X, y, sensitive_features=A)
    assert not np.allclose(proba, logit.predict_proba(X[:50]))
    with pytest.raises(InvalidParameterError, match="gap_scale"):
        FairRegClassifier(gap_scale="logits", max_epochs=1).fit(X, y, sensitive_features=A)
