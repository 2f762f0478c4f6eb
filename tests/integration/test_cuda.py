# SPDX-License-Identifier: BSD-3-Clause
"""The CUDA path: every method trains and predicts with ``device="cuda"``.

Skipped without a GPU (CI has none); run on a GPU machine with
``pytest -m cuda tests/integration/test_cuda.py``.
"""

import numpy as np
import pytest
import torch

from skfairnn.utils import all_estimators

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

#: every in-processing network, as discovered (no list to keep in step)
METHODS = [cls for _, cls in all_estimators("classifier")]
#: methods whose analysis needs a stack of ``nn.Linear`` layers: they refuse a CNN
LINEAR_ONLY = {"FairNeuronClassifier"}


@pytest.mark.parametrize("cls", METHODS, ids=lambda c: c.__name__)
def test_fit_predict_on_cuda_matches_cpu_closely(cls, biased_data):
    X, y, group = biased_data
    params = dict(max_epochs=3, batch_size=256, module__hidden_sizes=(32,), random_state=0)
    gpu = cls(device="cuda", **params).fit(X, y, sensitive_features=group)
    assert next(gpu.module_.parameters()).is_cuda
    proba = gpu.predict_proba(X)
    assert isinstance(proba, np.ndarray) and np.isfinite(proba).all()
    cpu = cls(device="cpu", **params).fit(X, y, sensitive_features=group)
    # same seed, same batches: the two devices agree up to float round-off
    assert np.mean(gpu.predict(X) == cpu.predict(X)) > 0.97


@pytest.mark.parametrize("cls", METHODS, ids=lambda c: c.__name__)
def test_cnn_on_cuda(cls):
    from skfairnn.modules import ConvNet

    rng = np.random.default_rng(0)
    X = rng.normal(size=(128, 3, 16, 16)).astype(np.float32)
    y = (X[:, 0].mean((1, 2)) > 0).astype(int)
    clf = cls(
        module=ConvNet,
        module__channels=(8, 16),
        device="cuda",
        max_epochs=2,
        batch_size=64,
        random_state=0,
    )
    group = rng.integers(0, 2, 128)
    if cls.__name__ in LINEAR_ONLY:  # a clear error on the GPU as on the CPU
        with pytest.raises(ValueError, match="has convolution layers"):
            clf.fit(X, y, sensitive_features=group)
        return
    clf.fit(X, y, sensitive_features=group)
    assert clf.predict_proba(X).shape == (128, 2)
