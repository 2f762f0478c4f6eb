# SPDX-License-Identifier: BSD-3-Clause
"""Gradient diagnostics against loop references; callbacks; the Fig. 2 plot."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from skfairnn import ERMClassifier, GCMClassifier
from skfairnn.diagnostics import (
    ContributionDisparityLogger,
    NeuronParityLogger,
    group_contribution_disparity,
    neuron_parity_scores,
    plot_contribution_disparity,
)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=60) > 0).astype(int)
    A = np.where(rng.random(60) < 0.4, "f", "m")
    net = ERMClassifier(module__hidden_sizes=(4,), max_epochs=3, random_state=0)
    return net.fit(X, y, sensitive_features=A), X, y, A


def _group_loss(net, X, y, rows):
    logits = net.module_(torch.as_tensor(X[rows]))
    return F.binary_cross_entropy_with_logits(logits, torch.as_tensor(y[rows], dtype=torch.float32))


def test_contribution_disparity_is_eq8(fitted):
    net, X, y, A = fitted
    params = list(net.module_.parameters())
    expected = {}
    for label in (0, 1):
        g = []
        for a in ("f", "m"):
            rows = (A == a) & (y == label)
            grads = torch.autograd.grad(_group_loss(net, X, y, rows), params)
            g.append(torch.cat([t.reshape(-1) for t in grads]).abs().numpy() * rows.sum())
        keep = g[1] != 0
        expected[f"y={label}"] = np.mean(g[0][keep] / g[1][keep])
    got = group_contribution_disparity(net, X, y, A)
    np.testing.assert_allclose(
        [got["y=0"], got["y=1"]], [expected["y=0"], expected["y=1"]], rtol=1e-4
    )
    per_layer = group_contribution_disparity(net, X, y, A, per_layer=True)
    assert set(per_layer) == {name for name, _ in net.module_.named_parameters()}


@pytest.mark.parametrize("importance", ["parameter", "unit"])
def test_ablation_parity_matches_loop_reference(fitted, importance):
    net, X, y, A = fitted
    result = neuron_parity_scores(
        net, X, y, A, method="ablation", importance=importance, chunk_size=5
    )
    layer = net.module_.net[0]
    with torch.no_grad():
        base = [_group_loss(net, X, y, A == a).item() for a in ("f", "m")]
        reference = []
        n_items = layer.weight.shape[0] if importance == "unit" else layer.weight.numel()
        for k in range(n_items):
            saved_w, saved_b = layer.weight.clone(), layer.bias.clone()
            if importance == "unit":
                layer.weight[k] = 0
                layer.bias[k] = 0
            else:
                layer.weight.view(-1)[k] = 0
            reference.append(
                [(b - _group_loss(net, X, y, A == a).item()) ** 2 for b, a in zip(base, ("f", "m"))]
            )
            layer.weight.copy_(saved_w)
            layer.bias.copy_(saved_b)
    np.testing.assert_allclose(result.importances[0].T, reference, rtol=1e-4, atol=1e-10)
    d = (result.importances[0][0] - result.importances[0][1]) ** 2
    np.testing.assert_allclose(result.parity[0], d, rtol=1e-6)


def test_taylor_parity_is_eq8(fitted):
    net, X, y, A = fitted
    result = neuron_parity_scores(net, X, y, A, method="taylor")
    weight = net.module_.net[2].weight
    scores = []
    for a in ("f", "m"):
        (g,) = torch.autograd.grad(_group_loss(net, X, y, A == a), [weight])
        scores.append(((g * weight) ** 2).detach().reshape(-1).numpy())
    np.testing.assert_allclose(result.importances[1], scores, rtol=1e-5)
    cos = scores[0] @ scores[1] / np.linalg.norm(scores[0]) / np.linalg.norm(scores[1])
    np.testing.assert_allclose(result.layer_similarity[1], cos, rtol=1e-5)
    assert result.layers == ["net.0", "net.2"]
    with pytest.raises(ValueError, match="method"):
        neuron_parity_scores(net, X, y, A, method="exact")


def test_callbacks_log_each_epoch_and_plot(biased_data, tmp_path):
    X, y, group = biased_data
    nets = {}
    for name, net in [
        ("oversample", ERMClassifier(sampling="cell_balanced")),
        ("GCM", GCMClassifier(fairness_weight=1.0)),
    ]:
        net.set_params(
            callbacks=[
                ContributionDisparityLogger(max_samples=500),
                NeuronParityLogger(max_samples=500),
            ],
            max_epochs=3,
            batch_size=500,
            module__hidden_sizes=(8,),
            random_state=0,
        )
        nets[name] = net.fit(X, y, sensitive_features=group)
        for key in (
            "contribution_disparity_y0",
            "contribution_disparity_y1",
            "neuron_parity_score",
            "rationale_similarity",
        ):
            values = net.history[:, key]
            assert len(values) == 3 and np.all(np.isfinite(values))
    figure = plot_contribution_disparity(nets, smooth=2)
    assert len(figure.axes) == 2 and len(figure.axes[0].lines) == 3  # 2 methods + the y=1 line
    figure.savefig(tmp_path / "fig2.png")
    assert (tmp_path / "fig2.png").stat().st_size > 0
