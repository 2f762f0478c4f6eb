# SPDX-License-Identifier: BSD-3-Clause
"""RUNNER's neuron diagnostics (Eq. 6, Eq. 8/11, Fig. 3) against hand computations."""

import numpy as np
import pytest
import torch
from _runner_hand import (
    SharedReLUMLP,
    TwoReLUMLP,
    hand_activations,
    hand_importance,
    tiny_batch,
    tiny_net,
)

from skfairnn import ERMClassifier, RunnerClassifier
from skfairnn.diagnostics import (
    NeuronDiscriminationLogger,
    neuron_discrimination,
    neuron_discrimination_buckets,
    neuron_unfairness_importance,
    plot_neuron_discrimination_buckets,
)


@pytest.fixture
def tiny():
    net, batch = tiny_net(), tiny_batch()
    return net, batch.X.numpy(), batch.y.numpy().astype(int), batch.group.numpy(), batch


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
@pytest.mark.parametrize("batch_size", [4096, 3])
def test_importance_matches_hand_computation(tiny, constraint, batch_size):
    net, X, y, group, batch = tiny
    with torch.no_grad():
        expected = hand_importance(net, batch, constraint)
    ui = neuron_unfairness_importance(
        net, X, y, group, constraint=constraint, batch_size=batch_size
    )
    assert list(ui) == ["0", "2"]
    for name in ui:
        np.testing.assert_allclose(ui[name], expected[name].numpy(), rtol=1e-5, atol=1e-12)


def test_discrimination_matches_hand_computation(tiny):
    net, X, y, group, batch = tiny
    with torch.no_grad():
        acts = hand_activations(net, batch.X)
    delta = neuron_discrimination(net, X, y, group, constraint="equalized_odds")
    for name, act in (("0", "1"), ("2", "3")):
        a = acts[act].numpy()
        want = sum(
            abs(a[(group == 0) & (y == c)].mean(0) - a[(group == 1) & (y == c)].mean(0))
            for c in (0, 1)
        )
        np.testing.assert_allclose(delta[name], want, rtol=1e-10)


