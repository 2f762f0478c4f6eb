# SPDX-License-Identifier: BSD-3-Clause
"""RunnerClassifier: diagnosis (Eq. 6-7) and stabilizing loss (Eq. 8-10) vs hand computations."""

import pickle

import numpy as np
import pytest
import torch
from _runner_hand import (
    SharedReLUMLP,
    TwoReLUMLP,
    hand_activations,
    hand_importance,
    relaxed_gap,
    tiny_batch,
    tiny_net,
)
from torch import nn

from skfairnn import ERMClassifier, RunnerClassifier
from skfairnn._activations import n_selected, neuron_discrimination
from skfairnn.modules import ConvNet, LogisticRegressionModule

# ----------------------------------------------------------------- helpers


def prepared(net, **params):
    clf = RunnerClassifier(module=net, **params)
    clf.input_shape_ = (3,)  # what fit would set: the activation sites are traced on it
    clf.initialize()
    clf.sensitive_groups_ = np.array([0, 1])
    clf.module_.train()
    return clf


def step_loss(clf, batch, *, with_forward=False):
    forward = clf.training_forward(batch)
    loss = clf.fairness_loss(batch, forward)
    return (loss, forward) if with_forward else loss


# ----------------------------------------------------------------- diagnosis


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_selection_is_top_k_of_hand_importance(constraint):
    net, batch = tiny_net(), tiny_batch()
    clf = prepared(net, top_k=2, constraint=constraint)
    with torch.no_grad():
        expected = hand_importance(net, batch, constraint)
    _, forward = step_loss(clf, batch, with_forward=True)
    assert clf.layers_ == ["0", "2"]
    assert clf.activation_modules_ == ["1", "3"]
    for name in ["0", "2"]:
        want = set(torch.topk(expected[name], 2).indices.tolist())
        assert set(forward.records["selected_neurons"][name].tolist()) == want, name


def test_importance_variants_by_hand():
    from skfairnn._activations import neuron_importance

    weight = torch.tensor([[1.0, -2.0], [3.0, 0.5]])
    grad = torch.tensor([[0.5, 1.0], [-1.0, 2.0]])
    # rows: products (0.5, -2) and (-3, 1)
    torch.testing.assert_close(neuron_importance(weight, grad), torch.tensor([4.25, 10.0]))
    torch.testing.assert_close(neuron_importance(weight, grad, "neuron"), torch.tensor([2.25, 4.0]))
    conv = torch.ones(2, 1, 2, 2)  # 2 channels, importance summed over the kernel
    torch.testing.assert_close(neuron_importance(conv, 2 * conv), torch.tensor([16.0, 16.0]))


@pytest.mark.parametrize(
    ("top_k", "size", "expected"),
    [(0.1, 200, 20), (0.29, 100, 29), (0.05, 10, 1), (1.0, 7, 7), (3, 7, 3), (7, 7, 7)],
)
def test_n_selected(top_k, size, expected):
    assert n_selected(top_k, size) == expected


def test_n_selected_count_larger_than_layer():
    with pytest.raises(ValueError, match=r"top_k=9 is larger than layer 'fc'.*8 neurons"):
        n_selected(9, 8, "fc")


# ------------------------------------------------------------ stabilizing loss


def hand_loss(net, batch, selected, constraint, output_gap):
    acts = hand_activations(net, batch.X)
    g0, g1 = batch.group == 0, batch.group == 1
    cells = {
        "demographic_parity": [torch.ones_like(g0)],
        "equalized_odds": [batch.y == 0, batch.y == 1],
    }[constraint]
    total = 0.0
    for name, act in zip(["0", "2"], ["1", "3"]):
        a = acts[act][:, selected[name]]
        delta = sum((a[g0 & c].mean(0) - a[g1 & c].mean(0)).abs() for c in cells)
        total = total + delta.mean()
    if output_gap:
        total = total + relaxed_gap(torch.sigmoid(net(batch.X)[:, 0]), batch, constraint)
    return total


@pytest.mark.parametrize(
    ("constraint", "output_gap", "includes_gap"),
    [
        ("demographic_parity", None, False),
        ("equalized_odds", None, True),
        ("equalized_odds", False, False),
        ("demographic_parity", True, True),
    ],
)
def test_stabilizing_loss_value(constraint, output_gap, includes_gap):
    net, batch = tiny_net(), tiny_batch()
    clf = prepared(net, top_k=0.5, constraint=constraint, output_gap=output_gap)
    loss, forward = step_loss(clf, batch, with_forward=True)
    selected = forward.records["selected_neurons"]
    expected = hand_loss(net, batch, selected, constraint, includes_gap)
    torch.testing.assert_close(loss, expected)


