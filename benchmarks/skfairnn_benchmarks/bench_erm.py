# SPDX-License-Identifier: BSD-3-Clause
"""Epoch time of ERMClassifier vs a hand-written torch loop, and FairReg vs ERM.

Same data (Fair Mixup Adult, 27k × 120), model (MLP 120-200-200-1), optimiser
(Adam, lr 1e-3) and batches (random batches of --batch-size rows,
--batches-per-epoch per epoch), eagerly and with the compiled option
(``compile=True``: ``torch.compile`` of the module, criterion and FairReg's
gap; plus fused Adam on CUDA). Prints median epoch times per variant and the
ratios issue 14 asks for (ERM / hand loop ≤ 1.1, FairReg / ERM ≤ 1.2 with
the compiled option on).

The hand loop does the bookkeeping skorch does per batch, so the ratio
measures skfairnn's and skorch's overhead, not a different job: the training
tensors live on the device, row-major (as ``FairDataset`` keeps them below 2 GiB), the
batch's row indices are drawn on the CPU and copied to the device, the rows
of X, y and the sample weights are gathered there, y is cast to float, the
loss is the row-weighted mean of ``BCEWithLogitsLoss(reduction="none")``, the
gradients are reset to ``None``, and ``loss.item()`` is read every batch. It
compiles its model and criterion as the variant does. What it does not do is
skfairnn's per-epoch decision rule (a forward of 20k training rows, the
offset and AUC), which the ERM and FairReg epochs include.

    python -m skfairnn_benchmarks.bench_erm [--device cuda] [--epochs 6] \
        [--variants eager compiled cudagraphs graphed]

``graphed`` is skfairnn's own ``cuda_graphs=True`` (the step captured in a
CUDA graph, fused Adam outside it); its hand loop captures its forward and
backward the same way (PyTorch's recipe: static batch tensors, a warm-up on
a side stream, one capture, a copy and a replay per batch).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from skorch.callbacks import Callback

from skfairnn import ERMClassifier, FairRegClassifier
from skfairnn.benchmarks import load_protocol_data
from skfairnn.modules import MLP

HIDDEN = (200, 200)
#: skorch parameters of each variant (``optimizer__fused`` is added on CUDA)
VARIANTS = {
    "eager": {},
    "compiled": {"compile": True},
    "cudagraphs": {"compile": True, "compile__mode": "reduce-overhead"},
    "graphed": {"cuda_graphs": True},
}


class EpochClock(Callback):
    """Wall time of each training epoch, and of its batches alone.

    ``epoch_seconds`` includes the epoch-end callbacks (the decision rule);
    ``batch_seconds`` ends at the last batch's end, after skorch's
    ``loss.item()`` has synchronised with the device.
    """

    def on_epoch_begin(self, net, **kwargs):
        if str(net.device).startswith("cuda"):
            torch.cuda.synchronize()
        self.start_ = self.last_batch_ = time.perf_counter()

    def on_batch_end(self, net, **kwargs):
        self.last_batch_ = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        if str(net.device).startswith("cuda"):
            torch.cuda.synchronize()
        net.history.record("epoch_seconds", time.perf_counter() - self.start_)
        net.history.record("batch_seconds", self.last_batch_ - self.start_)


def variant_params(variant: str, device: str) -> dict:
    """The skorch parameters of ``variant`` on ``device``."""
    params = dict(VARIANTS[variant])
    if variant != "eager" and device.startswith("cuda"):
        params["optimizer__fused"] = True
    return params


def hand_loop(X, y, *, batch_size, batches, epochs, device, params, seed=0):
    """Epoch times of a hand-written loop with skorch's per-batch bookkeeping.

    ``params`` are a variant's skorch parameters; the loop compiles its model
    and criterion with the same ``compile__*`` arguments and builds Adam with
    the same ``optimizer__*`` ones.
    """
    torch.manual_seed(seed)
    model = MLP(X.shape[1], hidden_sizes=HIDDEN).to(device)
    criterion = torch.nn.BCEWithLogitsLoss(reduction="none")
    optimizer_kwargs = {k.split("__", 1)[1]: v for k, v in params.items() if "optimizer__" in k}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **optimizer_kwargs)
    if params.get("compile"):
        compile_kwargs = {k.split("__", 1)[1]: v for k, v in params.items() if "compile__" in k}
        model = torch.compile(model, **compile_kwargs)
        criterion = torch.compile(criterion, **compile_kwargs)
    Xt = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32)).to(device)  # as fit packs it
    yt = torch.as_tensor(y, dtype=torch.int64).to(device)
    wt = torch.ones(len(X), dtype=torch.float32, device=device)
    generator = torch.Generator().manual_seed(seed)
    step = _graphed_step if params.get("cuda_graphs") else _eager_step
    run = step(model, criterion, optimizer, Xt[:batch_size], yt[:batch_size], wt[:batch_size])
    times = []
    for _ in range(epochs):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        done = 0
        while done < batches:
            order = torch.randperm(len(Xt), generator=generator)
            for begin in range(0, len(Xt), batch_size):
                if done == batches:
                    break
                index = order[begin : begin + batch_size].to(device)
                loss = run(Xt[index], yt[index], wt[index])
                optimizer.step()
                loss.item()  # skorch records the loss every batch: the same sync
                done += 1
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def _eager_step(model, criterion, optimizer, *example):
    """The hand loop's forward and backward of one batch (``run(X, y, w) -> loss``)."""

    def run(xb, yb, wb):
        optimizer.zero_grad(set_to_none=True)
        loss = (criterion(model(xb), yb.to(torch.float32)) * wb).mean()
        loss.backward()
        return loss

    return run


