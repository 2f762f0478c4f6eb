# SPDX-License-Identifier: BSD-3-Clause
"""App. C.3 check of the pruning paper: first-order influence (Eq. 11) vs the actual change.

The protocol is :func:`skfairnn_benchmarks.pruning.first_order_check`
(also ``skfairnn reproduce pruning-first-order``). Prints the Pearson
correlation over ``--pairs`` random (train, test) pairs for several step sizes.

Run::

    OMP_NUM_THREADS=2 nice -n 10 python -m skfairnn_benchmarks.c3_first_order --seed 0
"""

from __future__ import annotations

import argparse
import json

import torch

from .pruning import first_order_check


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--data-home", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    result = first_order_check(
        args.seed, pairs=args.pairs, epochs=args.epochs, data_home=args.data_home
    )
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
