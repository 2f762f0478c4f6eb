# SPDX-License-Identifier: BSD-3-Clause
"""
=========================================================
FairIF: fair re-weighting with groups on 20 % of the rows
=========================================================

The sensitive attribute is often known for a few rows only — a survey sample,
say. FairIF needs it only on a small *validation* set: it trains a first
model, uses influence functions to predict how up- or down-weighting each
training row changes the validation fairness gaps, solves for the weights
that close the gaps, and retrains with them.

Here the group is known for 20 % of the rows; the other rows carry ``None``.
:class:`~skfairnn.FairIFReweighter` inside
:class:`~skfairnn.ReweightedClassifier` uses the known rows as its validation
set and gives a weight to every training row. The plot shows the weights by
(true, hidden) group and label.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from skfairnn import ERMClassifier, FairIFReweighter, ReweightedClassifier
from skfairnn.datasets import make_biased_classification
from skfairnn.metrics import equalized_odds_difference

QUICK = os.environ.get("SKFAIRNN_EXAMPLES_QUICK") == "1"

# %%
# Data with a 15 % minority group, and the group hidden on 80 % of the
# training rows.
X, y, A = make_biased_classification(
    n_samples=2000 if QUICK else 8000, bias="group_size", random_state=0
)
X = X.astype("float32")
X_train, X_test, y_train, y_test, A_train, A_test = train_test_split(
    X, y, A, test_size=0.3, random_state=0, stratify=A
)
rng = np.random.default_rng(0)
known = rng.random(len(y_train)) < 0.2
A_partial = np.where(known, A_train, None).astype(object)
print(f"group known on {known.mean():.0%} of {len(y_train)} training rows")

# %%
# Plain training, then FairIF around the same network. Conjugate gradients
# solve the influence system exactly enough for this small network;
# ``hessian="lissa"`` (the default) scales to large ones.
network = ERMClassifier(
    max_epochs=8 if QUICK else 40,
    batch_size=256,
    lr=0.02,
    module__hidden_sizes=(32,),
    random_state=0,
    verbose=0,
)
erm = network.fit(X_train, y_train)
fairif = ReweightedClassifier(
    FairIFReweighter(network, hessian="cg", l2_weight=0.1, random_state=0), network
).fit(X_train, y_train, sensitive_features=A_partial)
for name, model in (("ERM", erm), ("FairIF", fairif)):
    pred = model.predict(X_test)
    gap = equalized_odds_difference(y_test, pred, sensitive_features=A_test)
    print(f"{name}: test accuracy {(pred == y_test).mean():.3f}, ΔEO {gap:.3f}")

# %%
# The weights of the training rows (validation rows get weight 0 and are left
# out), by true group and label. FairIF never saw the groups of these rows:
# it finds the rows to up-weight from their influence on the validation gaps.
weights = fairif.sample_weight_
train_rows = ~fairif.weighter_.validation_mask_
figure, axes = plt.subplots(figsize=(7, 4))
cells = [(a, label) for a in (0, 1) for label in (0, 1)]
data = [weights[train_rows & (A_train == a) & (y_train == label)] for a, label in cells]
axes.boxplot(data, showfliers=False)
axes.set_xticks(
    range(1, 5), [f"A={a}, y={label}\n(n={len(d)})" for (a, label), d in zip(cells, data)]
)
axes.axhline(1.0, color="grey", linestyle="--", linewidth=0.8, label="uniform weight")
axes.set_ylabel("FairIF sample weight")
axes.set_title("weights of the training rows, by hidden group and label")
axes.legend()
figure.tight_layout()
plt.show()