def test_stabilizing_loss_gradient_matches_finite_differences():
    net, batch = tiny_net(), tiny_batch()
    clf = prepared(net, top_k=2, constraint="equalized_odds")
    loss = step_loss(clf, batch)
    params = list(net.parameters())
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for param, grad in zip(params, grads):
            for index in list(np.ndindex(*param.shape))[:6]:
                old = param[index].item()
                values = []
                for step in (1e-6, -1e-6):
                    param[index] = old + step
                    with torch.enable_grad():
                        values.append(float(step_loss(clf, batch).detach()))
                param[index] = old
                fd = (values[0] - values[1]) / 2e-6
                assert abs(fd - grad[index].item()) < 1e-6, (param.shape, index)


def test_importance_is_constant_in_the_graph():
    """Only the stabilizing loss is differentiated: UI (Eq. 6) enters as selected indices."""
    net, batch = tiny_net(), tiny_batch()
    clf = prepared(net, top_k=1.0, constraint="demographic_parity")
    loss = step_loss(clf, batch)
    torch.testing.assert_close(
        loss,
        hand_loss(net, batch, {"0": [0, 1, 2, 3], "2": [0, 1, 2]}, "demographic_parity", False),
    )


def test_more_than_two_groups_uses_worst_pair():
    acts = torch.tensor([[1.0, 0.0], [3.0, 0.0], [0.0, 5.0], [0.0, 5.0], [4.0, 1.0], [4.0, 1.0]])
    groups = torch.tensor([0, 0, 1, 1, 2, 2])
    y = torch.tensor([0.0, 1, 0, 1, 0, 1])
    dp = neuron_discrimination(acts, y, groups, 3, "demographic_parity")
    torch.testing.assert_close(dp, torch.tensor([4.0, 5.0]))  # means (2,0), (0,5), (4,1)
    eo = neuron_discrimination(acts, y, groups, 3, "equalized_odds")
    torch.testing.assert_close(eo, torch.tensor([4.0 + 4.0, 5.0 + 5.0]))
    eop = neuron_discrimination(acts, y, groups, 3, "equal_opportunity")
    torch.testing.assert_close(eop, torch.tensor([4.0, 5.0]))


def test_three_groups_in_a_step():
    net = tiny_net()
    batch = tiny_batch(groups=(0, 1, 2, 0, 1, 2, 0, 1, 2, 0), n_groups=3)
    clf = prepared(net, top_k=1.0)
    loss = step_loss(clf, batch)
    acts = hand_activations(net, batch.X)
    expected = 0.0
    for act in ("1", "3"):
        means = torch.stack([acts[act][batch.group == g].mean(0) for g in range(3)])
        expected = expected + (means.max(0).values - means.min(0).values).mean()
    torch.testing.assert_close(loss, expected)


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_absent_group_or_cell_gives_finite_loss_and_gradient(constraint):
    net = tiny_net()
    batch = tiny_batch(groups=(0,) * 10)
    if constraint == "equalized_odds":  # group 1 only with y = 0: the y = 1 cell lacks it
        batch = tiny_batch(groups=(0, 0, 0, 1, 0, 1, 1, 0, 0, 1))
    clf = prepared(net, top_k=2, constraint=constraint)
    loss = step_loss(clf, batch)
    grads = torch.autograd.grad(loss, list(net.parameters()), allow_unused=True)
    assert torch.isfinite(loss)
    assert all(g is None or torch.isfinite(g).all() for g in grads)


# ---------------------------------------------------------------- training


def gap(clf, X, group):
    p = clf.predict_proba(X)[:, 1]
    return abs(p[group == 0].mean() - p[group == 1].mean())


def test_reduces_demographic_parity_gap(biased_data):
    X, y, group = biased_data
    common = dict(max_epochs=10, module__hidden_sizes=(16, 16), random_state=0)
    erm = ERMClassifier(sampling="group_balanced", **common).fit(X, y, sensitive_features=group)
    runner = RunnerClassifier(fairness_weight=0.5, top_k=0.25, **common)
    runner.fit(X, y, sensitive_features=group)
    assert gap(runner, X, group) < 0.3 * gap(erm, X, group)
    assert (runner.predict(X) == y).mean() > 0.7


