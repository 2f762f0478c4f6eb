# SPDX-License-Identifier: BSD-3-Clause
"""GCMClassifier: Eq. 12–13 against a hand computation, second-order gradients, inputs."""

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

import skfairnn.methods.gcm as gcm_module
from skfairnn import ERMClassifier, GCMClassifier
from skfairnn._forward import forward_by_cell


def _net(**kwargs):
    params = dict(module__hidden_sizes=(4,), random_state=0, fairness_weight=1.0)
    return init_double(GCMClassifier(**{**params, **kwargs}), 3)


def _hand_penalty(
    net, X, y, group, *, magnitude, temperature, constraint, skip_first, labels=(0, 1)
):
    """Eq. 12–13 in numpy: per-cell gradients by manual backprop."""
    params = mlp_params(net)
    cells = {}
    for a, label in itertools.product(np.unique(group), (0, 1)):
        rows = (group == a) & ((y == label) | (constraint == "demographic_parity"))
        if constraint == "demographic_parity" and label == 1:
            continue
        if rows.any():
            grads, p = mlp_cell_gradient(params, X[rows], y[rows])
            grads = grads[1:] if skip_first else grads
            flat = np.concatenate([g.ravel() for g in grads])
            m = flat**2 if magnitude == "squared" else np.abs(flat)
            score = p.mean()
            c = score if constraint == "demographic_parity" or label else 1 - score
            cells[(a, None if constraint == "demographic_parity" else label)] = c**temperature * m
    total = 0.0
    labels = [None] if constraint == "demographic_parity" else labels
    for label in labels:
        keys = sorted(k for k in cells if k[1] == label)
        pairs = list(itertools.combinations(keys, 2))
        if pairs:
            total += sum(np.abs(cells[a] - cells[b]).sum() for a, b in pairs) / len(pairs)
    return total


@pytest.mark.parametrize(
    "magnitude, temperature, constraint, selection",
    [
        ("squared", 2.0, "equalized_odds", "skip_first_weight"),
        ("abs", 0.0, "equalized_odds", "all"),
        ("abs", 2.0, "demographic_parity", "all"),
        ("squared", 1.5, "equal_opportunity", "all"),
    ],
)
def test_penalty_matches_hand_computation(magnitude, temperature, constraint, selection):
    X, y, group = cell_data()
    net = _net(
        magnitude=magnitude,
        temperature=temperature,
        constraint=constraint,
        penalized_params=selection,
    )
    batch = make_batch(X, y, group, 2)
    got = net.fairness_loss(batch, net.training_forward(batch))
    expected = _hand_penalty(
        net,
        X,
        y,
        group,
        magnitude=magnitude,
        temperature=temperature,
        constraint="demographic_parity" if constraint == "demographic_parity" else "eo",
        skip_first=selection == "skip_first_weight",
        labels=(1,) if constraint == "equal_opportunity" else (0, 1),
    )
    np.testing.assert_allclose(got.item(), expected, rtol=1e-10)


def test_temperature_zero_is_eq10():
    X, y, group = cell_data()
    batch = make_batch(X, y, group, 2)
    net = _net(temperature=0.0, magnitude="abs", penalized_params="all")
    params = mlp_params(net)
    expected = 0.0
    for label in (0, 1):
        g = [
            np.concatenate(
                [
                    t.ravel()
                    for t in mlp_cell_gradient(
                        params, X[(group == a) & (y == label)], y[(group == a) & (y == label)]
                    )[0]
                ]
            )
            for a in (0, 1)
        ]
        expected += np.abs(np.abs(g[0]) - np.abs(g[1])).sum()
    got = net.fairness_loss(batch, net.training_forward(batch))
    np.testing.assert_allclose(got.item(), expected, rtol=1e-10)