@pytest.mark.parametrize("batch_size", [4096, 7])
def test_shared_activation_module_gives_the_same_diagnosis(batch_size):
    """One ``self.act`` called after both layers reads the same neurons as two nn.ReLUs."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5)).astype(np.float32)
    y, group = rng.integers(0, 2, 40), rng.integers(0, 2, 40)
    torch.manual_seed(0)
    shared = SharedReLUMLP(5)
    torch.manual_seed(0)
    two = TwoReLUMLP(5)
    for function in (neuron_unfairness_importance, neuron_discrimination):
        for constraint in ("demographic_parity", "equalized_odds"):
            kwargs = dict(constraint=constraint, batch_size=batch_size)
            got, want = (
                function(shared, X, y, group, **kwargs),
                function(two, X, y, group, **kwargs),
            )
            assert list(got) == list(want) == ["fc1", "fc2"]
            for name in got:
                np.testing.assert_allclose(got[name], want[name], rtol=0, atol=1e-12)
    with torch.no_grad():
        h = torch.relu(two.fc1(torch.as_tensor(X)))
    delta = neuron_discrimination(shared, X, y, group)
    a = h.numpy()
    np.testing.assert_allclose(
        delta["fc1"], np.abs(a[group == 0].mean(0) - a[group == 1].mean(0)), rtol=1e-6
    )


def test_fairlearn_alias_of_equal_opportunity(tiny):
    net, X, y, group, _ = tiny
    for diagnose in (neuron_discrimination, neuron_unfairness_importance):
        alias = diagnose(net, X, y, group, constraint="true_positive_rate_parity")
        canonical = diagnose(net, X, y, group, constraint="equal_opportunity")
        for name in canonical:
            np.testing.assert_array_equal(alias[name], canonical[name])
    with pytest.raises(ValueError, match="use constraint='equalized_odds'"):
        neuron_discrimination(net, X, y, group, constraint="false_positive_rate_parity")


def test_buckets_are_means_by_importance_rank(tiny):
    net, X, y, group, _ = tiny
    ui = neuron_unfairness_importance(net, X, y, group)
    delta = neuron_discrimination(net, X, y, group)
    buckets = neuron_discrimination_buckets(net, X, y, group, n_buckets=2)
    order = np.argsort(-ui["0"])  # 4 neurons: top 2 and bottom 2
    np.testing.assert_allclose(
        buckets["0"], [delta["0"][order[:2]].mean(), delta["0"][order[2:]].mean()]
    )
    with pytest.raises(ValueError, match="n_buckets"):
        neuron_discrimination_buckets(net, X, y, group, n_buckets=0)


def test_plain_module_needs_binary_labels(tiny):
    net, X, _, group, _ = tiny
    with pytest.raises(ValueError, match="0/1"):
        neuron_unfairness_importance(net, X, np.full(len(X), 2), group)


@pytest.fixture(scope="module")
def fitted_pair(biased_data):
    X, y, group = biased_data
    common = dict(max_epochs=4, module__hidden_sizes=(16, 16), random_state=0)
    erm = ERMClassifier(sampling="group_balanced", **common).fit(X, y, sensitive_features=group)
    runner = RunnerClassifier(fairness_weight=1.0, top_k=0.25, **common)
    runner.fit(X, y, sensitive_features=group)
    return erm, runner


def test_fitted_classifiers_and_repair_lowers_discrimination(fitted_pair, biased_data):
    X, y, group = biased_data
    erm, runner = fitted_pair
    unfair = neuron_discrimination(erm, X, y, group)
    fair = neuron_discrimination(runner, X, y, group)
    assert list(fair) == runner.layers_ == ["net.0", "net.2"]
    assert all(fair[k].mean() < unfair[k].mean() for k in fair)
    ui = neuron_unfairness_importance(runner, X, y, group)
    assert {k: v.shape for k, v in ui.items()} == {"net.0": (16,), "net.2": (16,)}


def test_logger_records_selected_neurons_discrimination(biased_data):
    X, y, group = biased_data
    Xv, yv, gv = X[:500], y[:500], group[:500]
    logger = NeuronDiscriminationLogger(Xv, yv, gv, top_k=4)
    clf = RunnerClassifier(
        max_epochs=2, module__hidden_sizes=(16, 16), callbacks=[logger], random_state=0
    ).fit(X, y, sensitive_features=group)
    ui = neuron_unfairness_importance(clf, Xv, yv, gv)
    delta = neuron_discrimination(clf, Xv, yv, gv)
    expected = {k: delta[k][np.argsort(-ui[k])[:4]].mean() for k in ui}
    last = clf.history[-1]
    for name, value in expected.items():
        assert last[f"neuron_delta_top_{name}"] == pytest.approx(value, rel=1e-5)
    assert last["neuron_delta_top"] == pytest.approx(np.mean(list(expected.values())), rel=1e-5)
    assert len(clf.history[:, "neuron_delta_top"]) == 2


def test_logger_defaults_to_training_data(biased_data):
    X, y, group = biased_data
    clf = ERMClassifier(
        max_epochs=1,
        module__hidden_sizes=(8,),
        callbacks=[NeuronDiscriminationLogger(max_samples=300)],
        random_state=0,
    ).fit(X, y, sensitive_features=group)
    assert clf.history[-1]["neuron_delta_top_net.0"] >= 0


def test_plot_buckets(fitted_pair, biased_data, tmp_path):
    X, y, group = biased_data
    figure = plot_neuron_discrimination_buckets(*fitted_pair, X, y, group)
    assert len(figure.axes) == 2
    assert [len(ax.patches) for ax in figure.axes] == [10, 10]
    figure.savefig(tmp_path / "buckets.png")
    assert (tmp_path / "buckets.png").stat().st_size > 0