def test_one_forward_per_training_step(biased_data):
    """Diagnosis reuses the step's forward pass: no copy of the model, no second forward."""
    X, y, group = biased_data
    net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 1))
    calls = []

    # training-mode forwards only: the decision rule's per-epoch pass runs in eval mode
    def count(module, inputs, output):
        if module.training:
            calls.append(1)

    net.register_forward_hook(count)
    clf = RunnerClassifier(net, max_epochs=2, batches_per_epoch=3, batch_size=64, random_state=0)
    clf.fit(X, y, sensitive_features=group)
    assert len(calls) == 6
    assert clf.module_ is net


def test_conv_layers_and_channels_as_neurons():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 1, 8, 8)).astype(np.float32)
    group = rng.integers(0, 2, 48)
    y = (X[:, 0, :4].mean((1, 2)) + 0.5 * group > 0.2).astype(int)
    clf = RunnerClassifier(
        ConvNet,
        module__channels=(4, 6),
        module__hidden_size=8,
        top_k=2,
        max_epochs=1,
        batch_size=24,
        random_state=0,
    ).fit(X, y, sensitive_features=group)
    assert clf.layers_ == ["features.0", "features.3", "head.0"]
    assert clf.activation_modules_ == ["features.1", "features.4", "head.1"]
    assert {k: len(v) for k, v in clf.selected_neurons_.items()} == dict.fromkeys(clf.layers_, 2)
    assert int(clf.selected_neurons_["features.3"].max()) < 6


class FunctionalNet(nn.Module):
    def __init__(self, input_dim):
        super().__init__()
        self.fc1, self.fc2, self.out = nn.Linear(input_dim, 6), nn.Linear(6, 6), nn.Linear(6, 1)

    def forward(self, X):
        return self.out(torch.relu(self.fc2(torch.relu(self.fc1(X)))))


def test_custom_module_and_named_layers(biased_data):
    X, y, group = biased_data
    clf = RunnerClassifier(FunctionalNet, max_epochs=1, random_state=0)
    clf.fit(X[:300], y[:300], sensitive_features=group[:300])
    assert clf.layers_ == ["fc1", "fc2"]
    assert clf.activation_modules_ == ["fc1", "fc2"]  # no activation module: layer outputs
    clf.set_params(layers=["fc2"]).fit(X[:300], y[:300], sensitive_features=group[:300])
    assert list(clf.selected_neurons_) == ["fc2"]


def test_pickle_round_trip(biased_data):
    X, y, group = biased_data
    clf = RunnerClassifier(max_epochs=1, module__hidden_sizes=(8,), random_state=0)
    clf.fit(X[:300], y[:300], sensitive_features=group[:300])
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(copy.predict_proba(X[:20]), clf.predict_proba(X[:20]))
    copy.partial_fit(X[:300], y[:300], sensitive_features=group[:300])
    assert set(copy.selected_neurons_) == {"net.0"}


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"top_k": 0}, "top_k"),
        ({"top_k": 1.5}, "top_k"),
        ({"top_k": -0.1}, "top_k"),
        ({"top_k": 100}, "larger than layer 'net.0'"),
        ({"module": LogisticRegressionModule}, "`layers` parameter"),
        ({"layers": ["nope"]}, "'nope' is not an nn.Linear or nn.Conv2d"),
        ({"layers": ["net.1"]}, "'net.1' is not an nn.Linear"),
        ({"layers": "net.0"}, "layers"),
        ({"constraint": "fairest"}, "constraint"),
        ({"fairness_weight": -1.0}, "fairness_weight"),
        ({"importance": "taylor"}, "importance"),
    ],
)
def test_bad_parameters(biased_data, params, match):
    X, y, group = biased_data
    defaults = {} if "module" in params else {"module__hidden_sizes": (8,)}
    clf = RunnerClassifier(**{"max_epochs": 1, **defaults, **params})
    with pytest.raises(ValueError, match=match):
        clf.fit(X[:100], y[:100], sensitive_features=group[:100])


# ------------------------------------------- activation calls, not modules


