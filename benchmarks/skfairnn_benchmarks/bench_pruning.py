# SPDX-License-Identifier: BSD-3-Clause
"""Scale benchmark: fairness influence scores on 200,000 rows × 460 features.

Scores every row of a synthetic data set with an MLP 200-200 (Eq. 35, whole-data
aggregate through one gradient + one JVP per chunk), and reports wall time, peak
resident memory and the ratio to one ERM training epoch over the same rows.

Run (quiet machine, 2 threads)::

    OMP_NUM_THREADS=2 nice -n 10 python -m skfairnn_benchmarks.bench_pruning --threads 2
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import torch

from skfairnn import ERMClassifier, FairRegClassifier
from skfairnn.diagnostics import fairness_influence_scores


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=460)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--constraint", default="demographic_parity")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.n, args.features)).astype(np.float32)
    A = (rng.random(args.n) < 0.35).astype(np.int64)
    X[:, 0] += A
    y = (X[:, 0] + X[:, 1] + rng.normal(size=args.n) > 0.3).astype(np.int64)
    rss_data = _peak_rss_gb()

    common = dict(module__hidden_sizes=(200, 200), batch_size=256, random_state=0)
    net = FairRegClassifier(constraint="demographic_parity", max_epochs=1, **common)
    net.fit(X[:5000], y[:5000], sensitive_features=A[:5000])

    start = time.perf_counter()
    scores = fairness_influence_scores(
        net, X, y, A, constraint=args.constraint, batch_size=args.batch_size
    )
    score_s = time.perf_counter() - start
    rss_score = _peak_rss_gb()

    start = time.perf_counter()
    ERMClassifier(max_epochs=1, **common).fit(X, y)
    erm_epoch_s = time.perf_counter() - start

    result = {
        "n": args.n,
        "features": args.features,
        "threads": args.threads,
        "params": sum(p.numel() for p in net.module_.parameters()),
        "score_seconds": round(score_s, 2),
        "erm_epoch_seconds": round(erm_epoch_s, 2),
        "score_over_erm_epoch": round(score_s / erm_epoch_s, 3),
        "peak_rss_gb_after_data": round(rss_data, 3),
        "peak_rss_gb_after_scoring": round(rss_score, 3),
        "peak_rss_gb_total": round(_peak_rss_gb(), 3),
        "finite": bool(np.isfinite(scores).all()),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
