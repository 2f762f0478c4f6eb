# SPDX-License-Identifier: BSD-3-Clause
"""RUNNER Fig. 3: neuron discrimination by unfairness-importance quintile, ERM vs RUNNER, Adult.

Trains ERM and RUNNER with the papers' Adult loop on split 0 and draws, per
hidden layer, the mean neuron discrimination (Eq. 11) of each fifth of the
neurons ranked by unfairness importance (Eq. 6), on the test split.

Usage::

    python -m skfairnn_benchmarks.plot_runner_buckets --constraint demographic_parity \
        --out fig3_dp.png
"""

from __future__ import annotations

import argparse

from skfairnn.benchmarks import load_protocol_data
from skfairnn.diagnostics import (
    neuron_discrimination_buckets,
    plot_neuron_discrimination_buckets,
)

from .reproduce_runner import make_estimator


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--constraint", default="demographic_parity")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="runner_fig3.png")
    args = parser.parse_args(argv)
    data = load_protocol_data("adult", seed=args.seed)
    nets = []
    for method in ("erm", "runner"):
        net = make_estimator(method, "adult", args.constraint, args.seed, args.quick)
        nets.append(net.fit(data.X_train, data.y_train, sensitive_features=data.a_train))
    test = (data.X_test, data.y_test, data.a_test)
    for name, net in zip(("erm", "runner"), nets):
        buckets = neuron_discrimination_buckets(net, *test, constraint=args.constraint)
        print(name, {layer: values.round(4).tolist() for layer, values in buckets.items()})
    figure = plot_neuron_discrimination_buckets(
        *nets, *test, constraint=args.constraint, labels=("ERM (unfair)", "RUNNER (fair)")
    )
    figure.savefig(args.out, dpi=120)
    print("saved", args.out)


if __name__ == "__main__":
    main()
