# SPDX-License-Identifier: BSD-3-Clause
"""
=====================================================
Pruning the training set by fairness influence
=====================================================

Some training rows push a network towards unfair predictions more than
others. :class:`~skfairnn.InfluencePruner` trains a scoring network once,
scores every row by its influence on the relaxed demographic-parity gap
(through the network's neural tangent kernel), and ranks them;
``ranking_[:k]`` is the kept subset for any ``k``. We retrain plain networks
on the top rows for several kept fractions and compare them with random
subsets of the same size.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from skfairnn import ERMClassifier, FairRegClassifier, InfluencePruner
from skfairnn.datasets import make_biased_classification
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
settings = dict(
    max_epochs=6 if QUICK else 30,
    batch_size=128,
    lr=0.01,
    module__hidden_sizes=(32,),
    random_state=0,
    verbose=0,
)

# %%
# Score and rank the rows once; ``stratify=True`` keeps about the same share
# of every (group, label) cell, so no cell disappears from the subset.
pruner = InfluencePruner(
    FairRegClassifier(constraint="demographic_parity", **settings),
    keep_fraction=0.3,
    stratify=True,
    random_state=0,
).fit(X_train, y_train, sensitive_features=A_train)

# %%
# Retrain on the top rows and on random rows of the same size.
fractions = [0.25, 0.5] if QUICK else [0.1, 0.2, 0.3, 0.4, 0.6, 0.8]
rng = np.random.default_rng(0)
results = {"fairness influence": [], "random": []}
for fraction in fractions:
    k = round(fraction * len(y_train))
    subsets = {
        "fairness influence": pruner.ranking_[:k],
        "random": rng.permutation(len(y_train))[:k],
    }
    for name, rows in subsets.items():
        net = ERMClassifier(**settings).fit(X_train[rows], y_train[rows])
        pred = net.predict(X_test)
        gap = demographic_parity_difference(y_test, pred, sensitive_features=A_test)
        results[name].append(((pred == y_test).mean(), gap))
        print(f"{fraction:.0%} kept, {name}: accuracy {results[name][-1][0]:.3f}, ΔDP {gap:.3f}")

full = ERMClassifier(**settings).fit(X_train, y_train).predict(X_test)
full_scores = (
    (full == y_test).mean(),
    demographic_parity_difference(y_test, full, sensitive_features=A_test),
)

# %%
# Test accuracy and demographic-parity gap against the kept fraction; the
# dashed lines are the network trained on every row.
figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
for name, values in results.items():
    accuracy, gap = np.array(values).T
    left.plot(fractions, accuracy, "o-", label=name)
    right.plot(fractions, gap, "o-", label=name)
left.axhline(full_scores[0], color="grey", linestyle="--", label="all rows")
right.axhline(full_scores[1], color="grey", linestyle="--")
left.set(xlabel="fraction of training rows kept", ylabel="test accuracy")
right.set(xlabel="fraction of training rows kept", ylabel="test ΔDP")
left.legend()
figure.tight_layout()
plt.show()