def _graphed_step(model, criterion, optimizer, *example):
    """:func:`_eager_step` captured in a CUDA graph on static copies of ``example``."""
    static = [tensor.clone() for tensor in example]
    eager = _eager_step(model, criterion, optimizer)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(2):
            eager(*static)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):  # its zero_grad only sets .grad to None, on the host
        loss = eager(*static)
    grads = [(param, param.grad) for param in model.parameters()]

    def run(xb, yb, wb):
        if len(xb) != len(static[0]):  # a shorter batch: eager
            return eager(xb, yb, wb)
        for target, source in zip(static, (xb, yb, wb)):
            target.copy_(source, non_blocking=True)
        graph.replay()
        for param, grad in grads:  # an eager batch may have reset them
            param.grad = grad
        return loss

    return run


def net_epochs(cls, X, y, A, **params):
    """``(epoch seconds, batch seconds)`` of each epoch of a ``cls`` fit."""
    clf = cls(callbacks=[("clock", EpochClock())], **params)
    clf.fit(X, y, sensitive_features=A)
    return list(clf.history[:, "epoch_seconds"]), list(clf.history[:, "batch_seconds"])


def _median(times, skip):
    """Median epoch time without the first ``skip`` epochs (warm-up, compiling)."""
    return statistics.median(times[skip:] if len(times) > skip else times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--batches-per-epoch", type=int, default=50)
    parser.add_argument(
        "--variants", nargs="+", choices=sorted(VARIANTS), default=["eager", "compiled"]
    )
    parser.add_argument("--repeats", type=int, default=1, help="alternating runs of the three")
    args = parser.parse_args(argv)
    data = load_protocol_data("adult", seed=0)
    X, y, A = data.X_train, data.y_train, data.a_train
    print(
        f"device {args.device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"{len(X)} rows x {X.shape[1]} features, MLP {HIDDEN}, batch {args.batch_size}, "
        f"{args.batches_per_epoch} batches/epoch, {args.epochs} epochs (median of the last "
        f"{args.epochs - 2})",
        flush=True,
    )
    results = {}
    for variant in args.variants:
        params = variant_params(variant, args.device)
        common = dict(
            batch_size=args.batch_size,
            batches_per_epoch=args.batches_per_epoch,
            max_epochs=args.epochs,
            device=args.device,
            random_state=0,
            module__hidden_sizes=HIDDEN,
            sampling="random",
            **params,
        )
        runs = {"hand loop": [], "ERMClassifier": [], "FairRegClassifier": []}
        batches_only = {"ERMClassifier": [], "FairRegClassifier": []}
        for _ in range(args.repeats):
            hand = hand_loop(
                X,
                y,
                batch_size=args.batch_size,
                batches=args.batches_per_epoch,
                epochs=args.epochs,
                device=args.device,
                params=params,
            )
            runs["hand loop"].append(_median(hand, 2))
            print(f"  ({variant}: hand loop {runs['hand loop'][-1] * 1000:.1f} ms)", flush=True)
            for cls, extra in (
                (ERMClassifier, {}),
                (FairRegClassifier, {"fairness_weight": 1.0, "constraint": "equalized_odds"}),
            ):
                epochs, batches = net_epochs(cls, X, y, A, **common, **extra)
                runs[cls.__name__].append(_median(epochs, 2))
                batches_only[cls.__name__].append(_median(batches, 2))
                print(f"  ({variant}: {cls.__name__} {runs[cls.__name__][-1] * 1000:.1f} ms)",
                      flush=True)  # fmt: skip
        med = {name: statistics.median(values) for name, values in runs.items()}
        results[variant] = med
        print(f"{variant} ({params or 'defaults'}):")
        for name, seconds in med.items():
            line = f"  {name:18s} {seconds * 1000:8.1f} ms/epoch"
            if name in batches_only:
                line += f"  ({statistics.median(batches_only[name]) * 1000:.1f} in its batches)"
            print(line)
        print(f"  ERM / hand loop     {med['ERMClassifier'] / med['hand loop']:.2f}x")
        print(f"  FairReg / ERM       {med['FairRegClassifier'] / med['ERMClassifier']:.2f}x")
        print(flush=True)
    return results


if __name__ == "__main__":
    main()
