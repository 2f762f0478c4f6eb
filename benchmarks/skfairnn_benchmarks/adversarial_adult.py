# SPDX-License-Identifier: BSD-3-Clause
"""Adversarial debiasing vs ERM on Adult with the Fair Mixup protocol.

Fits ERM and ``AdversarialClassifier`` for each ``--weights`` value on the
Fair Mixup Adult splits (seed ``s`` = split ``s``), selects the epoch with the
minimum validation gap (:func:`skfairnn.benchmarks.evaluate`) and prints test
AP, accuracy, ΔEO (ΔTPR + ΔFPR), ΔDP and the rate of positive predictions
(a collapse to one class shows as 0 or 1), mean ± std over seeds, plus the
ratio of each method's gap to ERM's.

    nice -n 10 python -m skfairnn_benchmarks.adversarial_adult --seeds 3 --weights 0.1 0.3 1
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from skorch.callbacks import Callback

from skfairnn import AdversarialClassifier, ERMClassifier
from skfairnn.benchmarks import evaluate, load_protocol_data, paper_training


class PositiveRate(Callback):
    """Record the test split's rate of positive predictions after every epoch.

    ``evaluate`` clones the estimator, so the rates also go to the class-level
    ``log`` (one list per fit), where the script reads them back.
    """

    log: list = []

    def __init__(self, X_test):
        self.X_test = X_test

    def on_train_begin(self, net, **kwargs):
        PositiveRate.log.append([])

    def on_epoch_end(self, net, **kwargs):
        PositiveRate.log[-1].append(float(net.predict(self.X_test).mean()))


def run(name, estimator, data, constraint):
    start = time.perf_counter()
    result = evaluate(estimator, data, constraint=constraint, selection="hard")
    result["pos_rate"] = PositiveRate.log[-1][result["epoch"]]
    print(
        f"  {name:>14}: AP {result['ap']:.3f} ACC {result['acc']:.3f} EO {result['eo']:.3f} "
        f"DP {result['dp']:.3f} pos {result['pos_rate']:.3f} epoch {result['epoch']} "
        f"({time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    return {"method": name, **result}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--weights", type=float, nargs="+", default=[0.1, 0.3, 1.0])
    parser.add_argument("--constraint", default="equalized_odds")
    parser.add_argument("--sampling", default="random")
    parser.add_argument("--adversary-lr", type=float, default=None)
    parser.add_argument("--adversary-hidden", type=int, nargs="*", default=[16])
    parser.add_argument("--no-projection", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    rows = []
    for seed in range(args.seeds):
        data = load_protocol_data("adult", seed=seed)
        print(f"seed {seed}", flush=True)
        callbacks = [("positive_rate", PositiveRate(data.X_test))]
        train = paper_training(args.constraint, seed, args.quick, callbacks=callbacks)
        erm = ERMClassifier(sampling="random", **train)
        rows.append({"seed": seed, **run("erm", erm, data, args.constraint)})
        for weight in args.weights:
            adversarial = AdversarialClassifier(
                fairness_weight=weight,
                constraint=args.constraint,
                sampling=args.sampling,
                adversary_lr=args.adversary_lr,
                adversary__hidden_sizes=tuple(args.adversary_hidden),
                projection=not args.no_projection,
                **train,
            )
            name = f"adv α={weight:g}"
            rows.append({"seed": seed, **run(name, adversarial, data, args.constraint)})

    results = pd.DataFrame(rows)
    columns = ["ap", "acc", "eo", "dp", "pos_rate"]
    grouped = results.groupby("method", sort=False)[columns]
    mean, std = grouped.mean(), grouped.std(ddof=0)
    table = pd.DataFrame(
        {c: [f"{m:.3f} ± {s:.3f}" for m, s in zip(mean[c], std[c])] for c in columns},
        index=mean.index,
    )
    gap = "eo" if args.constraint != "demographic_parity" else "dp"
    table[f"{gap}/erm"] = np.round(mean[gap] / mean.loc["erm", gap], 3)
    table["ap-erm"] = np.round(mean["ap"] - mean.loc["erm", "ap"], 3)
    print(table.to_string())


if __name__ == "__main__":
    main()
