# SPDX-License-Identifier: BSD-3-Clause
"""The compiled option (skorch's ``compile=True``) through FairNetClassifier, and its fallback.

The fits compile with a recording AOTAutograd backend that runs the captured
graphs as they are (no C++ compiler, a few seconds): it proves the step went
through ``torch.compile`` (graphs were captured and run, FairReg's gap among
them) without inductor's compile time, which CI cannot afford.
"""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from skfairnn import (
    CompileWarning,
    ERMClassifier,
    FairerClassifier,
    FairRegClassifier,
    GCMClassifier,
)
from skfairnn._compile import compile_problem, compiled_function, is_compiled

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    pytest.mark.skipif(
        compile_problem("cpu", {"backend": "aot_eager"}) is not None,
        reason="torch.compile is unusable here",
    ),
]

SMALL = dict(max_epochs=2, batch_size=100, random_state=0, module__hidden_sizes=(8,))


def recording_backend(graphs):
    """An AOTAutograd backend that appends every captured graph to ``graphs``."""
    from functorch.compile import make_boxed_func
    from torch._dynamo.backends.common import aot_autograd

    def compiler(gm, example_inputs):
        graphs.append(gm)
        return make_boxed_func(gm.forward)

    return aot_autograd(fw_compiler=compiler, bw_compiler=compiler)


@pytest.fixture
def data(biased_data):
    X, y, A = biased_data
    return X[:400], y[:400], A[:400]


@pytest.mark.parametrize("cls", [ERMClassifier, FairRegClassifier])
def test_compiled_step_runs_through_torch_compile_and_predicts_as_eager(cls, data):
    X, y, A = data
    eager = cls(**SMALL).fit(X, y, sensitive_features=A)
    graphs = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        compiled = cls(compile=True, compile__backend=recording_backend(graphs), **SMALL)
        compiled.fit(X, y, sensitive_features=A)
    assert is_compiled(compiled.module_) and not is_compiled(eager.module_)
    assert graphs, "no graph was captured: the option was ignored"
    ops = " ".join(str(gm.graph) for gm in graphs)
    assert "addmm" in ops  # the module's linear layers ran compiled
    if cls is FairRegClassifier:
        assert "index_add" in ops  # and so did the gap's group means
    np.testing.assert_allclose(
        compiled.decision_function(X), eager.decision_function(X), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        compiled.history[:, "train_loss"], eager.history[:, "train_loss"], rtol=1e-5
    )


def test_compiled_net_pickles_clones_and_sets_params(data):
    X, y, A = data
    clf = FairRegClassifier(compile=True, compile__backend="aot_eager", **SMALL)
    clf.fit(X, y, sensitive_features=A)
    restored = pickle.loads(pickle.dumps(clf))
    assert is_compiled(restored.module_)
    np.testing.assert_array_equal(restored.decision_function(X), clf.decision_function(X))
    params = clone(clf).get_params()
    assert params["compile"] is True and params["compile__backend"] == "aot_eager"
    assert not hasattr(clone(clf), "module_")
    clf.set_params(compile=False, max_epochs=1).fit(X, y, sensitive_features=A)
    assert not is_compiled(clf.module_)


def test_no_cpp_compiler_falls_back_to_eager_with_a_warning(data, monkeypatch):
    inductor_config = pytest.importorskip("torch._inductor.config")
    monkeypatch.setattr(inductor_config.cpp, "cxx", ("no-such-c++-compiler-skfairnn",))
    reason = compile_problem("cpu", {})
    assert reason is not None and "C++ compiler" in reason
    X, y, A = data
    eager = ERMClassifier(**SMALL).fit(X, y)
    with pytest.warns(CompileWarning, match="C\\+\\+ compiler"):
        clf = ERMClassifier(compile=True, **SMALL).fit(X, y)
    assert not is_compiled(clf.module_)
    np.testing.assert_array_equal(clf.decision_function(X), eager.decision_function(X))


@pytest.mark.parametrize("cls", [GCMClassifier, FairerClassifier])
def test_double_backward_methods_fit_eagerly_with_the_option_on(cls, data):
    X, y, A = data
    graphs = []
    with pytest.warns(CompileWarning, match="double backward"):
        clf = cls(compile=True, compile__backend=recording_backend(graphs), **SMALL)
        clf.fit(X, y, sensitive_features=A)
    assert not is_compiled(clf.module_) and not graphs
    eager = cls(**SMALL).fit(X, y, sensitive_features=A)
    np.testing.assert_array_equal(clf.decision_function(X), eager.decision_function(X))


def test_compiled_function_is_built_once_per_function_and_settings():
    def double(x):
        return 2 * x

    first = compiled_function(double, {"backend": "eager", "options": None})
    assert compiled_function(double, {"backend": "eager", "options": None}) is first
    assert compiled_function(double, {"backend": "aot_eager"}) is not first
    assert torch.equal(first(torch.ones(3)), torch.full((3,), 2.0))


@pytest.mark.cuda
@pytest.mark.skipif(
    not torch.cuda.is_available() or compile_problem("cuda", {}) is not None,
    reason="needs a GPU with Triton",
)
def test_cuda_graphs_fit_when_the_decision_rule_forwards_several_chunks(data):
    """A module compiled with CUDA graphs overwrites its output at the next call.

    The decision rule forwards the training rows in chunks; it must copy each
    chunk's logits before the next (it raised a RuntimeError before).
    """
    X, y, A = (np.concatenate([part] * 25) for part in data)  # 10,000 rows: two chunks
    clf = ERMClassifier(
        device="cuda", compile=True, compile__mode="reduce-overhead", batch_size=500,
        max_epochs=3, lr=1e-2, random_state=0, module__hidden_sizes=(8,),
    )  # fmt: skip
    clf.fit(X, y, sensitive_features=A)
    # the recorded AUC is that of the fitted network's scores on all 10,000 rows
    assert clf.history[-1, "train_auc"] == pytest.approx(
        roc_auc_score(y, clf.decision_function(X)), abs=1e-3
    )
    assert clf.history[-1, "train_auc"] > 0.8
    assert np.isfinite(clf.decision_offset_)
