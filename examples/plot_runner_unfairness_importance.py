# SPDX-License-Identifier: BSD-3-Clause
"""
=====================================================
RUNNER: which neurons carry the unfairness?
=====================================================

RUNNER scores every hidden neuron by its *unfairness importance* — how much
the demographic-parity gap of the network's probabilities changes when the
neuron's weights move (a squared first-order Taylor term) — and, during
training, adds a penalty on the gap restricted to the most important
neurons. This example trains plain ERM and
:class:`~skfairnn.RunnerClassifier` with the same architecture, compares the
distribution of :func:`~skfairnn.diagnostics.neuron_unfairness_importance`,
and draws RUNNER's Fig. 3 with
:func:`~skfairnn.diagnostics.plot_neuron_discrimination_buckets`: the
neurons sorted by importance and split into quintiles, with the mean
discrimination of each quintile.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from skfairnn import ERMClassifier, RunnerClassifier
from skfairnn.datasets import make_biased_classification
from skfairnn.diagnostics import (
    neuron_unfairness_importance,
    plot_neuron_discrimination_buckets,
)
from skfairnn.metrics import demographic_parity_difference

QUICK = os.environ.get("SKFAIRNN_EXAMPLES_QUICK") == "1"

# %%
# Data whose groups have different base rates (a distribution shift).
X, y, A = make_biased_classification(
    n_samples=2000 if QUICK else 6000, bias="distribution_shift", random_state=0
)
X = X.astype("float32")
X_train, X_test, y_train, y_test, A_train, A_test = train_test_split(
    X, y, A, test_size=0.3, random_state=0, stratify=A
)

# %%
# Two hidden layers of 32 neurons; RUNNER penalises the gap of the top 10 %
# of each layer's neurons.
common = dict(
    max_epochs=15 if QUICK else 40,
    batch_size=128,
    lr=0.01,
    module__hidden_sizes=(32, 32),
    random_state=0,
    verbose=0,
)
erm = ERMClassifier(**common).fit(X_train, y_train, sensitive_features=A_train)
runner = RunnerClassifier(fairness_weight=1.0, top_k=0.1, **common).fit(
    X_train, y_train, sensitive_features=A_train
)
for name, net in (("ERM", erm), ("RUNNER", runner)):
    pred = net.predict(X_test)
    gap = demographic_parity_difference(y_test, pred, sensitive_features=A_test)
    print(f"{name}: test accuracy {(pred == y_test).mean():.3f}, ΔDP {gap:.3f}")

# %%
# Unfairness importance of every neuron on the test rows, largest first. A few
# neurons carry most of the gap's sensitivity; RUNNER shrinks them.
figure, panels = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
for name, net in (("ERM", erm), ("RUNNER", runner)):
    scores = neuron_unfairness_importance(net, X_test, y_test, A_test)
    for axes, (layer, ui) in zip(panels, scores.items()):
        axes.plot(np.sort(ui)[::-1], "o-", markersize=3, label=name)
        axes.set_title(f"layer {layer}")
        axes.set_xlabel("neuron (sorted by importance)")
panels[0].set_ylabel("unfairness importance UI")
panels[0].set_yscale("log")
panels[0].legend()
figure.tight_layout()
plt.show()

# %%
# Mean neuron discrimination per importance quintile (RUNNER Fig. 3): the most
# important neurons are also the most discriminating ones, and less so after
# RUNNER's training.
figure = plt.figure(figsize=(8, 3.4), layout="constrained")
plot_neuron_discrimination_buckets(
    erm, runner, X_test, y_test, A_test, labels=("ERM", "RUNNER"), figure=figure
)
plt.show()
