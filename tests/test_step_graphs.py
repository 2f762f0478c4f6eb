# SPDX-License-Identifier: BSD-3-Clause
"""The ``cuda_graphs`` option's bookkeeping (:mod:`skfairnn._step_graphs`), on the CPU.

A CUDA graph replays the launches it recorded on the tensors it recorded
them on. The stand-in backend here does what a replay does with
Python: its "capture" records the step and the tensors the step wrote, and
each "replay" runs the step again on the captured inputs and writes the
results into those same tensors. A fit through it equals an eager fit only
if :class:`~skfairnn._step_graphs.StepGraphs` copies every batch into the
captured inputs, points the gradients back at the captured ones, hands out
copies of the outputs and captures one graph per layout. The real capture is
tested on a GPU (``tests/integration/test_cuda_graphs.py``).
"""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

import skfairnn._step_graphs as step_graphs_module
from skfairnn import ERMClassifier, FairerClassifier, FairRegClassifier, GCMClassifier
from skfairnn.exceptions import CompileWarning

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SMALL = dict(module__hidden_sizes=(8,), batch_size=32, max_epochs=3, lr=0.01, random_state=0)


class ReplayByRerun:
    """CPU stand-in for :class:`~skfairnn._step_graphs.CudaGraphBackend`."""

    def __init__(self, net, fail=False):
        self.net, self.fail = net, fail
        self.warm_ups = self.captures = self.replays = 0

    def warm_up(self, step):
        self.warm_ups += 1
        return step()

    def capture(self, step, pool):
        if self.fail:
            raise RuntimeError("operation not permitted when stream is capturing")
        self.captures += 1
        params = [param for _, param in self.net.get_all_learnable_params()]
        recorded = step()  # what the graph would write into (a capture runs nothing)
        recorded = {key: value for key, value in recorded.items() if key != "records"}
        written = [param.grad for param in params]
        for grad in written:  # unwritten until a replay
            if grad is not None:
                grad.fill_(np.nan)

        def replay():
            self.replays += 1
            for param in params:
                param.grad = None
            fresh = step()
            with torch.no_grad():
                for key, value in recorded.items():
                    if isinstance(value, torch.Tensor):
                        value.copy_(fresh[key])
                for param, grad in zip(params, written):
                    if grad is not None and param.grad is not None:
                        grad.copy_(param.grad)
                    param.grad = None  # a replay writes tensors, it sets no attribute

        return replay, recorded, pool


class KeepPredictions(Callback):
    """Keeps every training batch's ``y_pred`` tensor, as skorch's train scoring does."""

    def on_train_begin(self, net, **kwargs):
        self.kept_ = []

    def on_batch_end(self, net, training=False, y_pred=None, **kwargs):
        if training:
            self.kept_.append(y_pred)


def _fit_with_stand_in(monkeypatch, estimator, X, y, group, **stand_in):
    backends = []

    def backend():
        backends.append(ReplayByRerun(estimator, **stand_in))
        return backends[-1]

    monkeypatch.setattr(step_graphs_module, "CudaGraphBackend", backend)
    monkeypatch.setattr(type(estimator), "_capture_problem", lambda self: self._graph_step_reason)
    estimator.fit(X, y, sensitive_features=group)
    return backends[0]


ESTIMATORS = {
    "ERM(cell_balanced)": lambda: ERMClassifier(sampling="cell_balanced", **SMALL),
    "FairReg": lambda: FairRegClassifier(fairness_weight=1.0, **SMALL),
    "GCM": lambda: GCMClassifier(fairness_weight=1.0, **SMALL),
    "FAIRER(segments)": lambda: FairerClassifier(
        alignment_weight=0.5, constraint="equalized_odds", cell_gradients="segments", **SMALL
    ),
}


@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_replayed_fit_equals_the_eager_fit(make, biased_data, monkeypatch):
    X, y, group = biased_data[0][:600], biased_data[1][:600], biased_data[2][:600]
    eager = make().set_params(callbacks=[("keep", KeepPredictions())])
    eager.fit(X, y, sensitive_features=group)
    replayed = make().set_params(cuda_graphs=True, callbacks=[("keep", KeepPredictions())])
    backend = _fit_with_stand_in(monkeypatch, replayed, X, y, group)
    assert backend.captures == 1  # the full batches share a layout; the last, shorter one is eager
    assert backend.warm_ups == 2
    assert backend.replays > 30
    np.testing.assert_allclose(replayed.decision_function(X), eager.decision_function(X), atol=1e-6)
    np.testing.assert_allclose(
        replayed.history[:, "train_loss"], eager.history[:, "train_loss"], rtol=1e-6
    )
    if "train_fairness_penalty" in eager.history[-1]:
        np.testing.assert_allclose(
            replayed.history[:, "train_fairness_penalty"],
            eager.history[:, "train_fairness_penalty"],
            rtol=1e-6,
        )
    kept, eager_kept = (dict(net.callbacks_)["keep"].kept_ for net in (replayed, eager))
    assert len(kept) == len(eager_kept)
    for replayed_pred, eager_pred in zip(kept, eager_kept):
        torch.testing.assert_close(replayed_pred, eager_pred, atol=1e-6, rtol=1e-6)


