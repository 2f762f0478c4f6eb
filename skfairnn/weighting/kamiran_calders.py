# SPDX-License-Identifier: BSD-3-Clause
"""Kamiran–Calders reweighing: the classic group/label reweighting baseline."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets

from ..groups import check_at_least_two_groups, encode_sensitive_features
from ..utils._validation import check_sample_weight

__all__ = ["KamiranCaldersReweighter"]


class KamiranCaldersReweighter(BaseEstimator):
    r"""Weights that make group and label independent in the training data.

    Each row of group :math:`a` and label :math:`y` gets

    .. math::

        w(a, y) = \frac{P(A=a)\,P(Y=y)}{P(A=a, Y=y)},

    the expected over the observed frequency of its (group, label) cell [1]_,
    with probabilities from the (user-weighted) training data. It is the
    "Reweighting" baseline of RUNNER's tables. Groups are needed on every row.
    Any number of groups and classes: the formula is per cell.

    Attributes
    ----------
    sample_weight_ : ndarray of shape (n_samples,)
        Weight of each row (a factor on top of any user ``sample_weight``).
    sensitive_groups_ : ndarray
        Group labels seen in fit.
    classes_ : ndarray
        Labels seen in fit.
    cell_weights_ : ndarray of shape (n_groups, n_classes)
        :math:`w(a, y)`; 0 for an empty cell.

    References
    ----------
    .. [1] Kamiran & Calders, "Data preprocessing techniques for
       classification without discrimination", Knowledge and Information
       Systems 33, 2012.

    Examples
    --------
    >>> from skfairnn import KamiranCaldersReweighter
    >>> w = KamiranCaldersReweighter().fit([[0]] * 4, [0, 1, 1, 1],
    ...                                   sensitive_features=["a", "a", "b", "b"])
    >>> w.sample_weight_.round(3).tolist()
    [0.5, 1.5, 0.75, 0.75]
    """

    __metadata_request__fit = {"sensitive_features": True, "sample_weight": True}

    def fit(self, X, y, *, sensitive_features=None, sample_weight=None):
        """Compute ``sample_weight_`` from the (group, label) frequencies.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Ignored except for its length.
        y : array-like of shape (n_samples,)
            Labels.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
            Group of every row (no missing values).
        sample_weight : array-like of shape (n_samples,), default=None
            User weights entering the frequencies.

        Returns
        -------
        self
        """
        if sensitive_features is None:
            raise ValueError(
                "KamiranCaldersReweighter.fit needs sensitive_features (one group per row); "
                "got None."
            )
        y = np.asarray(y)
        check_classification_targets(y)
        groups = encode_sensitive_features(sensitive_features, n_samples=len(y))
        check_at_least_two_groups(groups)
        encoder = LabelEncoder().fit(y)
        labels = encoder.transform(y)
        weights = check_sample_weight(sample_weight, len(y))
        joint = np.zeros((groups.n_groups, len(encoder.classes_)))
        np.add.at(joint, (groups.codes, labels), weights)
        joint /= joint.sum()
        expected = joint.sum(1, keepdims=True) * joint.sum(0, keepdims=True)
        cell = np.divide(expected, joint, out=np.zeros_like(joint), where=joint > 0)
        self.cell_weights_ = cell
        self.sensitive_groups_ = groups.labels
        self.classes_ = encoder.classes_
        self.sample_weight_ = cell[groups.codes, labels]
        return self
