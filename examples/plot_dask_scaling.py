# SPDX-License-Identifier: BSD-3-Clause
"""
=====================================================
Scaling out with Dask
=====================================================

:func:`~skfairnn.benchmarks.compare` runs its (method, seed) pairs through
:func:`joblib.Parallel`, so any joblib backend spreads them out. With
Dask's ``distributed`` installed, a :class:`~distributed.LocalCluster`
(or a client of a real cluster) and ``joblib.parallel_config(backend="dask")``
are all it takes; the rows come back in the sequential order with the same
numbers. Here a local cluster of two single-threaded worker processes runs a
small comparison. Without ``distributed`` the example says so and stops.
Worker processes are started with ``spawn``, which re-imports the script:
as a script, keep the cluster under ``if __name__ == "__main__":``.
"""

# %%
import os

import matplotlib.pyplot as plt

from skfairnn.benchmarks import compare, plot_pareto, summarize

QUICK = os.environ.get("SKFAIRNN_EXAMPLES_QUICK") == "1"
try:
    from distributed import Client, LocalCluster
except ImportError:  # pragma: no cover - optional dependency
    Client = None
    print("distributed is not installed: pip install 'dask[distributed]' to run this example")

# %%
# Two worker processes, one thread each; every run pins torch to one thread.
if Client is not None and __name__ == "__main__":
    import joblib

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        print(client)
        with joblib.parallel_config(backend="dask"):
            results = compare(
                "adult",
                ["erm", "fairreg"],
                constraint="equalized_odds",
                seeds=1 if QUICK else 5,
                quick=QUICK,
                torch_threads=1,
            )
    print(summarize(results).to_string())

# %%
# The runs' trade-off, as in the comparison example.
if Client is not None and __name__ == "__main__":
    figure = plt.figure(figsize=(10, 4.2))
    plot_pareto(results, gap="eo", title="Adult on a 2-process Dask cluster", figure=figure)
    plt.show()
