# SPDX-License-Identifier: BSD-3-Clause
"""FairerClassifier: Eq. 8–9 against a hand computation, second-order gradients, CNNs."""

import itertools

import numpy as np
import pytest
import torch
from _gradient_hand import (
    cell_data,
    finite_difference,
    init_double,
    make_batch,
    mlp_cell_gradient,
    mlp_params,
)

from skfairnn import FairerClassifier, FairRegClassifier
from skfairnn._rationale import scaled_cosine
from skfairnn.datasets import make_biased_classification
from skfairnn.diagnostics import neuron_parity_scores
from skfairnn.methods.fairer import rationale_similarity
from skfairnn.modules import ConvNet


def _net(**kwargs):
    params = dict(module__hidden_sizes=(4,), random_state=0)
    return init_double(FairerClassifier(**{**params, **kwargs}), 3)


def _cos(a, b):
    return a @ b / np.sqrt((a @ a) * (b @ b))


def _hand_similarity(net, X, y, group, *, importance, cells_by_label, aggregate=np.mean):
    """Per label, ``aggregate`` over pairs of Σ_l cos((g w)², ...); hand-made per-cell gradients."""
    W1, b1, W2, b2 = mlp_params(net)
    total = 0.0
    for cells in cells_by_label:
        pair_terms = []
        for rows_a, rows_b in itertools.combinations(cells, 2):
            scores = []
            for rows in (rows_a, rows_b):
                (gW1, _, gW2, _), _ = mlp_cell_gradient((W1, b1, W2, b2), X[rows], y[rows])
                layer = [(gW1 * W1) ** 2, (gW2 * W2) ** 2]
                if importance == "unit":
                    layer = [c.sum(1) for c in layer]
                scores.append([c.ravel() for c in layer])
            pair_terms.append(sum(_cos(a, b) for a, b in zip(*scores)))
        if pair_terms:
            total += aggregate(pair_terms)
    return total


@pytest.mark.parametrize("importance", ["parameter", "unit"])
@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_penalty_matches_hand_computation(importance, constraint):
    X, y, group = cell_data()
    beta, lam = 0.3, 0.7
    net = _net(
        alignment_weight=beta, fairness_weight=lam, importance=importance, constraint=constraint
    )
    batch = make_batch(X, y, group, 2)
    logits = net.network_logits(batch.X)
    got = net.fairness_penalty(batch, net.training_forward(batch)).item()
    p = torch.sigmoid(logits).detach().numpy()
    if constraint == "demographic_parity":
        cells = [[group == 0, group == 1]]
        gap = abs(p[group == 0].mean() - p[group == 1].mean())
    else:
        cells = [[(group == 0) & (y == lab), (group == 1) & (y == lab)] for lab in (0, 1)]
        gap = sum(abs(p[a].mean() - p[b].mean()) for a, b in cells)
    similarity = _hand_similarity(net, X, y, group, importance=importance, cells_by_label=cells)
    np.testing.assert_allclose(got, lam * gap - beta * similarity, rtol=1e-10)


@pytest.mark.parametrize("importance", ["parameter", "unit"])
def test_three_groups_mean_or_worst_pair(importance):
    X, y, group = cell_data(n=36, n_groups=3)
    cells = [[group == a for a in range(3)]]
    got = {}
    for aggregation, aggregate in (("mean", np.mean), ("worst", np.min)):
        net = _net(
            alignment_weight=1.0,
            fairness_weight=0.0,
            importance=importance,
            pair_aggregation=aggregation,
        )
        net.n_groups_ = 3
        got[aggregation] = net.rationale_alignment(make_batch(X, y, group, 3)).item()
        expected = _hand_similarity(
            net, X, y, group, importance=importance, cells_by_label=cells, aggregate=aggregate
        )
        np.testing.assert_allclose(got[aggregation], expected, rtol=1e-10)
    assert got["worst"] < got["mean"] - 1e-3  # the three pairs differ: the options do too


def test_worst_pair_gradient_reaches_only_that_pair():
    """Σ_l cos over pairs (0,1), (0,2), (1,2): "worst" is the min, its gradient the min's."""
    importances = [
        [torch.tensor([1.0, 0.0], requires_grad=True)],
        [torch.tensor([1.0, 0.2], requires_grad=True)],
        [torch.tensor([0.0, 1.0], requires_grad=True)],
    ]
    pairs = [[(0, 1), (0, 2), (1, 2)]]
    cos = [_cos(*(importances[i][0].detach().numpy() for i in pair)) for pair in pairs[0]]
    worst = rationale_similarity(importances, pairs, "worst")
    mean = rationale_similarity(importances, pairs, "mean")
    np.testing.assert_allclose(worst.item(), min(cos), rtol=1e-6)  # pair (0, 2): cos 0
    np.testing.assert_allclose(mean.item(), np.mean(cos), rtol=1e-6)
    worst.backward()
    assert importances[1][0].grad.abs().sum() == 0  # group 1 is in no worst pair
    with pytest.raises(ValueError, match="aggregation"):
        rationale_similarity(importances, pairs, "max")


@pytest.mark.parametrize("importance", ["parameter", "unit"])
def test_second_order_gradient_matches_finite_differences(importance):
    X, y, group = cell_data(seed=3)
    net = _net(
        alignment_weight=0.5,
        fairness_weight=0.4,
        importance=importance,
        constraint="equalized_odds",
    )
    batch = make_batch(X, y, group, 2)
    params = list(net.module_.parameters())

    def penalty():
        return net.fairness_penalty(batch, net.training_forward(batch))

    autograd = torch.autograd.grad(penalty(), params)
    numeric = finite_difference(penalty, params)
    for a, b in zip(autograd, numeric):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-8)