class FreezeFirstLayer(Callback):
    """Freezes the first layer's weight from the second epoch on (after the capture)."""

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == 2:
            net.module_.net[0].weight.requires_grad_(False)


def test_a_parameter_frozen_after_the_capture_stays_frozen(biased_data, monkeypatch):
    X, y, group = biased_data[0][:600], biased_data[1][:600], biased_data[2][:600]
    params = {**SMALL, "callbacks": [("freeze", FreezeFirstLayer())]}
    eager = GCMClassifier(fairness_weight=1.0, **params).fit(X, y, sensitive_features=group)
    replayed = GCMClassifier(fairness_weight=1.0, cuda_graphs=True, **params)
    backend = _fit_with_stand_in(monkeypatch, replayed, X, y, group)
    assert backend.captures == 1
    np.testing.assert_allclose(replayed.decision_function(X), eager.decision_function(X), atol=1e-6)


@pytest.mark.parametrize("max_layouts", [1, 4])
def test_one_graph_per_layout_up_to_max_layouts(max_layouts, biased_data, monkeypatch):
    """600 rows in batches of 32: 18 full batches and a last one of 24, one layout each."""
    X, y, group = biased_data[0][:600], biased_data[1][:600], biased_data[2][:600]
    monkeypatch.setattr(step_graphs_module, "MAX_LAYOUTS", max_layouts)
    params = {**SMALL, "max_epochs": 4}
    eager = FairRegClassifier(sampling="random", **params).fit(X, y, sensitive_features=group)
    replayed = clone(eager).set_params(cuda_graphs=True)
    backend = _fit_with_stand_in(monkeypatch, replayed, X, y, group)
    assert backend.captures == min(max_layouts, 2)  # the last batch's layout: in epoch 3
    np.testing.assert_allclose(replayed.decision_function(X), eager.decision_function(X), atol=1e-6)


def test_batches_that_never_repeat_a_layout_train_eagerly_with_a_warning(biased_data, monkeypatch):
    X, y, group = biased_data
    monkeypatch.setattr(step_graphs_module, "MAX_UNCAPTURED_LAYOUTS", 3)
    clf = GCMClassifier(fairness_weight=1.0, sampling="random", cuda_graphs=True, **SMALL)
    with pytest.warns(CompileWarning, match="different layouts"):
        backend = _fit_with_stand_in(monkeypatch, clf, X[:300], y[:300], group[:300])
    assert backend.captures == 0 and backend.warm_ups == 4
    assert np.isfinite(clf.decision_function(X)).all()


def test_a_step_that_cannot_be_captured_trains_eagerly_with_a_warning(biased_data, monkeypatch):
    X, y, group = biased_data[0][:600], biased_data[1][:600], biased_data[2][:600]
    eager = GCMClassifier(fairness_weight=1.0, **SMALL).fit(X, y, sensitive_features=group)
    failing = clone(eager).set_params(cuda_graphs=True)
    with pytest.warns(CompileWarning, match="could not be captured"):
        _fit_with_stand_in(monkeypatch, failing, X, y, group, fail=True)
    np.testing.assert_allclose(failing.decision_function(X), eager.decision_function(X), atol=1e-6)


def test_cuda_graphs_off_cuda_warns_and_trains_as_eager(biased_data):
    X, y, group = biased_data[0][:600], biased_data[1][:600], biased_data[2][:600]
    eager = FairRegClassifier(**SMALL).fit(X, y, sensitive_features=group)
    with pytest.warns(CompileWarning, match="CUDA graphs need a CUDA device"):
        graphed = FairRegClassifier(cuda_graphs=True, **SMALL).fit(X, y, sensitive_features=group)
    np.testing.assert_array_equal(graphed.decision_function(X), eager.decision_function(X))


@pytest.mark.parametrize("name", ["FairMixupClassifier", "AdversarialClassifier"])
def test_methods_whose_step_a_graph_cannot_hold_say_why(name, biased_data, monkeypatch):
    import skfairnn

    cls = getattr(skfairnn, name)
    assert cls._graph_step_reason
    monkeypatch.setattr(cls, "_capture_problem", lambda self: self._graph_step_reason)
    clf = cls(cuda_graphs=True, **SMALL)
    with pytest.warns(CompileWarning, match=cls._graph_step_reason.split(",")[0]):
        clf.fit(*biased_data[:2], sensitive_features=biased_data[2])


def test_a_replayed_fit_pickles_and_clones(biased_data, monkeypatch):
    X, y, group = biased_data[0][:600], biased_data[1][:600], biased_data[2][:600]
    clf = GCMClassifier(fairness_weight=1.0, cuda_graphs=True, **SMALL)
    _fit_with_stand_in(monkeypatch, clf, X, y, group)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.decision_function(X), clf.decision_function(X))
    assert clone(clf).get_params()["cuda_graphs"] is True
    assert step_graphs_module._ACTIVE.get() in (None, {})  # nothing of the fit stays behind


def test_cuda_graphs_must_be_a_boolean(biased_data):
    with pytest.raises(ValueError, match="cuda_graphs"):
        ERMClassifier(cuda_graphs="yes", **SMALL).fit(*biased_data[:2])
