# SPDX-License-Identifier: BSD-3-Clause
"""One forward of all cells with per-cell segment sums (skfairnn._segments) against the loop."""

import copy

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

import skfairnn._forward as forward_module
import skfairnn._segments as segments_module
from skfairnn import FairerClassifier, GCMClassifier
from skfairnn._base import FairBatch
from skfairnn._cell_gradients import cell_gradients, cell_losses, compared_cells
from skfairnn._forward import forward_by_cell
from skfairnn._segments import segments_cells
from skfairnn.modules import MLP, ConvNet, LogisticRegressionModule, as_logits

BCE = nn.BCEWithLogitsLoss(reduction="none")


def _columns(n_groups=2, n=46, seed=0, equal=False):
    """Unequal cells with rows of weight 0; with 3 groups also an absent cell (group 0,
    label 1) and one whose rows all have weight 0 (group 1, label 0). ``equal``: four
    (group, label) cells of 12 rows each (the batched-product path)."""
    generator = torch.Generator().manual_seed(seed)
    if equal:
        group = torch.arange(48) % 2
        y = (torch.arange(48) // 2) % 2
    else:
        group = torch.randint(0, n_groups, (n,), generator=generator)
        y = torch.randint(0, 2, (n,), generator=generator)
    weight = torch.rand(len(y), generator=generator) + 0.5
    weight[::5] = 0.0
    if n_groups > 2:
        y[group == 0] = 0
        weight[(group == 1) & (y == 0)] = 0.0
    X = torch.randn(len(y), 6, generator=generator)
    return X, y, group, weight


def test_only_networks_whose_rows_do_not_interact_share_one_forward():
    assert segments_cells(MLP(4, (8,)))
    assert segments_cells(LogisticRegressionModule(4))
    assert segments_cells(MLP(4, (8,), dropout=0.5))  # masks drawn once for the batch
    assert segments_cells(ConvNet(3))
    assert not segments_cells(None)
    assert not segments_cells(nn.Sequential(nn.Linear(4, 1), nn.BatchNorm1d(1)))  # not "auto"
    assert not segments_cells(_BatchNormNet())

    class Wider(MLP):
        def forward(self, X):
            return super().forward(X) * 2

    assert not segments_cells(Wider(4, (8,)))  # a subclass may change the forward
    hooked = MLP(4, (8,))
    hooked.net[0].register_forward_hook(lambda *args: None)
    assert not segments_cells(hooked)


class _Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)) + x)


class _BatchNormNet(nn.Module):
    """A small residual CNN with batch norm (rows interact through its statistics)."""

    def __init__(self, momentum=0.1):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(2, 4, 3, stride=2), nn.BatchNorm2d(4, momentum=momentum)
        )
        self.block = _Block(4)
        self.head = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5, momentum=momentum), nn.ReLU(),
                                  nn.Linear(5, 1))  # fmt: skip

    def forward(self, x):
        return self.head(self.block(torch.relu(self.stem(x))).mean((2, 3)))


def _per_cell_gradients(forward, batch, constraint, params):
    cells = compared_cells(forward.cells, constraint)
    losses = cell_losses(cells, BCE, batch.y, batch.sample_weight)
    return cells, losses, cell_gradients(losses, params, cells=cells)


@pytest.mark.parametrize(
    "constraint", ["equalized_odds", "equal_opportunity", "demographic_parity"]
)
@pytest.mark.parametrize(
    "n_groups, equal", [(2, False), (3, False), (2, True)], ids=["2", "3", "equal-cells"]
)
def test_segment_sums_give_the_loops_logits_and_gradients(constraint, n_groups, equal):
    torch.manual_seed(0)
    net = MLP(6, (7, 5)).double()
    X, y, group, weight = _columns(n_groups, equal=equal)
    batch = FairBatch(X.double(), y.double(), group, weight.double(), n_groups)

    def logits_of(rows):
        return as_logits(net(rows), net)

    loop = forward_by_cell(logits_of, batch, constraint)
    segmented = forward_by_cell(logits_of, batch, constraint, net)
    assert loop.cells.segments is None and segmented.cells.segments is not None
    torch.testing.assert_close(segmented.logits, loop.logits, rtol=1e-12, atol=1e-12)
    assert segmented.cells.codes == loop.cells.codes
    if constraint != "demographic_parity" and n_groups > 2:
        assert 1 not in loop.cells.codes  # absent cell
        assert 2 not in loop.cells.codes  # rows of weight 0 only
    params = list(net.parameters())
    _, loop_losses, loop_grads = _per_cell_gradients(loop, batch, constraint, params)
    _, losses, grads = _per_cell_gradients(segmented, batch, constraint, params)
    torch.testing.assert_close(torch.stack(losses), torch.stack(loop_losses))
    assert len(grads) == len(loop_grads) == len(params)
    for param, loop_stack, stack in zip(params, loop_grads, grads):  # (cell, *param.shape)
        assert stack.shape == (len(losses), *param.shape)
        torch.testing.assert_close(stack, loop_stack, rtol=1e-10, atol=1e-12)
    # second order: a penalty on the per-cell gradients has the loop's gradient
    total = sum(g.square().sum() for g in grads)
    expected = sum(g.square().sum() for g in loop_grads)
    for a, b in zip(torch.autograd.grad(expected, params), torch.autograd.grad(total, params)):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)


