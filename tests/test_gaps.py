# SPDX-License-Identifier: BSD-3-Clause
import numpy as np
import pytest
import torch

from skfairnn.gaps import (
    demographic_parity_gap,
    equal_opportunity_gap,
    equalized_odds_gap,
    fairness_gap,
    group_means,
    group_spread,
)


def _data():
    scores = torch.tensor([0.9, 0.2, 0.6, 0.4, 0.7, 0.1], dtype=torch.float64)
    y = torch.tensor([1, 0, 1, 0, 1, 0])
    groups = torch.tensor([0, 0, 1, 1, 1, 0])
    return scores, y, groups


def test_group_means_match_numpy_with_weights():
    scores, _, groups = _data()
    weights = torch.tensor([1.0, 2.0, 1.0, 1.0, 3.0, 1.0], dtype=torch.float64)
    means, totals = group_means(scores, groups, 3, weights)
    s, g, w = scores.numpy(), groups.numpy(), weights.numpy()
    for k in (0, 1):
        assert means[k].item() == pytest.approx(np.average(s[g == k], weights=w[g == k]))
    assert totals.tolist() == [4.0, 5.0, 0.0]
    assert means[2].item() == 0.0  # absent group: zero, not NaN


def test_two_group_gaps_equal_the_papers_formulas():
    scores, y, groups = _data()
    s, yy, g = scores.numpy(), y.numpy(), groups.numpy()
    dp = abs(s[g == 0].mean() - s[g == 1].mean())
    per_label = [
        abs(s[(g == 0) & (yy == k)].mean() - s[(g == 1) & (yy == k)].mean()) for k in (0, 1)
    ]
    assert demographic_parity_gap(scores, y, groups, 2).item() == pytest.approx(dp)
    assert equalized_odds_gap(scores, y, groups, 2).item() == pytest.approx(sum(per_label))
    assert equalized_odds_gap(scores, y, groups, 2, agg="max").item() == pytest.approx(
        max(per_label)
    )
    assert equal_opportunity_gap(scores, y, groups, 2).item() == pytest.approx(per_label[1])


def test_three_groups_use_the_worst_pair():
    scores = torch.tensor([0.1, 0.2, 0.5, 0.6, 0.9, 1.0])
    groups = torch.tensor([0, 0, 1, 1, 2, 2])
    y = torch.zeros(6, dtype=torch.long)
    assert demographic_parity_gap(scores, y, groups, 3).item() == pytest.approx(0.8)


def test_absent_group_and_single_group_batches_are_finite_and_differentiable():
    scores = torch.tensor([0.3, 0.7], requires_grad=True)
    groups = torch.tensor([1, 1])
    y = torch.tensor([1, 1])
    for constraint in ("demographic_parity", "equalized_odds", "equal_opportunity"):
        gap = fairness_gap(constraint, scores, y, groups, 3)
        assert gap.item() == 0.0
        gap.backward()
        assert torch.isfinite(scores.grad).all()


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_group_of_zero_weight_is_absent(constraint):
    scores, y, groups = _data()
    extra = torch.tensor([0.95, 0.05], dtype=torch.float64)  # group 2, both labels, weight 0
    gap = fairness_gap(
        constraint,
        torch.cat([scores, extra]),
        torch.cat([y, torch.tensor([1, 0])]),
        torch.cat([groups, torch.tensor([2, 2])]),
        3,
        torch.tensor([1.0] * 6 + [0.0, 0.0], dtype=torch.float64),
    )
    assert gap.item() == pytest.approx(fairness_gap(constraint, scores, y, groups, 2).item())


def test_gradient_matches_finite_differences():
    scores, y, groups = _data()
    scores = scores.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda s: equalized_odds_gap(s, y, groups, 2), (scores,), eps=1e-6
    )


@pytest.mark.parametrize(
    "means, totals",
    [
        ([[0.2, 0.7], [0.4, 0.1]], [[3.0, 2.0], [1.0, 4.0]]),  # both groups present
        ([[0.5, 0.5], [0.3, 0.3]], [[1.0, 2.0], [2.0, 1.0]]),  # ties
        ([[0.2, 0.0], [0.0, 0.4]], [[3.0, 0.0], [0.0, 1.0]]),  # one group absent
        ([[0.0, 0.0], [0.6, 0.1]], [[0.0, 0.0], [2.0, 2.0]]),  # none present
    ],
    ids=["present", "ties", "one-absent", "none"],
)
def test_two_group_spread_is_the_general_rule_with_its_gradient(means, totals):
    """Two groups take |m_0 - m_1| (fewer kernels); it equals max - min over the groups
    present, value and gradient, as the rule for more groups computes it (a third,
    absent group does not change that rule's answer)."""
    means = torch.tensor(means, dtype=torch.float64, requires_grad=True)
    totals = torch.tensor(totals, dtype=torch.float64)
    weights = torch.tensor([1.0, -2.0], dtype=torch.float64)
    fast = group_spread(means, totals)
    padded = torch.cat([means, torch.zeros(2, 1, dtype=torch.float64)], 1)
    general = group_spread(padded, torch.cat([totals, torch.zeros(2, 1, dtype=torch.float64)], 1))
    torch.testing.assert_close(fast, general, rtol=0, atol=0)
    (fast_grad,) = torch.autograd.grad((fast * weights).sum(), means)
    (general_grad,) = torch.autograd.grad((general * weights).sum(), means)
    torch.testing.assert_close(fast_grad, general_grad, rtol=0, atol=0)


def test_unknown_constraint_is_named():
    scores, y, groups = _data()
    with pytest.raises(ValueError, match="constraint must be one of"):
        fairness_gap("fairest", scores, y, groups, 2)