@pytest.mark.parametrize("temperature", [0.0, 2.0])
def test_second_order_gradient_matches_finite_differences(temperature, monkeypatch):
    X, y, group = cell_data(seed=1)
    batch = make_batch(X, y, group, 2)
    net = _net(temperature=temperature, penalized_params="all")
    # W = c^T is a constant in the penalty (detached): freeze it for the comparison
    frozen = gcm_module.mean_cell_scores(
        forward_by_cell(net.network_logits, batch, net.constraint).cells, batch.sample_weight
    )
    monkeypatch.setattr(gcm_module, "mean_cell_scores", lambda *args: frozen)
    params = list(net.module_.parameters())

    def penalty():
        return net.fairness_loss(batch, net.training_forward(batch))

    autograd = torch.autograd.grad(penalty(), params)
    numeric = finite_difference(penalty, params)
    for a, b in zip(autograd, numeric):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("zero_cell", [False, True])
def test_training_step_gradient_is_task_plus_penalty(zero_cell):
    X, y, group = cell_data(seed=2)
    net = _net(fairness_weight=0.7)
    weight = np.where(zero_cell & (group == 1) & (y == 1), 0.0, 1.0)
    xi = {
        "X": torch.as_tensor(X),
        "group": torch.as_tensor(group),
        "sample_weight": torch.as_tensor(weight),
    }
    yi = torch.as_tensor(y)
    net.sensitive_groups_ = np.array([0, 1])
    net.history.new_epoch()
    net.history.new_batch()
    net.optimizer_.zero_grad()
    net.train_step_single((xi, yi))
    step = [p.grad.clone() for p in net.module_.parameters()]
    net.optimizer_.zero_grad()
    logits = net.network_logits(xi["X"])
    batch = make_batch(X, y, group, 2, weight)
    loss = net.get_loss(logits, yi, X=xi, training=True)
    loss = loss + net.fairness_penalty(batch, net.training_forward(batch))
    reference = torch.autograd.grad(loss, list(net.module_.parameters()))
    for a, b in zip(step, reference):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-14)


def test_empty_cell_and_single_group_give_finite_values():
    X, y, group = cell_data()
    y = y.copy()
    y[group == 1] = 0  # cell (1, 1) is empty: only the label-0 pair remains
    batch = make_batch(X, y, group, 2)
    net = _net(penalized_params="all")
    got = net.fairness_loss(batch, net.training_forward(batch))
    rows = y == 0
    expected = _hand_penalty(
        net,
        X[rows],
        y[rows],
        group[rows],
        magnitude="squared",
        temperature=2.0,
        constraint="eo",
        skip_first=False,
    )
    np.testing.assert_allclose(got.item(), expected, rtol=1e-10)
    one = make_batch(X[group == 0], y[group == 0], group[group == 0], 2)
    value = net.fairness_loss(one, net.training_forward(one))
    grads = torch.autograd.grad(value, list(net.module_.parameters()), allow_unused=True)
    assert value.item() == 0.0
    assert all(g is None or torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("constraint, n_groups", [("equalized_odds", 2), ("demographic_parity", 3)])
def test_zero_weight_cell_is_absent(constraint, n_groups):
    # rows of weight 0 (pruned by a weighter) fill cell (1, 1), or all of group 2
    X, y, group = cell_data(n=12 * n_groups, n_groups=n_groups)
    if constraint == "demographic_parity":
        pruned = group == 2
    else:
        pruned = (group == 1) & (y == 1)
    net = _net(penalized_params="all", constraint=constraint)
    net.n_groups_ = n_groups
    batch = make_batch(X, y, group, n_groups, np.where(pruned, 0.0, 1.0))
    got = net.fairness_loss(batch, net.training_forward(batch))
    kept = make_batch(X[~pruned], y[~pruned], group[~pruned], n_groups)
    expected = net.fairness_loss(kept, net.training_forward(kept))
    assert expected.item() > 0
    np.testing.assert_allclose(got.item(), expected.item(), rtol=1e-12)
    nothing = make_batch(X, y, group, n_groups, np.zeros(len(y)))
    assert net.fairness_loss(nothing, net.training_forward(nothing)).item() == 0.0


def test_more_than_two_groups_average_all_pairs():
    X, y, group = cell_data(n=36, n_groups=3)
    batch = make_batch(X, y, group, 3)
    net = _net(penalized_params="all", constraint="demographic_parity")
    net.n_groups_ = 3
    got = net.fairness_loss(batch, net.training_forward(batch))
    expected = _hand_penalty(
        net,
        X,
        y,
        group,
        magnitude="squared",
        temperature=2.0,
        constraint="demographic_parity",
        skip_first=False,
    )
    np.testing.assert_allclose(got.item(), expected, rtol=1e-10)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"temperature": -1}, "temperature"),
        ({"magnitude": "cube"}, "magnitude"),
        ({"constraint": "fairest"}, "constraint"),
        ({"penalized_params": "some"}, "penalized_params"),
        ({"penalized_params": ["net.9.weight"]}, "penalized_params"),
        ({"fairness_weight": -0.1}, "fairness_weight"),
        ({"gradient": "total"}, "gradient"),
        ({"gradient": None}, "gradient"),
        ({"dp_cells": "cells"}, "dp_cells"),
        ({"sampling": "dp_resample"}, "sampling"),
    ],
)
def test_bad_parameters_name_the_argument(params, match, biased_data):
    X, y, group = biased_data
    with pytest.raises(ValueError, match=match):
        GCMClassifier(max_epochs=1, **params).fit(X[:50], y[:50], sensitive_features=group[:50])


