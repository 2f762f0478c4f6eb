# SPDX-License-Identifier: BSD-3-Clause
"""Fair-SMOTE: balance every (group, label) cell with synthetic rows, then train the network.

Chakraborty, Majumder & Menzies (FSE 2021) find two roots of bias in training
data, unequal (group, label) cells and biased labels, and remove both before
training: synthetic oversampling makes every cell as large as the largest,
and *situation testing* drops rows whose prediction changes when the
sensitive attribute is flipped. RUNNER (Tables 1–2) and FairIF (Tables 1–5)
compare against it. The synthetic rows come from imbalanced-learn's
:class:`~imblearn.over_sampling.SMOTE` (the optional dependency
``skfairnn[smote]``), run once per fit with every cell as one class, so that
each cell is interpolated from its own nearest neighbours only.
"""

from __future__ import annotations

import importlib.util
from numbers import Integral, Real

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state

from .._base import FairNetClassifier
from ..cells import CONSTRAINTS
from ..modules import MLP
from ..utils._sklearn import Interval, StrOptions
from ..utils._validation import check_sample_weight

__all__ = ["FairSMOTEClassifier", "fair_smote_resample", "situation_testing_weights"]

_MSG_IMBLEARN = (
    "Fair-SMOTE draws its synthetic rows with imbalanced-learn's SMOTE, which is not "
    "installed. Install the optional dependency: pip install 'skfairnn[smote]' "
    "(or pip install 'imbalanced-learn>=0.13')."
)
_MSG_EMPTY_CELL = (
    "Fair-SMOTE oversamples every (group, label) cell of sensitive_features and y from "
    "its own rows, but the cell (group {group}, label {label}) has no training rows of "
    "positive weight. Every group needs both labels: merge or drop that group."
)
_MSG_SMALL_CELL = (
    "The (group {group}, label {label}) cell of sensitive_features and y has {count} "
    "training rows of positive weight; SMOTE interpolates each synthetic row towards one "
    "of the k_neighbors={k} nearest rows of the same cell, so a cell that is oversampled "
    "needs at least k_neighbors + 1 = {need} rows. Lower k_neighbors or merge small groups."
)
_MSG_COLUMN = (
    "situation_testing={column!r} must name the column of X that holds the sensitive "
    "attribute: {problem}"
)


_MSG_IMBLEARN_BROKEN = (
    "Fair-SMOTE draws its synthetic rows with imbalanced-learn's SMOTE; imbalanced-learn "
    "is installed but failed to import ({error}). Its release must match the installed "
    "scikit-learn: pip install -U 'skfairnn[smote]' (imbalanced-learn>=0.13)."
)


def _smote():
    try:
        from imblearn.over_sampling import SMOTE
    except ImportError as error:
        if importlib.util.find_spec("imblearn") is None:
            raise ImportError(_MSG_IMBLEARN) from error
        raise ImportError(_MSG_IMBLEARN_BROKEN.format(error=error)) from error
    return SMOTE


def _cell_targets(counts: np.ndarray, balance_ratio: float) -> np.ndarray:
    """Rows each cell has after oversampling: ``round(balance_ratio * largest)`` at least."""
    target = int(round(balance_ratio * counts.max()))
    return np.maximum(counts, target)


