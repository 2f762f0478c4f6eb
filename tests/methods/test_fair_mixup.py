# SPDX-License-Identifier: BSD-3-Clause
"""FairMixupClassifier: the path regulariser against finite differences, and training."""

from itertools import combinations

import numpy as np
import pytest
import torch
from _gradient_hand import finite_difference
from torch import nn

from skfairnn import FairMixupClassifier, FairRegClassifier
from skfairnn.datasets import make_biased_classification
from skfairnn.methods.fair_mixup import mixup_pairs, mixup_path_penalty

H = 1e-6


def _tiny_net(shape=(3,)):
    """A smooth float64 network (tanh), flat or convolutional."""
    torch.manual_seed(0)
    if len(shape) == 1:
        net = nn.Sequential(nn.Linear(shape[0], 5), nn.Tanh(), nn.Linear(5, 1))
    else:
        net = nn.Sequential(
            nn.Conv2d(shape[0], 2, 3, padding=1),
            nn.Tanh(),
            nn.Flatten(),
            nn.Linear(2 * shape[1] * shape[2], 1),
        )
    net = net.double()
    return net, lambda x: net(x)[:, 0]


def _batch(n=24, n_groups=2, shape=(3,), seed=0):
    rng = np.random.default_rng(seed)
    X = torch.as_tensor(rng.normal(size=(n, *shape)))
    y = torch.as_tensor(rng.integers(0, 2, n), dtype=torch.float64)
    group = torch.as_tensor(rng.integers(0, n_groups, n))
    weight = torch.as_tensor(rng.uniform(0.5, 2.0, n))
    return X, y, group, weight


def _mean_output(f, X, rows_0, rows_1, weight, t, scale):
    """Weighted mean of s(f(x_t)) on one path: the quantity whose t-derivative is penalised."""
    x_t = t * X[rows_0] + (1 - t) * X[rows_1]
    out = f(x_t)
    out = torch.sigmoid(out) if scale == "probability" else out
    w = weight[rows_0] * weight[rows_1]
    return ((w * out).sum() / w.sum()).item()


def _hand_penalty(f, X, y, group, weight, n_groups, constraint, t, scale="probability"):
    """Σ_labels mean_pairs |d/dt E_w[s(f(x_t))]| by central differences, pairing by hand."""
    labels = {"demographic_parity": [None], "equalized_odds": [0, 1], "equal_opportunity": [1]}
    g, lab, pos = group.numpy(), y.numpy(), weight.numpy() > 0
    total, k = 0.0, 0
    for label in labels[constraint]:
        cell = pos if label is None else pos & (lab == label)
        present = [a for a in range(n_groups) if (cell & (g == a)).any()]
        pairs = list(combinations(present, 2))
        for a, b in pairs:
            rows_a, rows_b = np.flatnonzero(cell & (g == a)), np.flatnonzero(cell & (g == b))
            m = min(len(rows_a), len(rows_b))
            r0, r1 = torch.as_tensor(rows_a[:m]), torch.as_tensor(rows_b[:m])
            up = _mean_output(f, X, r0, r1, weight, t[k].item() + H, scale)
            down = _mean_output(f, X, r0, r1, weight, t[k].item() - H, scale)
            total += abs((up - down) / (2 * H)) / len(pairs)
            k += 1
    return total


CASES = [
    ("demographic_parity", 2, (3,), "probability"),
    ("equalized_odds", 2, (3,), "probability"),
    ("equal_opportunity", 2, (3,), "probability"),
    ("equalized_odds", 2, (3,), "logit"),
    ("demographic_parity", 3, (3,), "probability"),
    ("equalized_odds", 3, (3,), "probability"),
    ("demographic_parity", 2, (2, 4, 4), "probability"),  # images: interpolation in input space
]


@pytest.mark.parametrize("constraint, n_groups, shape, scale", CASES)
def test_penalty_is_the_finite_difference_path_derivative(constraint, n_groups, shape, scale):
    net, f = _tiny_net(shape)
    X, y, group, weight = _batch(n_groups=n_groups, shape=shape)
    n_terms = len(mixup_pairs(group, y, weight, constraint, n_groups)[3])
    t = torch.linspace(0.2, 0.8, n_terms, dtype=torch.float64)
    got = mixup_path_penalty(
        f, X, y, group, weight, n_groups, constraint=constraint, scale=scale, t=t
    )
    expected = _hand_penalty(f, X, y, group, weight, n_groups, constraint, t, scale)
    assert expected > 1e-4
    np.testing.assert_allclose(got.item(), expected, rtol=1e-6)


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_parameter_gradient_matches_finite_differences(constraint):
    net, f = _tiny_net()
    X, y, group, weight = _batch()
    t = torch.tensor([0.3, 0.7], dtype=torch.float64)[: 1 if constraint[0] == "d" else 2]

    def penalty():
        return mixup_path_penalty(f, X, y, group, weight, 2, constraint=constraint, t=t)

    params = list(net.parameters())
    got = torch.autograd.grad(penalty(), params)
    with torch.no_grad():
        expected = finite_difference(penalty, params, h=H)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-5, atol=1e-8)


def test_beta_draws_use_torch_global_generator():
    _, f = _tiny_net()
    X, y, group, weight = _batch()
    torch.manual_seed(3)
    first = mixup_path_penalty(f, X, y, group, weight, 2, constraint="equalized_odds", alpha=0.5)
    torch.manual_seed(3)
    again = mixup_path_penalty(f, X, y, group, weight, 2, constraint="equalized_odds", alpha=0.5)
    other = mixup_path_penalty(f, X, y, group, weight, 2, constraint="equalized_odds", alpha=0.5)
    assert first.item() == again.item() != other.item()