def test_conv_network_layers_and_gradient():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 2, 4, 4))
    y, group = np.tile([0, 1], 6), np.repeat([0, 1], 6)
    net = FairerClassifier(
        ConvNet,
        alignment_weight=1.0,
        fairness_weight=0.0,
        importance="unit",
        module__in_channels=2,
        module__channels=(2,),
        module__hidden_size=3,
        random_state=0,
    )
    net.initialize()
    net.module_.double()
    assert net.layers_ == ["features.0", "head.0", "head.2"]
    batch = make_batch(X, y, group, 2)
    params = list(net.module_.parameters())
    value = net.rationale_alignment(batch)
    autograd = torch.autograd.grad(value, params)
    numeric = finite_difference(lambda: net.rationale_alignment(batch), params)
    for a, b in zip(autograd, numeric):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-8)


def test_named_layers_restrict_the_rationale():
    X, y, group = cell_data()
    net = _net(alignment_weight=1.0, fairness_weight=0.0, layers=["net.2"])
    batch = make_batch(X, y, group, 2)
    W1, b1, W2, b2 = mlp_params(net)
    scores = [
        (mlp_cell_gradient((W1, b1, W2, b2), X[group == a], y[group == a])[0][2] * W2).ravel() ** 2
        for a in (0, 1)
    ]
    np.testing.assert_allclose(net.rationale_alignment(batch).item(), _cos(*scores), rtol=1e-10)


def test_missing_group_is_finite_and_zero():
    X, y, group = cell_data()
    net = _net(alignment_weight=1.0, fairness_weight=1.0)
    one = make_batch(X[group == 0], y[group == 0], group[group == 0], 2)
    value = net.fairness_penalty(one, net.training_forward(one))
    grads = torch.autograd.grad(value, list(net.module_.parameters()), allow_unused=True)
    assert value.item() == 0.0
    assert all(g is None or torch.isfinite(g).all() for g in grads)


def test_zero_weight_cell_is_absent():
    # cell (1, 1) holds only rows of weight 0: the penalty is the one without those rows
    X, y, group = cell_data()
    pruned = (group == 1) & (y == 1)
    net = _net(alignment_weight=1.0, fairness_weight=0.5, constraint="equalized_odds")
    batch = make_batch(X, y, group, 2, np.where(pruned, 0.0, 1.0))
    kept = make_batch(X[~pruned], y[~pruned], group[~pruned], 2)
    value = net.fairness_penalty(batch, net.training_forward(batch))
    expected = net.fairness_penalty(kept, net.training_forward(kept))
    np.testing.assert_allclose(value.item(), expected.item(), rtol=1e-12)
    grads = torch.autograd.grad(value, list(net.module_.parameters()))
    assert all(torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("sampling", ["random", "cell_balanced"])
def test_fit_with_a_zero_weight_cell_is_finite(sampling):
    X, y, A = make_biased_classification(400, random_state=0)
    weight = np.where((A == 1) & (y == 1), 0.0, 1.0)
    clf = FairerClassifier(
        alignment_weight=0.1,
        constraint="equalized_odds",
        sampling=sampling,
        max_epochs=2,
        random_state=0,
        module__hidden_sizes=(16,),
    )
    clf.fit(X, y, sensitive_features=A, sample_weight=weight)
    assert np.isfinite(clf.history[:, "train_loss"]).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_scaled_cosine_is_finite_at_zero_and_exact_for_tiny_vectors(dtype):
    zero = torch.zeros(5, dtype=dtype, requires_grad=True)
    b = torch.arange(1.0, 6.0, dtype=dtype, requires_grad=True)
    for u, v in ((zero, b), (b, zero), (zero, zero.clone())):
        value = scaled_cosine(u, v)
        grads = torch.autograd.grad(value, [zero, b], allow_unused=True)
        assert value.item() == 0.0
        assert all(g is None or torch.isfinite(g).all() for g in grads)
    tiny = torch.tensor([3.0, 0.0, 1.0, 2.0, 5.0], dtype=dtype) * 1e-30
    expected = torch.nn.functional.cosine_similarity(tiny.double() * 1e30, b.double(), dim=0)
    assert scaled_cosine(tiny, b).item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alignment_weight": -1}, "alignment_weight"),
        ({"importance": "neuron"}, "importance"),
        ({"pair_aggregation": "max"}, "pair_aggregation"),
        ({"layers": ["net.1"]}, "layers"),
        ({"layers": ["nope"]}, "layers"),
        ({"layers": "net.0"}, "layers"),
    ],
)
def test_bad_parameters_name_the_argument(params, match, biased_data):
    X, y, group = biased_data
    with pytest.raises(ValueError, match=match):
        FairerClassifier(max_epochs=1, **params).fit(X[:50], y[:50], sensitive_features=group[:50])


def test_alignment_raises_similarity_over_fairreg(biased_data):
    X, y, group = biased_data
    common = dict(
        max_epochs=6,
        batch_size=500,
        module__hidden_sizes=(32,),
        random_state=0,
        fairness_weight=0.3,
        constraint="demographic_parity",
        sampling="group_balanced",
    )
    fairreg = FairRegClassifier(**common).fit(X, y, sensitive_features=group)
    fairer = FairerClassifier(alignment_weight=0.1, **common).fit(X, y, sensitive_features=group)
    similarity = [
        neuron_parity_scores(fitted, X, y, group, layers=["net.0", "net.2"]).similarity
        for fitted in (fairreg, fairer)
    ]
    assert similarity[1] > similarity[0] + 0.3
    assert (fairer.predict(X) == y).mean() > 0.65
