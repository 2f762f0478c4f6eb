# SPDX-License-Identifier: BSD-3-Clause
"""
=====================================================
Tuning ``fairness_weight`` under a fairness bound
=====================================================

A lender screens applications with a neural network trained on census-style
income data. Equalized odds asks that qualified applicants of every sex are
accepted at the same rate, and unqualified ones rejected at the same rate.
Here we tune the fairness weight of :class:`~skfairnn.FairRegClassifier` with
``GridSearchCV`` and keep the most accurate model whose cross-validated ΔEO
stays below 0.05. The sensitive attribute reaches the training folds and the
fairness scorer through scikit-learn's metadata routing; it is not an input
of the model and is not needed to predict.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.compose import make_column_transformer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skfairnn import FairRegClassifier
from skfairnn.datasets import fetch_adult
from skfairnn.metrics import (
    best_accuracy_within,
    equalized_odds_difference,
    make_fairness_scorer,
)

QUICK = os.environ.get("SKFAIRNN_EXAMPLES_QUICK") == "1"
sklearn.set_config(enable_metadata_routing=True)

# %%
# Data: the sex column is the sensitive attribute and is kept out of the inputs.
adult = fetch_adult()
X = adult.data.drop(columns=["sex", "race", "fnlwgt", "education"])
y, A = adult.target.to_numpy(), adult.sensitive_features["sex"].to_numpy()
if QUICK:
    X, y, A = X.iloc[:3000], y[:3000], A[:3000]
X_train, X_test, y_train, y_test, A_train, A_test = train_test_split(
    X, y, A, test_size=0.3, random_state=0, stratify=y
)
categorical = X.select_dtypes(exclude="number").columns
numeric = X.select_dtypes("number").columns
preprocess = make_column_transformer(
    (OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), numeric)
)

# %%
# The search: AP and ΔEO for every candidate, refit the best AP within ΔEO ≤ 0.05.
network = FairRegClassifier(
    constraint="equalized_odds",
    max_epochs=2 if QUICK else 20,
    batch_size=512,
    module__hidden_sizes=(64,),
    random_state=0,
)
weights = [0.0, 1.0, 5.0] if QUICK else [0.0, 0.3, 1.0, 3.0, 10.0]
search = GridSearchCV(
    make_pipeline(preprocess, network),
    {"fairregclassifier__fairness_weight": weights},
    scoring={"ap": "average_precision", "eo": make_fairness_scorer("equalized_odds_difference")},
    refit=best_accuracy_within("eo", 0.05, accuracy="ap"),
    cv=2 if QUICK else 3,
)
search.fit(X_train, y_train, sensitive_features=A_train)
print("chosen:", search.best_params_)

# %%
# Test-set check of the chosen model.
pred = search.predict(X_test)
print("test accuracy", (pred == y_test).mean())
print("test ΔEO", equalized_odds_difference(y_test, pred, sensitive_features=A_test))

# %%
# The trade-off the search explored.
results = search.cv_results_
figure, axes = plt.subplots(figsize=(5, 4))
axes.plot(-results["mean_test_eo"], results["mean_test_ap"], "o-")
for weight, gap, ap in zip(weights, -results["mean_test_eo"], results["mean_test_ap"]):
    axes.annotate(f"λ={weight:g}", (gap, ap))
axes.axvline(0.05, color="grey", linestyle="--", label="bound")
axes.set_xlabel("cross-validated ΔEO")
axes.set_ylabel("cross-validated AP")
axes.legend()
figure.tight_layout()
plt.show()
assert np.isfinite(results["mean_test_ap"]).all()
