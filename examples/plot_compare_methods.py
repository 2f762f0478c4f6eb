# SPDX-License-Identifier: BSD-3-Clause
"""
==========================================
Comparing methods: the AP–ΔEO Pareto plot
==========================================

Which mitigation to deploy depends on how much accuracy a fairness gain costs.
This example runs the papers' Adult protocol (Fair Mixup preprocessing,
per-epoch validation, selection of the epoch with the smallest validation
gap) for vanilla training, oversampling, the relaxed-gap regulariser and any
other registered method, and plots average precision against the
equalized-odds gap. It is the Python form of ``skfairnn compare``.
"""

# %%
import os

import matplotlib.pyplot as plt

from skfairnn.benchmarks import METHODS, compare, plot_pareto, summarize

QUICK = os.environ.get("SKFAIRNN_EXAMPLES_QUICK") == "1"

methods = [m for m in ("erm", "oversample", "fairreg", "gcm_t2", "runner") if m in METHODS]
# One torch thread per run: these networks are small, and on a busy machine
# more threads than free cores slow training down many times over.
results = compare(
    "adult",
    methods,
    constraint="equalized_odds",
    seeds=1 if QUICK else 3,
    quick=QUICK,
    torch_threads=1,
)
print(summarize(results).to_string())

# %%
# Each point is a method (mean ± std over the seeds); ERM is the star. The
# dashed line is the Pareto frontier: the methods that no other method beats
# on both the gap and the score.
figure = plt.figure(figsize=(10, 4.2))
plot_pareto(results, gap="eo", title="Adult, equalized odds", figure=figure)
plt.show()