def fair_smote_resample(
    X,
    y,
    group,
    sample_weight=None,
    *,
    balance_ratio: float = 1.0,
    k_neighbors: int = 5,
    random_state=None,
    group_labels=None,
):
    """Fair-SMOTE's data balancing: oversample every (group, label) cell to the largest.

    Each cell :math:`(a, y)` with :math:`n_{a,y}` rows (of positive weight)
    gets :math:`\\max(0, \\operatorname{round}(r\\,\\max_c n_c) - n_{a,y})`
    synthetic rows, :math:`r` = ``balance_ratio`` (1: every cell as large as
    the largest, the paper's §5 "balancing"). A synthetic row is SMOTE's
    :math:`x + u\\,(x_{nn} - x)`, :math:`u \\sim U(0, 1)`, between a row of
    the cell and one of its ``k_neighbors`` nearest neighbours *in the same
    cell*.

    Parameters
    ----------
    X : ndarray of shape (n, ...)
        Numerical inputs (images are flattened for the neighbour search).
    y : ndarray of shape (n,)
        Labels encoded 0/1.
    group : ndarray of shape (n,)
        Integer group codes ``0 .. n_groups - 1``.
    sample_weight : ndarray of shape (n,), default=None
        Rows of weight 0 take no part (they are neither counted nor
        interpolated). A synthetic row weighs the mean weight of its cell's
        rows; the result is normalised to mean 1 over the rows of positive
        weight.
    balance_ratio : float in [0, 1], default=1.0
        Target size of every cell as a share of the largest; 0 adds nothing.
    k_neighbors : int, default=5
        Neighbours SMOTE interpolates towards (imbalanced-learn's default).
    random_state : int, RandomState instance or None, default=None
        Fixes the synthetic rows.
    group_labels : sequence, default=None
        Names of the groups, for error messages.

    Returns
    -------
    X, y, group, sample_weight : ndarrays
        The ``n`` input rows first, unchanged and in order, then the
        synthetic rows, cell by cell.

    Raises
    ------
    ValueError
        If a cell is empty (naming ``sensitive_features``), or a cell to be
        oversampled has at most ``k_neighbors`` rows (naming ``k_neighbors``).
    ImportError
        If imbalanced-learn is not installed (naming the ``smote`` extra).
    """
    X, y, group = np.asarray(X), np.asarray(y, dtype=np.int64), np.asarray(group, dtype=np.int64)
    weight = check_sample_weight(sample_weight, len(X), dtype=np.float32)
    labels = list(range(int(group.max()) + 1)) if group_labels is None else list(group_labels)
    n_groups = len(labels)
    if balance_ratio == 0:
        return X, y, group, weight
    cells = 2 * group + y
    present = weight > 0
    counts = np.bincount(cells[present], minlength=2 * n_groups)
    for cell in np.flatnonzero(counts == 0):
        raise ValueError(_MSG_EMPTY_CELL.format(group=labels[cell // 2], label=cell % 2))
    targets = _cell_targets(counts, balance_ratio)
    grow = np.flatnonzero(targets > counts)
    if not len(grow):
        return X, y, group, weight
    for cell in grow:
        if counts[cell] <= k_neighbors:
            raise ValueError(
                _MSG_SMALL_CELL.format(
                    group=labels[cell // 2], label=cell % 2, count=counts[cell],
                    k=k_neighbors, need=k_neighbors + 1,
                )
            )  # fmt: skip
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    smote = _smote()(
        sampling_strategy={int(c): int(targets[c]) for c in grow},
        k_neighbors=k_neighbors,
        random_state=seed,
    )
    source = X[present].reshape(int(present.sum()), -1)
    X_all, cells_all = smote.fit_resample(source, cells[present])
    X_new = X_all[len(source) :].reshape(-1, *X.shape[1:]).astype(X.dtype, copy=False)
    cells_new = cells_all[len(source) :]
    cell_weight = np.bincount(cells[present], weights=weight[present], minlength=2 * n_groups)
    weight_new = (cell_weight / counts)[cells_new]
    weight = np.concatenate([weight, weight_new])
    return (
        np.concatenate([X, X_new]),
        np.concatenate([y, cells_new % 2]),
        np.concatenate([group, cells_new // 2]),
        check_sample_weight(weight, len(weight), dtype=np.float32),
    )


def _check_attribute_column(X, group, column: int) -> tuple[float, float]:
    """The two values of ``X[:, column]``, one per group (group 0's first)."""
    if X.ndim != 2:
        raise ValueError(_MSG_COLUMN.format(column=column, problem=f"X has shape {X.shape}."))
    if not 0 <= column < X.shape[1]:
        raise ValueError(_MSG_COLUMN.format(column=column, problem=f"X has {X.shape[1]} columns."))
    values = []
    for code in range(int(group.max()) + 1):
        found = np.unique(X[group == code, column])
        if len(found) != 1:
            problem = f"group {code} has {len(found)} different values in that column."
            raise ValueError(_MSG_COLUMN.format(column=column, problem=problem))
        values.append(found[0])
    if len(values) != 2 or values[0] == values[1]:
        problem = (
            f"situation testing flips a binary attribute; got {len(values)} groups with "
            f"values {values} in that column."
        )
        raise ValueError(_MSG_COLUMN.format(column=column, problem=problem))
    return values[0], values[1]


def situation_testing_weights(X, y, group, sample_weight=None, *, column: int, random_state=None):
    """Fair-SMOTE's situation testing: weight 0 for rows whose prediction flips with the group.

    A logistic regression (the authors' ``LogisticRegression(C=1.0,
    solver="liblinear")``) is fitted on the rows of positive weight; a row
    whose predicted label changes when column ``column`` of ``X`` (the
    sensitive attribute, one value per group) is set to the other group's
    value gets weight 0 (the paper removes it as a likely biased label).

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
        Tabular inputs that contain the sensitive attribute as ``X[:, column]``.
    y, group : ndarrays of shape (n,)
        Labels 0/1 and the two group codes; every group must have a single
        value in ``X[:, column]``.
    sample_weight : ndarray of shape (n,), default=None
    column : int
        Index of the sensitive attribute's column.
    random_state : int, RandomState instance or None, default=None
        Seeds liblinear.

    Returns
    -------
    ndarray of shape (n,)
        The weights, with the flipping rows set to 0 (normalised to mean 1
        over the rows left).
    """
    X, group = np.asarray(X), np.asarray(group)
    weight = check_sample_weight(sample_weight, len(X), dtype=np.float32)
    first, second = _check_attribute_column(X, group, column)
    present = weight > 0
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    model = LogisticRegression(C=1.0, solver="liblinear", random_state=seed)
    model.fit(X[present], np.asarray(y)[present], sample_weight=weight[present])
    flipped = X.copy()
    flipped[:, column] = np.where(X[:, column] == first, second, first)
    changed = model.predict(X) != model.predict(flipped)
    weight = np.where(changed, 0.0, weight)
    if not (weight > 0).any():
        problem = "every training row's prediction flips with it, so none would be left."
        raise ValueError(_MSG_COLUMN.format(column=column, problem=problem))
    return check_sample_weight(weight, len(weight), dtype=np.float32)


class FairSMOTEClassifier(FairNetClassifier):
    r"""Network trained on Fair-SMOTE's balanced data (Chakraborty et al., FSE 2021).

    Before training, every (group, label) cell of the training data is
    oversampled to the size of the largest with synthetic SMOTE rows drawn
    within the cell (:func:`fair_smote_resample`), so every group has the
    same size and a base rate of one half; optionally, rows whose
    prediction flips with the sensitive attribute are then left out
    (situation testing, :func:`situation_testing_weights`). The network is
    then trained like :class:`~skfairnn.ERMClassifier` on the result. The
    synthetic rows are drawn once per ``fit`` from ``random_state``.

    Parameters
    ----------
    module : nn.Module class or instance, default=MLP
    balance_ratio : float in [0, 1], default=1.0
        Every cell is oversampled to ``round(balance_ratio * n_max)`` rows,
        ``n_max`` the largest cell (cells already larger keep their rows;
        imbalanced-learn's float ``sampling_strategy``). 1 is the paper's
        full balance; 0 adds no rows (plain ERM with the same sampling). It
        is the method's fairness strength (``_fairness_weights``).
    k_neighbors : int, default=5
        SMOTE's neighbours within a cell. A cell to be oversampled needs at
        least ``k_neighbors + 1`` rows; fewer is a ``ValueError`` (a cell
        with no rows cannot be oversampled at all).
    situation_testing : int, str or None, default=None
        The column of ``X`` (index, or name when ``X`` is a DataFrame) that
        holds the sensitive attribute, to run the paper's situation testing
        after balancing; ``None`` skips it. It needs what the paper
        assumes: the sensitive attribute is a feature of the model, binary,
        one value per group of ``sensitive_features`` (checked: a
        ``ValueError`` otherwise), and ``X`` is tabular and
        numerically encoded; when the groups are not a column of ``X`` (or a
        Pipeline transforms it first), flipping them is not defined here.
        Off by default because skfairnn's groups are ``sensitive_features``,
        not necessarily columns of ``X``, and because RUNNER's and FairIF's
        Fair-SMOTE rows do not say whether they ran it.
    constraint : str, default="equalized_odds"
        Fair-SMOTE balances the (group, label) cells whatever the fairness
        criterion (the paper's one procedure for all its metrics);
        ``constraint`` only resolves ``sampling="auto"`` and says which gap
        a comparison reports.
    sampling : str, default="random"
        Batches over the balanced data are plain shuffled ones (the paper
        trains on the balanced set as on any data).
    **kwargs
        Any :class:`~skfairnn.FairNetClassifier` parameter.

    Notes
    -----
    *Synthetic rows.* The paper's generator (its ``generate_samples``) is a
    differential-evolution step: a random parent :math:`p` of the cell and
    two of its nearest neighbours :math:`c_1, c_2` give
    :math:`p + f\,(c_1 - c_2)` for each feature with probability
    :math:`cr` (:math:`f = cr = 0.8`), the parent's value otherwise. Here it
    is SMOTE's interpolation :math:`x + u\,(x_{nn} - x)` from
    imbalanced-learn, as RUNNER and FairIF describe the baseline ("synthetic
    oversampling" within each subgroup); both keep every synthetic row among
    its cell's rows, and the counts per cell are the paper's.

    *Decisions.* Balanced cells give every group a base rate of 1/2, so the
    network learns the odds of a balanced world; ``prior_correction``
    (default ``"max_accuracy"``) fits its offset on the rows passed to
    ``fit`` only (the synthetic rows are left out), as for the balanced
    batch samplers; ``prior_correction=None`` thresholds at 0.5, as the
    paper's classifiers do.

    *Weights and groups.* Rows of weight 0 are neither counted nor
    interpolated; a synthetic row weighs its cell's mean weight. More than
    two groups: every (group, label) cell is balanced to the largest (the
    paper's rule applies to any number of cells); situation testing needs
    two. Without ``sensitive_features`` the data is not changed (plain ERM,
    with a warning).

    References
    ----------
    .. [1] Chakraborty, Majumder & Menzies, "Bias in Machine Learning
       Software: Why? How? What to Do?", ESEC/FSE 2021.
    .. [2] Chawla et al., "SMOTE: Synthetic Minority Over-sampling
       Technique", JAIR 2002.

    Examples
    --------
    >>> from skfairnn import FairSMOTEClassifier
    >>> from skfairnn.datasets import make_biased_classification
    >>> X, y, a = make_biased_classification(400, random_state=0)
    >>> clf = FairSMOTEClassifier(max_epochs=2, module__hidden_sizes=(16,), random_state=0)
    >>> clf.fit(X, y, sensitive_features=a).predict(X).shape
    (400,)
    """

    _parameter_constraints = {
        **FairNetClassifier._parameter_constraints,
        "balance_ratio": [Interval(Real, 0, 1, closed="both")],
        "k_neighbors": [Interval(Integral, 1, None, closed="left")],
        "situation_testing": [Interval(Integral, 0, None, closed="left"), str, None],
        "constraint": [StrOptions(set(CONSTRAINTS))],
    }
    _fairness_weights = ("balance_ratio",)
    #: modules a fit with sensitive_features imports (the optional extra ``smote``)
    _optional_imports = ("imblearn",)

    def __init__(
        self,
        module=MLP,
        *,
        balance_ratio=1.0,
        k_neighbors=5,
        situation_testing=None,
        constraint="equalized_odds",
        sampling="random",
        **kwargs,
    ):
        super().__init__(module, sampling=sampling, **kwargs)
        self.balance_ratio = balance_ratio
        self.k_neighbors = k_neighbors
        self.situation_testing = situation_testing
        self.constraint = constraint

    def augment_training_rows(self, X, y, group, sample_weight):
        """The training rows followed by Fair-SMOTE's synthetic rows (see the class docstring)."""
        labels = [str(label) for label in self.sensitive_groups_]
        X, y, group, sample_weight = fair_smote_resample(
            X,
            y,
            group,
            sample_weight,
            balance_ratio=self.balance_ratio,
            k_neighbors=self.k_neighbors,
            random_state=self.random_state,
            group_labels=labels,
        )
        if self.situation_testing is not None:
            sample_weight = situation_testing_weights(
                X,
                y,
                group,
                sample_weight,
                column=self._attribute_column(),
                random_state=self.random_state,
            )
        return X, y, group, sample_weight

    def _attribute_column(self) -> int:
        """``situation_testing`` as a column index (a name is looked up in feature_names_in_)."""
        column = self.situation_testing
        if isinstance(column, str):
            names = list(getattr(self, "feature_names_in_", ()))
            if column not in names:
                problem = "X has no column of that name (pass a DataFrame, or an index)."
                raise ValueError(_MSG_COLUMN.format(column=column, problem=problem))
            return names.index(column)
        return int(column)
