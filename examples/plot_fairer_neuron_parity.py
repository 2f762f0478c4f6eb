# SPDX-License-Identifier: BSD-3-Clause
"""
=====================================================
FAIRER: neuron parity and rationale similarity
=====================================================

FAIRER asks that a network decides for *the same reasons* in every group.
For each weight it measures how important the weight is to each group's
loss (a first-order Taylor score); the *neuron parity score* sums the
squared differences of these importances, and the *rationale similarity* is
the cosine between the two groups' importance vectors, summed over the
layers. :class:`~skfairnn.FairerClassifier` trains with a term that aligns
the rationales.

Here :class:`~skfairnn.diagnostics.NeuronParityLogger` records both scores
after every epoch for plain training and for FAIRER, and
:func:`~skfairnn.diagnostics.neuron_parity_scores` compares the two trained
networks weight by weight.
"""

# %%
import os

import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split

from skfairnn import ERMClassifier, FairerClassifier
from skfairnn.datasets import make_biased_classification
from skfairnn.diagnostics import NeuronParityLogger, neuron_parity_scores
from skfairnn.metrics import demographic_parity_difference

QUICK = os.environ.get("SKFAIRNN_EXAMPLES_QUICK") == "1"

# %%
X, y, A = make_biased_classification(
    n_samples=2000 if QUICK else 6000, bias="distribution_shift", random_state=0
)
X = X.astype("float32")
X_train, X_test, y_train, y_test, A_train, A_test = train_test_split(
    X, y, A, test_size=0.3, random_state=0, stratify=A
)

# %%
# The same network trained two ways, each with the logger.
common = dict(
    max_epochs=15 if QUICK else 40,
    batch_size=128,
    lr=0.01,
    module__hidden_sizes=(32,),
    random_state=0,
    verbose=0,
)
nets = {
    "ERM": ERMClassifier(callbacks=[NeuronParityLogger(max_samples=1000)], **common),
    "FAIRER": FairerClassifier(
        alignment_weight=0.1,
        callbacks=[NeuronParityLogger(max_samples=1000)],
        **common,
    ),
}
for name, net in nets.items():
    net.fit(X_train, y_train, sensitive_features=A_train)
    pred = net.predict(X_test)
    gap = demographic_parity_difference(y_test, pred, sensitive_features=A_test)
    print(f"{name}: test accuracy {(pred == y_test).mean():.3f}, ΔDP {gap:.3f}")

# %%
# The two scores over training. FAIRER's alignment term raises the rationale
# similarity (the cosine between the groups' importance vectors, at most 1 per
# layer): the groups come to rely on the same weights in the same proportions.
# The parity score :math:`d_F` is not normalised — it grows with the size of
# the importances themselves — and here it is larger for FAIRER than for ERM,
# so compare it between networks of similar scale only.
figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
for name, net in nets.items():
    left.plot(net.history[:, "neuron_parity_score"], label=name)
    right.plot(net.history[:, "rationale_similarity"], label=name)
left.set(xlabel="epoch", ylabel="neuron parity score $d_F$", yscale="log")
right.set(xlabel="epoch", ylabel="rationale similarity (sum of cosines)")
left.legend()
figure.tight_layout()
plt.show()

# %%
# Weight by weight on the test rows: the importance of each weight of the
# first layer for group 0 against group 1. Points on the diagonal are weights
# both groups use equally.
figure, panels = plt.subplots(1, 2, figsize=(9, 4), sharex=True, sharey=True)
for axes, (name, net) in zip(panels, nets.items()):
    scores = neuron_parity_scores(net, X_test, y_test, A_test)
    c0, c1 = scores.importances[0]
    axes.loglog(c0, c1, ".", alpha=0.5)
    low, high = min(c0.min(), c1.min()) + 1e-12, max(c0.max(), c1.max())
    axes.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=0.8)
    axes.set_title(f"{name}: layer {scores.layers[0]}, similarity {scores.similarity:.2f}")
    axes.set_xlabel("importance for group 0")
panels[0].set_ylabel("importance for group 1")
figure.tight_layout()
plt.show()