def _eo_gap(clf, X, y, group):
    p = clf.predict(X)
    rates = [[p[(group == a) & (y == lab)].mean() for a in (0, 1)] for lab in (0, 1)]
    return sum(abs(r[0] - r[1]) for r in rates)


def test_reduces_equalized_odds_gap_of_its_sampling_baseline(biased_data):
    # GCM builds on cell-balanced batches (the Oversample baseline): it must beat it
    X, y, group = biased_data
    common = dict(max_epochs=8, batch_size=400, module__hidden_sizes=(32,), random_state=0)
    oversample = ERMClassifier(sampling="cell_balanced", **common)
    oversample.fit(X, y, sensitive_features=group)
    gcm = GCMClassifier(fairness_weight=10.0, temperature=0.0, **common)
    gcm.fit(X, y, sensitive_features=group)
    assert _eo_gap(gcm, X, y, group) < 0.85 * _eo_gap(oversample, X, y, group)
    assert (gcm.predict(X) == y).mean() > 0.7


# ---------------------------------------------------------------- gradient="sum" (Eq. 6)
def _balanced_cells(per_cell=6, d=3, seed=0):
    """Every (group, label) cell with ``per_cell`` rows, rows shuffled."""
    rng = np.random.default_rng(seed)
    n = 4 * per_cell
    group = np.repeat([0, 1], n // 2)
    y = np.tile([0, 1], n // 2)
    order = rng.permutation(n)
    return rng.normal(size=(n, d)), y[order], group[order]


def _torch_sum_penalty(net, X, y, group, weight, *, magnitude, temperature, constraint):
    """Eq. 6 + 12–13 with plain autograd: g = (K / |Z|) * grad of the cell's summed loss."""
    Xt, yt, wt = (torch.as_tensor(v, dtype=torch.float64) for v in (X, y, weight))
    params = list(net.module_.parameters())
    keys = [(a, lab) for a in (0, 1) for lab in (0, 1)]
    if constraint == "demographic_parity":
        keys = [(a, None) for a in (0, 1)]
    rows = {k: np.flatnonzero((group == k[0]) & ((k[1] is None) | (y == k[1]))) for k in keys}
    rows = {k: r for k, r in rows.items() if weight[r].sum() > 0}
    total_weight, n_cells = weight.sum(), len(rows)
    reweighed = {}
    for (a, lab), r in rows.items():
        logits = net.module_(Xt[r]).reshape(-1)
        summed = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, yt[r], weight=wt[r], reduction="sum"
        )
        g = torch.cat([t.reshape(-1) for t in torch.autograd.grad(summed, params)])
        g = g * n_cells / total_weight
        m = g.square() if magnitude == "squared" else g.abs()
        score = float((torch.sigmoid(logits.detach()) * wt[r]).sum() / wt[r].sum())
        c = score if lab is None or lab == 1 else 1 - score
        reweighed[(a, lab)] = c**temperature * m
    total = 0.0
    for lab in {k[1] for k in reweighed}:
        pair = [reweighed[k] for k in sorted(reweighed) if k[1] == lab]
        if len(pair) == 2:
            total += (pair[0] - pair[1]).abs().sum().item()
    return total


@pytest.mark.parametrize("magnitude", ["squared", "abs"])
@pytest.mark.parametrize("constraint", ["equalized_odds", "demographic_parity"])
def test_sum_equals_mean_on_cell_balanced_batches(magnitude, constraint):
    # every cell holds |Z| / K rows: s = K |Z_ay| / |Z| = 1, the same penalty at the same lambda
    X, y, group = _balanced_cells()
    batch = make_batch(X, y, group, 2)
    net, values = _net(magnitude=magnitude, constraint=constraint), {}
    for gradient in ("mean", "sum"):
        net.set_params(gradient=gradient)  # same initial weights for both
        values[gradient] = net.fairness_loss(batch, net.training_forward(batch)).item()
    assert values["mean"] > 0
    np.testing.assert_allclose(values["sum"], values["mean"], rtol=1e-12)


@pytest.mark.parametrize(
    "magnitude, temperature, constraint",
    [("squared", 2.0, "equalized_odds"), ("abs", 0.0, "equalized_odds"),
     ("squared", 1.0, "demographic_parity")],
)  # fmt: skip
def test_sum_matches_eq6_by_autograd(magnitude, temperature, constraint):
    X, y, group = cell_data(n=30, seed=3)  # unequal cells
    weight = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    net = _net(
        gradient="sum",
        magnitude=magnitude,
        temperature=temperature,
        constraint=constraint,
        penalized_params="all",
    )
    batch = make_batch(X, y, group, 2, weight)
    got = net.fairness_loss(batch, net.training_forward(batch)).item()
    expected = _torch_sum_penalty(
        net, X, y, group, weight, magnitude=magnitude, temperature=temperature,
        constraint=constraint,
    )  # fmt: skip
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_sum_sees_cell_sizes_and_mean_does_not():
    # doubling cell (1, 1) leaves its mean gradient and mean score unchanged: "mean" is
    # blind to it (the §3.1 mechanism), "sum" weighs the larger cell in
    X, y, group = _balanced_cells(seed=4)
    twice = np.concatenate([np.arange(len(y)), np.flatnonzero((group == 1) & (y == 1))])
    once, doubled = make_batch(X, y, group, 2), make_batch(X[twice], y[twice], group[twice], 2)
    net, values = _net(penalized_params="all"), {}
    for gradient in ("mean", "sum"):
        net.set_params(gradient=gradient)
        values[gradient] = [
            net.fairness_loss(b, net.training_forward(b)).item() for b in (once, doubled)
        ]
    np.testing.assert_allclose(values["mean"][1], values["mean"][0], rtol=1e-12)
    assert abs(values["sum"][1] - values["sum"][0]) > 0.05 * values["sum"][0]


def test_contribution_scales_by_hand():
    cells = gcm_module.CellForward(
        codes=[0, 1, 3], index=[torch.tensor([0, 1]), torch.tensor([2]), torch.tensor([3, 4, 5])],
        logits=[None] * 3, n_groups=2,
    )  # fmt: skip
    weight = torch.tensor([1.0, 1.0, 2.0, 0.5, 0.5, 1.0])
    # sizes 2, 2, 2 of total 6 over K = 3 cells; then 1, 2, 2 of total 5 (first row weight 0)
    np.testing.assert_allclose(gcm_module.contribution_scales(cells, weight), [1.0, 1.0, 1.0])
    weight[0] = 0.0
    np.testing.assert_allclose(gcm_module.contribution_scales(cells, weight), [3 / 5, 6 / 5, 6 / 5])


# ---------------------------------------------------------------- magnitude balance points
@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_squared_balances_at_half_the_temperature_of_abs(temperature):
    c0, c1 = 0.4, 0.8
    weights = torch.tensor([c0, c1], dtype=torch.float64) ** temperature
    pairs = [[(0, 1)]]

    def penalty(g0, g1, magnitude):
        norm = gcm_module.MAGNITUDES[magnitude]
        magnitudes = [norm(torch.tensor([g], dtype=torch.float64)) for g in (g0, g1)]
        return gcm_module.gradient_matching_penalty(magnitudes, weights, pairs).item()

    ratio = c1 / c0
    assert penalty(ratio ** (temperature / 2), 1.0, "squared") == pytest.approx(0.0, abs=1e-15)
    assert penalty(ratio**temperature, 1.0, "abs") == pytest.approx(0.0, abs=1e-15)
    # the other magnitude is off balance there: |W0 m(g0) - W1 m(g1)| with g1 = 1
    assert penalty(ratio ** (temperature / 2), 1.0, "abs") == pytest.approx(
        abs(c0**temperature * ratio ** (temperature / 2) - c1**temperature)
    )
    assert penalty(ratio**temperature, 1.0, "squared") == pytest.approx(
        abs(c0**temperature * ratio ** (2 * temperature) - c1**temperature)
    )


# ---------------------------------------------------------------- §4.3 DP variant
def test_dp_label_cells_match_per_label_cells_by_hand():
    X, y, group = cell_data(seed=5)
    batch = make_batch(X, y, group, 2)
    net = _net(constraint="demographic_parity", dp_cells="label_cells", penalized_params="all")
    got = net.fairness_loss(batch, net.training_forward(batch)).item()
    expected = _hand_penalty(
        net, X, y, group, magnitude="squared", temperature=2.0, constraint="eo",
        skip_first=False,
    )  # fmt: skip
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    net.set_params(dp_cells="groups")  # whole groups: a different penalty (Eq. 13 on groups)
    groups = net.fairness_loss(batch, net.training_forward(batch)).item()
    expected_groups = _hand_penalty(
        net, X, y, group, magnitude="squared", temperature=2.0,
        constraint="demographic_parity", skip_first=False,
    )  # fmt: skip
    np.testing.assert_allclose(groups, expected_groups, rtol=1e-10)
    assert abs(groups - got) > 1e-3 * got


def test_dp_cells_is_ignored_for_label_constraints():
    X, y, group = cell_data(seed=6)
    batch = make_batch(X, y, group, 2)
    net = _net()
    values = [
        net.set_params(dp_cells=dp_cells).fairness_loss(batch, None).item()
        for dp_cells in ("groups", "label_cells")
    ]
    assert values[0] == values[1]


@pytest.mark.parametrize(
    "constraint, dp_cells, sampling, expected",
    [
        ("demographic_parity", "groups", "auto", "group_balanced"),
        ("demographic_parity", "label_cells", "auto", "dp_resampled"),
        ("demographic_parity", "label_cells", "random", "random"),
        ("equalized_odds", "label_cells", "auto", "cell_balanced"),
    ],
)
def test_auto_sampling_of_each_variant(constraint, dp_cells, sampling, expected):
    net = GCMClassifier(constraint=constraint, dp_cells=dp_cells, sampling=sampling)
    assert net._sampler_name() == expected


@pytest.mark.filterwarnings("ignore::skfairnn.exceptions.CollapseWarning")  # 3 batches only
def test_dp_variant_trains_on_dp_resampled_batches(biased_data):
    # DP resampling keeps the data's label prior (sum_a n_a n_1 / n^2 = n_1 / n)
    X, y, group = biased_data
    clf = GCMClassifier(
        constraint="demographic_parity", dp_cells="label_cells", max_epochs=1,
        batches_per_epoch=3, batch_size=200, module__hidden_sizes=(8,), random_state=0,
    )  # fmt: skip
    clf.fit(X, y, sensitive_features=group)
    assert clf.training_label_prior_ == pytest.approx(y.mean())
    assert np.isfinite(clf.history[:, "train_loss"]).all()
