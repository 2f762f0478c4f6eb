# SPDX-License-Identifier: BSD-3-Clause
"""skfairnn.modules: the one layer-discovery rule, the logit shape, the hinge loss."""

import numpy as np
import pytest
import torch
from torch import nn

from skfairnn.modules import (
    MLP,
    ConvNet,
    HingeLoss,
    LogisticRegressionModule,
    as_logits,
    find_layers,
)


def test_as_logits_accepts_one_logit_per_row():
    column = torch.arange(3.0)[:, None]
    np.testing.assert_array_equal(as_logits(column).numpy(), [0.0, 1.0, 2.0])
    assert as_logits(column[:, 0]).shape == (3,)
    for bad in (torch.zeros(3, 2), torch.zeros(()), torch.zeros(3, 1, 1)):
        with pytest.raises(ValueError, match=r"one logit per row.*got shape"):
            as_logits(bad)


def test_find_layers_in_registration_order_with_or_without_the_output_layer():
    mlp = MLP(4, hidden_sizes=(5, 6))
    assert [name for name, _ in find_layers(mlp)] == ["net.0", "net.2", "net.4"]
    assert [name for name, _ in find_layers(mlp, output_layer=False)] == ["net.0", "net.2"]
    conv = ConvNet(3)
    assert [type(layer) for _, layer in find_layers(conv, output_layer=False)] == [
        nn.Conv2d,
        nn.Conv2d,
        nn.Linear,
    ]
    assert [name for name, _ in find_layers(conv, types=(nn.Conv2d,))] == [
        "features.0",
        "features.3",
    ]


def test_find_layers_checks_named_layers():
    mlp = MLP(4, hidden_sizes=(5,))
    # named layers come back in the given order, the output layer allowed
    assert [name for name, _ in find_layers(mlp, ["net.2", "net.0"], output_layer=False)] == [
        "net.2",
        "net.0",
    ]
    with pytest.raises(ValueError, match=r"'net.1' is not an nn.Linear or nn.Conv2d.*net\.0"):
        find_layers(mlp, ["net.1"])
    with pytest.raises(ValueError, match="'nope' is not an nn.Linear"):
        find_layers(mlp, ["nope"])
    with pytest.raises(ValueError, match="at least one layer"):
        find_layers(mlp, [])
    with pytest.raises(TypeError, match="layers must be a list"):
        find_layers(mlp, "net.0")


def test_find_layers_without_a_match_names_the_layers_parameter():
    with pytest.raises(ValueError, match=r"no hidden nn.Linear/nn.Conv2d.*`layers` parameter"):
        find_layers(LogisticRegressionModule(3), output_layer=False)
    with pytest.raises(ValueError, match=r"has no nn.Conv2d layer"):
        find_layers(MLP(3), types=(nn.Conv2d,))


def test_hinge_loss_reductions():
    logits, target = torch.tensor([2.0, 0.5, -0.3]), torch.tensor([1.0, 1.0, 0.0])
    per_row = HingeLoss(reduction="none")(logits, target)
    np.testing.assert_allclose(per_row.numpy(), [0.0, 0.5, 0.7], rtol=1e-6)
    assert HingeLoss()(logits, target) == pytest.approx(per_row.mean().item())
    assert HingeLoss(reduction="sum")(logits, target) == pytest.approx(per_row.sum().item())