def test_missing_cell_or_single_group_gives_zero_not_nan():
    net, f = _tiny_net()
    X, y, group, weight = _batch()
    # group 1 has no positives: EO keeps only the y=0 term, EOp has nothing to compare
    y_missing = torch.where(group == 1, 0.0, y).to(torch.float64)
    t = torch.tensor([0.4], dtype=torch.float64)
    eo = mixup_path_penalty(f, X, y_missing, group, weight, 2, constraint="equalized_odds", t=t)
    y0 = mixup_path_penalty(
        f, X[y_missing == 0], y_missing[y_missing == 0], group[y_missing == 0],
        weight[y_missing == 0], 2, constraint="demographic_parity", t=t,
    )  # fmt: skip
    np.testing.assert_allclose(eo.item(), y0.item(), rtol=1e-12)
    eop = mixup_path_penalty(f, X, y_missing, group, weight, 2, constraint="equal_opportunity")
    single = mixup_path_penalty(f, X, y, torch.zeros_like(group), weight, 2)
    for value in (eop, single):
        assert value.item() == 0.0
        (value + sum(p.sum() for p in net.parameters())).backward()
        assert all(torch.isfinite(p.grad).all() for p in net.parameters())


def test_zero_weight_rows_are_left_out_before_pairing():
    _, f = _tiny_net()
    X, y, group, weight = _batch()
    zeroed = weight.clone()
    zeroed[[0, 5, 6]] = 0.0
    keep = zeroed > 0
    t = torch.tensor([0.35], dtype=torch.float64)
    got = mixup_path_penalty(f, X, y, group, zeroed, 2, t=t)
    dropped = mixup_path_penalty(f, X[keep], y[keep], group[keep], weight[keep], 2, t=t)
    full = mixup_path_penalty(f, X, y, group, weight, 2, t=t)
    np.testing.assert_allclose(got.item(), dropped.item(), rtol=1e-12)
    assert abs(got.item() - full.item()) > 1e-6


def test_pairs_are_weighted_by_the_product_of_their_rows_weights():
    _, f = _tiny_net()
    X, y, group, weight = _batch()
    t = torch.tensor([0.6], dtype=torch.float64)
    rows_0, rows_1, _, _ = mixup_pairs(group, y, weight, "demographic_parity", 2)
    # doubling one end's weight doubles that path's weight only
    doubled = weight.clone()
    doubled[rows_0[0]] *= 2
    got = mixup_path_penalty(f, X, y, group, doubled, 2, t=t)
    expected = _hand_penalty(f, X, y, group, doubled, 2, "demographic_parity", t)
    np.testing.assert_allclose(got.item(), expected, rtol=1e-6)
    assert abs(got.item() - mixup_path_penalty(f, X, y, group, weight, 2, t=t).item()) > 1e-6


SMALL = dict(max_epochs=5, lr=1e-2, batch_size=64, module__hidden_sizes=(8,))


def test_fit_is_reproducible_and_keeps_no_extra_state():
    X, y, A = make_biased_classification(300, n_features=5, random_state=0)
    first = FairMixupClassifier(**SMALL, random_state=0).fit(X, y, sensitive_features=A)
    again = FairMixupClassifier(**SMALL, random_state=0).fit(X, y, sensitive_features=A)
    other = FairMixupClassifier(**SMALL, random_state=1).fit(X, y, sensitive_features=A)
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    assert not np.allclose(first.predict_proba(X), other.predict_proba(X))
    reference = FairRegClassifier(**SMALL, random_state=0).fit(X, y, sensitive_features=A)
    assert set(vars(first)) - set(vars(reference)) == {"alpha", "scale"}
    assert len(first.history[:, "train_fairness_penalty"]) == SMALL["max_epochs"]


def test_images_train_with_a_cnn():
    from skfairnn.modules import ConvNet

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2, 6, 6)).astype(np.float32)
    y = (X[:, 0].mean((1, 2)) > 0).astype(int)
    clf = FairMixupClassifier(
        module=ConvNet, module__channels=(3,), max_epochs=2, batch_size=32, random_state=0
    )
    clf.fit(X, y, sensitive_features=rng.integers(0, 2, 64))
    assert clf.predict_proba(X).shape == (64, 2)
    assert np.isfinite(clf.history[:, "train_fairness_penalty"]).all()


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_reduces_the_gap_against_erm(constraint):
    X, y, A = make_biased_classification(
        3000, n_features=6, bias="distribution_shift", random_state=0
    )
    train, test = np.arange(2000), np.arange(2000, 3000)
    common = dict(
        constraint=constraint, max_epochs=15, batch_size=200, lr=3e-3,
        module__hidden_sizes=(32,), random_state=0,
    )  # fmt: skip

    def gap(clf):
        clf.fit(X[train], y[train], sensitive_features=A[train])
        p, a, label = clf.predict_proba(X[test])[:, 1], A[test], y[test]
        if constraint == "demographic_parity":
            return abs(p[a == 0].mean() - p[a == 1].mean())
        return sum(
            abs(p[(a == 0) & (label == v)].mean() - p[(a == 1) & (label == v)].mean())
            for v in (0, 1)
        )

    erm = gap(FairMixupClassifier(fairness_weight=0.0, **common))
    fair = gap(FairMixupClassifier(fairness_weight=1.0, **common))
    assert fair < 0.6 * erm


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": -1.0}, "alpha"),
        ({"scale": "odds"}, "scale"),
        ({"constraint": "fairest"}, "constraint"),
        ({"fairness_weight": -0.1}, "fairness_weight"),
    ],
)
def test_bad_parameters_name_the_argument(params, match, biased_data):
    X, y, group = biased_data
    with pytest.raises(ValueError, match=match):
        FairMixupClassifier(max_epochs=1, **params).fit(
            X[:50], y[:50], sensitive_features=group[:50]
        )
