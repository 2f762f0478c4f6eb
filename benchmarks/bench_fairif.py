# SPDX-License-Identifier: BSD-3-Clause
"""Time and memory of ``FairIFReweighter.fit`` against an ``ERMClassifier`` fit.

Synthetic data (default 200,000 rows × 460 features, a group-dependent label
shift), an MLP with the ERM settings shared by both fits. FairIF's fit
includes its stage one (an ERM fit on the training rows) plus the influence
computation (LiSSA with two right-hand sides, one streamed JVP pass). The
sensitive feature is known on 20% of the rows (FairIF's validation set) and
missing elsewhere. Reports wall-clock seconds, the ratio, and the growth of
the process's peak resident memory during each fit.

Run::

    nice -n 10 python benchmarks/bench_fairif.py            # full size
    nice -n 10 python benchmarks/bench_fairif.py --quick    # 20,000 rows
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skfairnn import ERMClassifier, FairIFReweighter  # noqa: E402


def make_data(n_rows: int, n_features: int, seed: int = 0):
    """Float32 features, a binary group and a label whose threshold depends on it."""
    rng = np.random.default_rng(seed)
    group = (rng.random(n_rows) < 0.3).astype(np.int64)
    X = rng.normal(size=(n_rows, n_features)).astype(np.float32)
    X[:, 1] += group
    score = X[:, :10].sum(1) / np.sqrt(10) + 0.8 * group + rng.normal(scale=0.7, size=n_rows)
    y = (score > 0.4).astype(np.int64)
    known = rng.random(n_rows) < 0.2
    sensitive = np.where(known, group, None).astype(object)
    return X, y, sensitive


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn):
    start, rss = time.perf_counter(), peak_rss_mb()
    fn()
    return time.perf_counter() - start, peak_rss_mb() - rss


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=460)
    parser.add_argument("--hidden", type=int, nargs="*", default=[200, 200])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="20,000 rows")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = 20_000 if args.quick else args.rows
    X, y, sensitive = make_data(rows, args.features)
    settings = dict(
        module__hidden_sizes=tuple(args.hidden),
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        random_state=0,
    )
    erm_time, erm_mem = timed(lambda: ERMClassifier(**settings).fit(X, y))
    weighter = FairIFReweighter(ERMClassifier(**settings), random_state=0)
    fairif_time, fairif_mem = timed(lambda: weighter.fit(X, y, sensitive_features=sensitive))
    result = {
        "rows": rows,
        "features": args.features,
        "hidden": args.hidden,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "erm_fit_s": round(erm_time, 2),
        "fairif_fit_s": round(fairif_time, 2),
        "ratio": round(fairif_time / erm_time, 3),
        "erm_peak_rss_growth_mb": round(erm_mem, 1),
        "fairif_peak_rss_growth_mb": round(fairif_mem, 1),
        "data_mb": round(X.nbytes / 2**20, 1),
        "validation_gaps": weighter.validation_gaps_.round(4).tolist(),
        "predicted_gaps": weighter.predicted_gaps_.round(4).tolist(),
    }
    print(json.dumps(result, indent=2))
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