def test_with_dropout_each_cell_gets_the_gradient_of_the_batchs_own_forward():
    """Masks are drawn once for the batch; the segment sums are exact for those masks."""
    torch.manual_seed(0)
    net = MLP(6, (16, 16), dropout=0.5).double().train()
    X, y, group, weight = _columns(2, n=60, seed=1)
    batch = FairBatch(X.double(), y.double(), group, weight.double(), 2)
    forward = forward_by_cell(lambda rows: as_logits(net(rows), net), batch, "equalized_odds", net)
    params = list(net.parameters())
    _, losses, grads = _per_cell_gradients(forward, batch, "equalized_odds", params)
    for loss, cell in zip(losses, zip(*grads)):  # autograd through the shared graph, per cell
        direct = torch.autograd.grad(loss, params, retain_graph=True)
        for a, b in zip(direct, cell):
            torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)


def _step_input(n_groups=3):
    X, y, group, weight = _columns(n_groups, n=60, seed=3)
    return {"X": X, "group": group, "sample_weight": weight}, y


@pytest.mark.filterwarnings("ignore::skfairnn.exceptions.CollapseWarning")
@pytest.mark.parametrize(
    "estimator",
    [
        GCMClassifier(temperature=2.0, gradient="sum", penalized_params="all"),
        GCMClassifier(constraint="equal_opportunity", magnitude="abs"),
        FairerClassifier(constraint="equalized_odds", alignment_weight=1.0),
        FairerClassifier(importance="unit", alignment_weight=1.0),
    ],
    ids=["gcm-sum-all", "gcm-eop", "fairer-eo", "fairer-dp-unit"],
)
def test_a_segmented_training_step_trains_the_loops_parameters(monkeypatch, estimator):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 6)).astype(np.float32)
    group = rng.integers(0, 3, 80)
    y = (X[:, 0] + group > 0.5).astype(int)
    net = estimator.set_params(
        max_epochs=1, random_state=0, module__hidden_sizes=(9, 7),
        optimizer=torch.optim.SGD, lr=0.5,
    )  # fmt: skip
    net.fit(X, y, sensitive_features=group)
    looped = copy.deepcopy(net)
    forwards = []
    segmented_forward = segments_module.segmented_forward
    monkeypatch.setattr(
        segments_module,
        "segmented_forward",
        lambda *a: forwards.append(1) or segmented_forward(*a),
    )
    monkeypatch.setattr(forward_module, "segmented_forward", segments_module.segmented_forward)
    net.train_step(_step_input())
    assert forwards == [1]  # one forward of the batch
    monkeypatch.setattr(segments_module, "SEGMENTED_MODULES", ())
    looped.train_step(_step_input())
    for (name, a), b in zip(looped.module_.named_parameters(), net.module_.parameters()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=name)


