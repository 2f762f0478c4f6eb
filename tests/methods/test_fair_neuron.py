# SPDX-License-Identifier: BSD-3-Clause
"""FairNeuronClassifier: path analysis, sample separation and selective dropout by hand."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from skfairnn import ERMClassifier, FairNeuronClassifier
from skfairnn._paths import activation_paths, linear_chain, path_signatures, rare_path_mask
from skfairnn.datasets import make_biased_classification
from skfairnn.exceptions import FairnessWarning
from skfairnn.methods.fair_neuron import selective_dropout
from skfairnn.modules import ConvNet

# ----------------------------------------------------------------- helpers


def tiny_net(output_bias=0.0):
    """2 inputs -> 3 ReLU -> 2 ReLU -> 1 output, with set weights.

    For x = (1, 2): z0 = (1, 2, -1), a0 = (1, 2, 0); z1 = (3, 0); z2 = 3 + output_bias.
    """
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]))
        net[2].weight.copy_(torch.tensor([[1.0, 1.0, -3.0], [2.0, -1.0, 3.0]]))
        net[4].weight.copy_(torch.tensor([[1.0, 2.0]]))
        for layer, bias in [(net[0], 0.0), (net[2], 0.0), (net[4], output_bias)]:
            layer.bias.fill_(bias)
    return net


def synapse_set(paths, row=0):
    """{(layer, source, target)} of one row, ``layer`` the index of the target layer."""
    return {
        (layer + 1, int(k), int(j))
        for layer, mask in enumerate(paths.synapses)
        for j, k in torch.nonzero(mask[row]).tolist()
    }


def neuron_sets(paths, row=0):
    return [set(torch.nonzero(mask[row]).flatten().tolist()) for mask in paths.neurons]


X_ONE = torch.tensor([[1.0, 2.0]])

# ----------------------------------------------------------------- path analysis


@pytest.mark.parametrize(
    ("contribution", "synapses", "neurons"),
    [
        # output 3, target 0.9*3 = 2.7: from layer-1 contributions (3, 0) the first suffices.
        # neuron 0 of layer 1 (value 3, target 2.7): "pre" contributions w*z0 = (1, 2, 3)
        # -> synapse from neuron 2 alone reaches 2.7; "post" w*a0 = (1, 2, 0) -> 2 then 1.
        ("pre", {(2, 0, 0), (1, 2, 0)}, [{2}, {0}]),
        ("post", {(2, 0, 0), (1, 1, 0), (1, 0, 0)}, [{0, 1}, {0}]),
    ],
)
def test_path_matches_hand_computation(contribution, synapses, neurons):
    net = tiny_net()
    paths = activation_paths(net, linear_chain(net), X_ONE, 0.9, contribution)
    assert synapse_set(paths) == synapses
    assert neuron_sets(paths) == neurons


def test_path_keeps_every_synapse_when_target_is_never_reached():
    # output 3.5, target 3.15 > 3 + 0: both synapses into the output are kept. Neuron 1 of
    # layer 1 has value 0 (target 0): its largest contribution, 2 from neuron 0, reaches it.
    net = tiny_net(output_bias=0.5)
    paths = activation_paths(net, linear_chain(net), X_ONE, 0.9, "pre")
    assert synapse_set(paths) == {(2, 0, 0), (2, 1, 0), (1, 2, 0), (1, 0, 1)}
    assert neuron_sets(paths) == [{0, 2}, {0, 1}]


def test_gamma_changes_the_path():
    # gamma = 0.5: target 1.5 at the layer-1 neuron; "post" contributions (1, 2, 0): 2 suffices.
    net = tiny_net()
    paths = activation_paths(net, linear_chain(net), X_ONE, 0.5, "post")
    assert synapse_set(paths) == {(2, 0, 0), (1, 1, 0)}


def test_signatures_equal_only_for_equal_path_sets():
    net = tiny_net()
    X = torch.tensor([[1.0, 2.0], [2.0, 4.0], [2.0, 1.0]])  # row 1 = 2 * row 0: same path
    paths = activation_paths(net, linear_chain(net), X, 0.9, "pre")
    first, second, third = path_signatures(paths)
    assert first == second
    # row 2: z1 = (0, 6), z2 = 12: the path runs through neuron 1 of layer 1 instead
    assert synapse_set(paths, 2) == {(2, 1, 0), (1, 0, 1), (1, 2, 1)}
    assert third != first


def test_rare_path_mask_by_hand():
    signatures = [b"a", b"a", b"a", b"b", b"c", b"c"]
    # counts a=3, b=1, c=2; theta=0.5: limit max(1.5, 1) -> b only; theta=0.7: 2.1 -> b, c
    np.testing.assert_array_equal(rare_path_mask(signatures, 0.5), [0, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(rare_path_mask(signatures, 0.7), [0, 0, 0, 1, 1, 1])
    # theta=0 still marks the sets seen once
    np.testing.assert_array_equal(rare_path_mask(signatures, 0.0), [0, 0, 0, 1, 0, 0])
    # within groups {a, a, b} and {a, c, c}: group 1's a occurs once, group 0's b once
    groups = [0, 0, 1, 0, 1, 1]
    np.testing.assert_array_equal(rare_path_mask(signatures, 0.5, groups), [0, 0, 1, 1, 0, 0])


# ----------------------------------------------------------------- selective dropout


def test_dropout_acts_only_on_selected_neurons():
    torch.manual_seed(0)
    net = tiny_net()
    layers = linear_chain(net)
    X = torch.tensor([[1.0, 2.0]]).repeat(4000, 1)
    mask = torch.zeros(4000, 5)
    mask[:2000, 1] = 1  # rows 0-1999: neuron 1 of hidden layer 0 (value a0 = 2)
    mask[:2000, 3] = 1  # and neuron 0 of hidden layer 1 (value a1 = 3)
    seen = {}
    net.train()
    with selective_dropout(net, layers, mask, 0.5):
        hooks = [  # registered after the dropout's hooks, so they see their result
            layers[i].register_forward_pre_hook(lambda _m, a, i=i: seen.__setitem__(i, a[0]))
            for i in (1, 2)
        ]
        net(X)
    for hook in hooks:
        hook.remove()
    a0, a1 = seen[1], seen[2]  # inputs of layers 1 and 2 = hidden activations
    # unselected neurons and the rows without a mask are untouched
    torch.testing.assert_close(a0[:, [0, 2]], torch.tensor([[1.0, 0.0]]).expand(4000, 2))
    torch.testing.assert_close(a0[2000:, 1], torch.full((2000,), 2.0))
    # selected: dropped (0) or kept and scaled by 1 / (1 - p)
    assert set(a0[:2000, 1].tolist()) == {0.0, 4.0}
    assert 0.45 < (a0[:2000, 1] == 0).float().mean() < 0.55
    # layer 1 sees the (partly dropped) layer-0 output, so only check its dropped entries
    assert (a1[:2000, 0] == 0).float().mean() > 0.45
    torch.testing.assert_close(a1[2000:, 0], torch.full((2000,), 3.0))
    # evaluation mode: no dropout at all
    net.eval()
    with selective_dropout(net, layers, mask, 0.5):
        out = net(X)
    torch.testing.assert_close(out, torch.full((4000, 1), 3.0))


# ----------------------------------------------------------------- the estimator

KW = dict(max_epochs=3, lr=1e-2, batch_size=32, module__hidden_sizes=(8, 8), random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y, A = make_biased_classification(300, n_features=5, random_state=0)
    return X.astype(np.float32), y, A


def test_diagnosis_matches_paths_of_the_trained_net(data):
    X, y, A = data
    clf = FairNeuronClassifier(retrain_epochs=0, theta=0.05, **KW).fit(X, y)
    layers = linear_chain(clf.module_)
    paths = activation_paths(clf.module_, layers, torch.as_tensor(X), 0.9, "pre")
    rare = rare_path_mask(path_signatures(paths), 0.05)
    np.testing.assert_array_equal(clf.biased_samples_, rare)
    assert 0 < clf.biased_fraction_ < 1
    neurons = paths.neuron_mask()[torch.as_tensor(rare)].sum(0).numpy()
    np.testing.assert_array_equal(np.concatenate(list(clf.neuron_counts_.values())), neurons)
    assert clf.layers_ == ["net.0", "net.2", "net.4"]


def test_layer_mode_selects_the_first_hidden_layer(data):
    X, y, _ = data
    clf = FairNeuronClassifier(retrain_epochs=0, dropout_neurons="layer", theta=0.05, **KW)
    clf.fit(X, y)
    n_biased = clf.biased_samples_.sum()
    np.testing.assert_array_equal(clf.neuron_counts_["net.0"], np.full(8, n_biased))
    np.testing.assert_array_equal(clf.neuron_counts_["net.2"], np.zeros(8))


def test_without_retraining_it_is_erm(data):
    X, y, _ = data
    erm = ERMClassifier(**KW).fit(X, y)
    clf = FairNeuronClassifier(retrain_epochs=0, **KW).fit(X, y)
    np.testing.assert_allclose(clf.decision_function(X), erm.decision_function(X), rtol=1e-5)


def test_retraining_without_dropout_is_continued_erm(data):
    X, y, _ = data
    erm = ERMClassifier(**KW).fit(X, y)
    erm.partial_fit(X, y)
    plain = FairNeuronClassifier(dropout=0.0, retrain_epochs=3, **KW).fit(X, y)
    np.testing.assert_allclose(plain.decision_function(X), erm.decision_function(X), rtol=1e-4)
    dropped = FairNeuronClassifier(dropout=0.5, retrain_epochs=3, **KW).fit(X, y)
    assert not np.allclose(dropped.decision_function(X), erm.decision_function(X), rtol=1e-4)


def test_flip_detection_by_hand(data):
    X, y, A = data
    X = np.column_stack([X, A]).astype(np.float32)
    clf = FairNeuronClassifier(detection="flip", sensitive_column=-1, retrain_epochs=0, **KW)
    clf.fit(X, y)
    layers = linear_chain(clf.module_)
    own = activation_paths(clf.module_, layers, torch.as_tensor(X), 0.9)
    flipped = X.copy()
    flipped[:, -1] = 1 - flipped[:, -1]
    other = activation_paths(clf.module_, layers, torch.as_tensor(flipped), 0.9)
    changed = np.array([a != b for a, b in zip(path_signatures(own), path_signatures(other))])
    np.testing.assert_array_equal(clf.biased_samples_, changed)
    conflict = (own.neuron_mask() ^ other.neuron_mask())[torch.as_tensor(changed)].sum(0)
    np.testing.assert_array_equal(np.concatenate(list(clf.neuron_counts_.values())), conflict)


def test_flip_column_by_name(data):
    X, y, A = data
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]).assign(sex=A)
    by_name = FairNeuronClassifier(detection="flip", sensitive_column="sex", **KW).fit(frame, y)
    by_index = FairNeuronClassifier(detection="flip", sensitive_column=5, **KW).fit(frame, y)
    np.testing.assert_array_equal(by_name.biased_samples_, by_index.biased_samples_)


def test_group_frequency_counts_within_groups(data):
    X, y, A = data
    clf = FairNeuronClassifier(detection="group_frequency", theta=0.05, retrain_epochs=0, **KW)
    clf.fit(X, y, sensitive_features=A)
    paths = activation_paths(clf.module_, linear_chain(clf.module_), torch.as_tensor(X), 0.9)
    expected = rare_path_mask(path_signatures(paths), 0.05, A)
    np.testing.assert_array_equal(clf.biased_samples_, expected)
    with pytest.warns(FairnessWarning, match="without sensitive_features"):
        FairNeuronClassifier(detection="group_frequency", **KW).fit(X, y)


def test_scratch_retrains_a_new_network(data):
    X, y, _ = data
    clf = FairNeuronClassifier(retrain="scratch", dropout_neurons="layer", **KW).fit(X, y)
    erm = ERMClassifier(**KW).fit(X, y)
    assert not np.allclose(clf.module_.net[0].weight.detach(), erm.module_.net[0].weight.detach())
    assert len(clf.history_) == 3  # the retraining's epochs only
    tuned = FairNeuronClassifier(retrain_epochs=2, **KW).fit(X, y)
    assert len(tuned.history_) == 2


def test_gap_on_a_biased_set_is_that_of_erm(data):
    """FairNeuron retrains with dropout only; it moves the gap little (RUNNER, Tables 1-2)."""
    from skfairnn.metrics import demographic_parity_difference

    X, y, A = make_biased_classification(1500, random_state=1)
    Xt, yt, At = make_biased_classification(1500, random_state=2)
    kw = dict(max_epochs=10, module__hidden_sizes=(32, 32), random_state=0)
    erm = ERMClassifier(**kw).fit(X, y)
    clf = FairNeuronClassifier(**kw).fit(X, y, sensitive_features=A)
    gap_erm = demographic_parity_difference(yt, erm.predict(Xt), sensitive_features=At)
    gap = demographic_parity_difference(yt, clf.predict(Xt), sensitive_features=At)
    assert gap_erm > 0.05  # the set is biased
    assert abs(gap - gap_erm) < 0.05


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"detection": "flip"}, "needs sensitive_column"),
        ({"detection": "flip", "sensitive_column": 9}, "sensitive_column=9 is out of range"),
        ({"detection": "flip", "sensitive_column": "sex"}, "'sex' is not a column of X"),
        ({"detection": "flip", "sensitive_column": 0}, "must hold exactly two values"),
        ({"retrain": "scratch"}, "dropout_neurons='layer'"),
        ({"gamma": 0.0}, "'gamma' parameter"),
        ({"theta": 2.0}, "'theta' parameter"),
        ({"dropout": 1.0}, "'dropout' parameter"),
        ({"detection": "path"}, "'detection' parameter"),
        ({"contribution": "mean"}, "'contribution' parameter"),
    ],
)
def test_bad_parameters(data, params, match):
    X, y, _ = data
    with pytest.raises(ValueError, match=match):
        FairNeuronClassifier(**{**KW, **params}).fit(X, y)


def test_module_without_linear_chain_is_rejected():
    X = np.random.default_rng(0).normal(size=(20, 1, 8, 8)).astype(np.float32)
    y = np.arange(20) % 2
    clf = FairNeuronClassifier(module=ConvNet, max_epochs=1)
    with pytest.raises(ValueError, match="feed-forward stack of nn.Linear"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match="no hidden layer"):
        FairNeuronClassifier(module__hidden_sizes=(), max_epochs=1).fit(X.reshape(20, -1), y)
