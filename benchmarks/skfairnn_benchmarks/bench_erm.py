# SPDX-License-Identifier: BSD-3-Clause
"""Epoch time of ERMClassifier vs a hand-written torch loop, and FairReg vs ERM.

Same data (Fair Mixup Adult, 27k × 120), model (MLP 120-200-200-1), optimiser
(Adam, lr 1e-3) and batches (random batches of --batch-size rows,
--batches-per-epoch per epoch). Prints median epoch times over --epochs epochs
and the ratios the foundation issue asks for (ERM / hand loop ≤ 1.3,
FairReg / ERM ≤ 1.3).

    python -m skfairnn_benchmarks.bench_erm [--device cuda] [--epochs 5]
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


class EpochClock(Callback):
    """Wall time of each training epoch (batches only, no validation)."""

    def on_epoch_begin(self, net, **kwargs):
        if str(net.device).startswith("cuda"):
            torch.cuda.synchronize()
        self.start_ = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        if str(net.device).startswith("cuda"):
            torch.cuda.synchronize()
        net.history.record("epoch_seconds", time.perf_counter() - self.start_)


def hand_loop(X, y, *, batch_size, batches, epochs, device, seed=0):
    torch.manual_seed(seed)
    model = MLP(X.shape[1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = torch.nn.BCEWithLogitsLoss()
    Xt, yt = torch.as_tensor(X, device=device), torch.as_tensor(y, device=device).float()
    generator = torch.Generator().manual_seed(seed)
    times = []
    for _ in range(epochs):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        done = 0
        while done < batches:
            order = torch.randperm(len(Xt), generator=generator).to(device)
            for begin in range(0, len(Xt), batch_size):
                if done == batches:
                    break
                index = order[begin : begin + batch_size]
                optimizer.zero_grad()
                loss = criterion(model(Xt[index]), yt[index])
                loss.backward()
                optimizer.step()
                loss.item()  # skorch records the loss every batch; match that sync
                done += 1
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def net_epochs(cls, X, y, A, **params):
    clf = cls(callbacks=[("clock", EpochClock())], **params)
    clf.fit(X, y, sensitive_features=A)
    return list(clf.history[:, "epoch_seconds"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--batches-per-epoch", type=int, default=50)
    args = parser.parse_args()
    data = load_protocol_data("adult", seed=0)
    X, y, A = data.X_train, data.y_train, data.a_train
    common = dict(
        batch_size=args.batch_size,
        batches_per_epoch=args.batches_per_epoch,
        max_epochs=args.epochs,
        device=args.device,
        random_state=0,
        module__hidden_sizes=(200, 200),
        sampling="random",
    )
    hand = hand_loop(
        X,
        y,
        batch_size=args.batch_size,
        batches=args.batches_per_epoch,
        epochs=args.epochs,
        device=args.device,
    )
    erm = net_epochs(ERMClassifier, X, y, A, **common)
    fairreg = net_epochs(
        FairRegClassifier, X, y, A, fairness_weight=1.0, constraint="equalized_odds", **common
    )
    # skip the first epoch (allocation / warm-up) in the medians
    med = {
        name: statistics.median(t[1:] if len(t) > 1 else t)
        for name, t in (("hand loop", hand), ("ERMClassifier", erm), ("FairRegClassifier", fairreg))
    }
    print(
        f"device {args.device}, torch threads {torch.get_num_threads()}, "
        f"{len(X)} rows x {X.shape[1]} features, batch {args.batch_size}, "
        f"{args.batches_per_epoch} batches/epoch"
    )
    for name, seconds in med.items():
        print(f"  {name:18s} {seconds * 1000:8.1f} ms/epoch")
    print(f"  ERM / hand loop     {med['ERMClassifier'] / med['hand loop']:.2f}x")
    print(f"  FairReg / ERM       {med['FairRegClassifier'] / med['ERMClassifier']:.2f}x")
    return np.array(list(med.values()))


if __name__ == "__main__":
    main()