CUDA = pytest.param(
    "cuda",
    marks=[pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU")],
)


@pytest.mark.parametrize("device", ["cpu", CUDA])
@pytest.mark.parametrize("equal", [True, False], ids=["equal-cells", "unequal-cells"])
@pytest.mark.parametrize("momentum", [0.1, None], ids=["momentum", "cumulative"])
def test_batch_norm_cells_get_their_own_statistics_in_one_forward(equal, momentum, device):
    """cell_gradients='segments' on a batch-norm CNN: the loop's logits, per-cell gradients
    (first and second order) and running statistics (on a GPU too: its batch-norm kernels
    and the closed-form double backward of skfairnn._cell_norm)."""
    torch.manual_seed(0)
    net = _BatchNormNet(momentum).double().train().to(device)
    _, y, group, weight = _columns(2, n=30, seed=2, equal=equal)
    X = torch.randn(len(y), 2, 9, 9, dtype=torch.double)
    batch = FairBatch(*(t.to(device) for t in (X, y.double(), group, weight.double())), 2)
    nets = {"loop": net, "segments": copy.deepcopy(net)}
    forwards, grads = {}, {}
    for mode, module in nets.items():
        forwards[mode] = forward_by_cell(
            lambda rows, m=module: as_logits(m(rows), m), batch, "equalized_odds", module, mode
        )
        params = list(module.parameters())
        _, _, grads[mode] = _per_cell_gradients(forwards[mode], batch, "equalized_odds", params)
    assert forwards["segments"].cells.segments is not None
    assert forwards["loop"].cells.segments is None
    torch.testing.assert_close(forwards["segments"].logits, forwards["loop"].logits)
    for loop_stack, stack in zip(grads["loop"], grads["segments"]):
        torch.testing.assert_close(stack, loop_stack, rtol=1e-9, atol=1e-12)
    for a, b in zip(nets["loop"].buffers(), nets["segments"].buffers()):
        torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12)  # one update per cell
    totals = {mode: sum(g.abs().sum() for g in grads[mode]) for mode in grads}
    expected = torch.autograd.grad(totals["loop"], list(nets["loop"].parameters()))
    got = torch.autograd.grad(totals["segments"], list(nets["segments"].parameters()))
    for a, b in zip(expected, got):
        torch.testing.assert_close(b, a, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("equal", [True, False], ids=["equal-cells", "unequal-cells"])
def test_batch_norm_in_eval_mode_uses_running_statistics(equal):
    torch.manual_seed(0)
    net = _BatchNormNet().double()
    net(torch.randn(16, 2, 9, 9, dtype=torch.double))  # running statistics other than 0 and 1
    net.eval()
    _, y, group, weight = _columns(2, equal=equal)
    X = torch.randn(len(y), 2, 9, 9, dtype=torch.double)
    batch = FairBatch(X, y.double(), group, weight.double(), 2)
    grads = {}
    for mode in ("segments", "loop"):
        forward = forward_by_cell(lambda r: as_logits(net(r), net), batch, "equalized_odds", net,
                                  mode)  # fmt: skip
        torch.testing.assert_close(forward.logits, as_logits(net(X), net))
        params = list(net.parameters())
        _, _, grads[mode] = _per_cell_gradients(forward, batch, "equalized_odds", params)
    for loop_stack, stack in zip(grads["loop"], grads["segments"]):  # affine copies per cell
        torch.testing.assert_close(stack, loop_stack, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("mode", ["segments", "loop"])
def test_batch_norm_of_one_row_cells_is_refused_as_by_batch_norm(mode):
    """A cell of one row has no batch statistics: the loop's F.batch_norm and the
    segments both raise its ValueError (no silent zeros)."""
    net = nn.Sequential(nn.Linear(6, 3), nn.BatchNorm1d(3), nn.Linear(3, 1)).train()
    group, y = torch.tensor([0, 1, 0, 1]), torch.tensor([0, 0, 1, 1])
    batch = FairBatch(torch.randn(4, 6), y.float(), group, torch.ones(4), 2)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        forward_by_cell(lambda r: as_logits(net(r), net), batch, "equalized_odds", net, mode)


def test_segments_reject_what_they_cannot_take_apart():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(6, 6)
            self.out = nn.Linear(6, 1)

        def forward(self, x):
            return self.out(self.layer(self.layer(x)))

    X, y, group, weight = _columns(2)
    batch = FairBatch(X, y.float(), group, weight, 2)
    cases = [
        (nn.Sequential(nn.Linear(6, 4), nn.LayerNorm(4), nn.Linear(4, 1)), "LayerNorm"),
        (nn.Sequential(nn.Unflatten(1, (1, 6)), nn.Conv1d(1, 1, 3, padding=1,
                       padding_mode="reflect"), nn.Flatten(), nn.Linear(6, 1)), "padding_mode"),
        (Twice(), "called once"),
    ]  # fmt: skip
    for module, match in cases:
        with pytest.raises(ValueError, match=match):
            forward_by_cell(lambda r, m=module: as_logits(m(r), m), batch, "equalized_odds",
                            module, "segments")  # fmt: skip


@pytest.mark.filterwarnings("ignore::skfairnn.exceptions.CollapseWarning")
@pytest.mark.parametrize(
    "estimator",
    [
        GCMClassifier(_BatchNormNet, temperature=2.0, penalized_params="all"),
        FairerClassifier(_BatchNormNet, constraint="equalized_odds", alignment_weight=1.0),
    ],
    ids=["gcm", "fairer"],
)
def test_segments_train_a_batch_norm_network_as_the_loop_does(estimator, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2, 9, 9)).astype(np.float32)
    group = rng.integers(0, 2, 64)
    y = (X[:, 0].mean((1, 2)) + group > 0.5).astype(int)
    fits, forwards = {}, []
    segmented_forward = segments_module.segmented_forward
    monkeypatch.setattr(
        forward_module, "segmented_forward", lambda *a: forwards.append(1) or segmented_forward(*a)
    )
    for mode in ("loop", "segments"):
        fits[mode] = clone(estimator).set_params(
            max_epochs=2, random_state=0, batch_size=16, cell_gradients=mode,
            optimizer=torch.optim.SGD, lr=0.1,
        ).fit(X, y, sensitive_features=group)  # fmt: skip
    assert len(forwards) == 8  # the segments fit: 2 epochs of 4 batches, one forward each
    state = {mode: fit.module_.state_dict() for mode, fit in fits.items()}
    for name, value in state["loop"].items():
        torch.testing.assert_close(state["segments"][name], value, rtol=1e-4, atol=1e-5, msg=name)


def _loop_updates(bn, means, variances, scale):
    """What the per-cell loop's batch norm does: one running update per cell, in order."""
    with torch.no_grad():
        for mean, variance in zip(means, variances):
            bn.num_batches_tracked += 1
            m = 1.0 / float(bn.num_batches_tracked) if bn.momentum is None else bn.momentum
            bn.running_mean.mul_(1 - m).add_(m * mean)
            bn.running_var.mul_(1 - m).add_(m * scale * variance)


def test_running_stat_updates_applied_together_equal_one_update_per_layer():
    """Layers of mixed momenta (one cumulative), widths and corrections, variances given
    as such or as inverse standard deviations: the deferred, grouped updates equal each
    layer's own per-cell updates, counters included."""
    torch.manual_seed(0)
    layers = [nn.BatchNorm2d(3, momentum=0.1), nn.BatchNorm1d(5, momentum=0.3),
              nn.BatchNorm2d(4, momentum=0.1), nn.BatchNorm2d(2, momentum=None),
              nn.BatchNorm2d(3, momentum=0.1, eps=1e-3)]  # fmt: skip
    stats = [(torch.randn(3, bn.num_features).double(), torch.rand(3, bn.num_features).double(),
              1.0 + i / 7) for i, bn in enumerate(layers)]  # fmt: skip
    separate = [copy.deepcopy(bn).double() for bn in layers]
    together = [copy.deepcopy(bn).double() for bn in layers]
    for bn in separate + together:  # running statistics other than 0 and 1
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)
    for b, a in zip(together, separate):
        b.load_state_dict(a.state_dict())
    updates = segments_module.RunningStatUpdates()
    for bn, (means, variances, scale) in zip(separate, stats):
        _loop_updates(bn, means, variances, scale)
    for i, (bn, (means, variances, scale)) in enumerate(zip(together, stats)):
        if i % 2 or bn.eps != 1e-5:  # as batch norm's kernels return them: (var + eps)^-1/2
            invstd = (variances + bn.eps).rsqrt()
            updates.add(bn, means, invstd, scale, from_invstd=True)
        else:
            updates.add(bn, means, variances, scale)
    assert together[0].num_batches_tracked == 0  # nothing until applied
    updates.apply()
    updates.apply()  # applied once: the record is emptied
    for a, b in zip(separate, together):
        for name, value in a.state_dict().items():
            torch.testing.assert_close(b.state_dict()[name], value, rtol=1e-12, atol=1e-12)