def test_shared_activation_module_trains_like_one_module_per_layer():
    """Each layer's activation is the call that consumes its output (issue: shared self.act)."""
    from skfairnn.datasets import make_biased_classification

    X, y, A = make_biased_classification(400, 6, random_state=0)
    X = X.astype(np.float32)
    common = dict(fairness_weight=2.0, top_k=0.5, max_epochs=4, batch_size=100, random_state=0)
    shared = RunnerClassifier(SharedReLUMLP, **common).fit(X, y, sensitive_features=A)
    two = RunnerClassifier(TwoReLUMLP, **common).fit(X, y, sensitive_features=A)
    np.testing.assert_allclose(shared.predict_proba(X), two.predict_proba(X), rtol=0, atol=1e-6)
    assert shared.layers_ == two.layers_ == ["fc1", "fc2"]
    assert shared.activation_modules_ == ["act", "act"]
    assert shared.activation_calls_ == [0, 1]
    assert two.activation_modules_ == ["act1", "act2"]
    assert two.activation_calls_ == [0, 0]


class ResidualBlock(nn.Module):
    """torchvision's ``BasicBlock`` pattern: one in-place ``self.relu`` called twice, BN between."""

    def __init__(self, channels=3, downsample=False):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4)
        self.downsample = nn.Conv2d(channels, 4, 1) if downsample else None
        self.head = nn.Linear(4, 1)

    def forward(self, X):
        identity = X if self.downsample is None else self.downsample(X)
        out = self.relu(self.bn1(self.conv1(X)))
        out = self.bn2(self.conv2(out))
        out += identity
        out = self.relu(out)
        return self.head(out.mean((2, 3)))


@pytest.mark.parametrize("downsample", [False, True])
def test_residual_block_pairs_each_conv_with_its_relu_call(downsample):
    from skfairnn._activations import ActivationRecorder, ActivationSite

    torch.manual_seed(0)
    block = ResidualBlock(3 if downsample else 4, downsample)
    X = torch.randn(5, 3 if downsample else 4, 6, 6)
    layers = ["conv1", "conv2"] + (["downsample"] if downsample else [])
    with ActivationRecorder(block, layers) as recorder:
        block(X)
        acts = recorder.activations()
    want = {"conv1": ActivationSite("relu", 0), "conv2": ActivationSite("relu", 1)}
    if downsample:  # the residual sum: both branches feed the second call
        want["downsample"] = ActivationSite("relu", 1)
    assert recorder.sites == want
    with torch.no_grad():
        h = torch.relu(block.bn1(block.conv1(X)))
        identity = X if not downsample else block.downsample(X)
        expected = {"conv1": h, "conv2": torch.relu(block.bn2(block.conv2(h)) + identity)}
    for name in ("conv1", "conv2"):
        torch.testing.assert_close(acts[name], expected[name])


def test_untraced_forward_reuses_the_traced_pairing():
    from skfairnn._activations import ActivationRecorder

    torch.manual_seed(0)
    net = SharedReLUMLP(3)
    X = torch.randn(4, 3)
    with ActivationRecorder(net, ["fc1", "fc2"]) as recorder:
        with torch.no_grad():
            net(X)
            with pytest.raises(ValueError, match="gradients enabled"):
                recorder.activations()
        net(X)
        recorder.activations()
        with torch.no_grad():
            net(X[:2])
            acts = recorder.activations()
    with torch.no_grad():
        h = torch.relu(net.fc1(X[:2]))
        torch.testing.assert_close(acts["fc1"], h)
        torch.testing.assert_close(acts["fc2"], torch.relu(net.fc2(h)))


class ConcatNet(nn.Module):
    def __init__(self, input_dim):
        super().__init__()
        self.a, self.b, self.out = nn.Linear(input_dim, 3), nn.Linear(input_dim, 3), nn.Linear(6, 1)
        self.act = nn.ReLU()

    def forward(self, X):
        return self.out(self.act(torch.cat([self.a(X), self.b(X)], 1)))


class TwiceNet(nn.Module):
    def __init__(self, input_dim):
        super().__init__()
        self.fc, self.same, self.out = nn.Linear(input_dim, 4), nn.Linear(4, 4), nn.Linear(4, 1)
        self.act = nn.ReLU()

    def forward(self, X):
        return self.out(self.act(self.same(self.act(self.same(self.act(self.fc(X)))))))


@pytest.mark.parametrize(
    ("module", "match"),
    [
        (ConcatNet, r"Layer 'a' has 3 neurons but its activation, call 0 of 'act', has 6"),
        (TwiceNet, r"Layer 'same' was called 2 times"),
    ],
)
def test_unpairable_layers_are_refused(biased_data, module, match):
    X, y, group = biased_data
    clf = RunnerClassifier(module, max_epochs=1, random_state=0)
    with pytest.raises(ValueError, match=match):
        clf.fit(X[:100], y[:100], sensitive_features=group[:100])
