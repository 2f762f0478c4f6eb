# SPDX-License-Identifier: BSD-3-Clause
"""skfairnn's paper studies and benchmark scripts (the ``skfairnn-benchmarks`` project).

Not part of the installed ``skfairnn``; install beside it from a checkout with
``pip install ./benchmarks``. ``skfairnn reproduce`` finds the studies here
through its registry of specs (:data:`skfairnn.benchmarks.REPRODUCTIONS`
names each one as ``"skfairnn_benchmarks.<module>:<function>"``), so that
joblib and Dask workers import them from this installed package. Importing
this package imports none of its modules.

Studies (importable library code, module-level functions only):

* :mod:`~skfairnn_benchmarks.fairif` — FairIF Table 4 and Table 1 with §6.4;
* :mod:`~skfairnn_benchmarks.pruning` — the pruning paper's §6.2 / Fig. 2 and
  App. C.3, on :mod:`~skfairnn_benchmarks.balanced_adult`;
* :mod:`~skfairnn_benchmarks.robustness` — every estimator at its defaults
  through ``predict()``, against fairlearn's references.

Entry points, each ``python -m skfairnn_benchmarks.<name> --help``:
``run_robustness``, ``reproduce_runner``, ``reproduce_fairif_tabular``,
``reproduce_fairif_digits``, ``reproduce_colored_digits``, ``adult_pruning``,
``c3_first_order``, ``adversarial_adult``, ``plot_runner_buckets`` (results),
and ``bench_erm``, ``bench_gradient_methods``, ``bench_runner``,
``bench_fairif``, ``bench_pruning`` (timings, as ratios against
``ERMClassifier``).
"""
