# SPDX-License-Identifier: BSD-3-Clause
"""``ReweightedClassifier``: fit a sample weighter, then train a classifier with its weights."""

from __future__ import annotations

import warnings

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils import get_tags, metadata_routing
from sklearn.utils.metadata_routing import (
    MetadataRequest,
    MetadataRouter,
    MethodMapping,
    get_routing_for_object,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from ..exceptions import FairnessWarning
from ..groups import MISSING_CODE, encode_sensitive_features
from ..utils._sklearn import num_samples
from ..utils._validation import check_sample_weight
from ._common import check_accepts_sample_weight

__all__ = ["ReweightedClassifier"]


def _estimator_has(method: str):
    def check(self) -> bool:
        target = self.estimator_ if hasattr(self, "estimator_") else self.estimator
        return hasattr(target, method)

    return check


_MSG_NO_GROUPS = (
    "ReweightedClassifier.fit got no sensitive_features for its weighter, so the "
    "estimator is trained without fairness weights (only the user's sample_weight). "
    "Pass sensitive_features=... (with metadata routing enabled inside a Pipeline)."
)


def _has_missing(sensitive_features, n_samples: int) -> bool:
    groups = encode_sensitive_features(sensitive_features, n_samples=n_samples, allow_missing=True)
    return bool((groups.codes == MISSING_CODE).any())


class ReweightedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Train a classifier with the sample weights of a weighter.

    ``fit`` fits (a clone of) ``weighter`` on the data, multiplies its
    ``sample_weight_`` with the user's ``sample_weight`` (if any) and trains
    (a clone of) ``estimator`` with the product. Prediction delegates to the
    trained estimator. This is stage two of FairIF (Eq. 15 of [1]_) with
    :class:`~skfairnn.FairIFReweighter`, and the Reweighting baseline with
    :class:`~skfairnn.KamiranCaldersReweighter`.

    Parameters
    ----------
    weighter : estimator
        Has ``fit(X, y, **metadata)`` and sets ``sample_weight_`` (one weight
        per row).
    estimator : classifier
        Any classifier whose ``fit`` accepts ``sample_weight``: a skfairnn
        network, ``LogisticRegression``, ``HistGradientBoostingClassifier``...

    Attributes
    ----------
    weighter_ : estimator or None
        The fitted weighter; ``None`` when ``fit`` got no
        ``sensitive_features`` (then the estimator trains unweighted and a
        :class:`~skfairnn.FairnessWarning` is issued, as the in-processing
        methods do).
    estimator_ : classifier
        The classifier trained with the weights.
    sample_weight_ : ndarray of shape (n_samples,)
        The weights the estimator was trained with.
    classes_ : ndarray
        Class labels (from ``estimator_``).

    Notes
    -----
    **Metadata.** With ``sklearn.set_config(enable_metadata_routing=True)``
    ``sensitive_features`` (and any other metadata) is routed to the
    weighter and the estimator according to their requests (skfairnn's
    weighters and classifiers request ``sensitive_features`` and
    ``sample_weight`` by default), so the meta-estimator works inside
    ``Pipeline`` and ``GridSearchCV``. The user's ``sample_weight`` is
    consumed here: it goes to the weighter if it asks for it, and to the
    estimator only as a factor of the product (the estimator's own
    ``sample_weight`` request is ignored). With routing off,
    ``fit(X, y, sensitive_features=A, sample_weight=w)`` hands ``A`` and
    ``w`` to the weighter and ``A`` to the estimator when their ``fit``
    accepts it.

    **Rows without a group.** FairIF allows missing groups (NaN/None) on
    training rows, but in-processing estimators need a group on every row:
    ``sensitive_features`` with any missing value is *not* passed to the
    estimator (which then trains without it); without missing values it is.

    References
    ----------
    .. [1] Wang, Wu & He, "FairIF: Boosting Fairness in Deep Learning via
       Influence Functions with Validation Set Sensitive Attributes",
       WSDM 2024.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairnn import KamiranCaldersReweighter, ReweightedClassifier
    >>> X, y, A = [[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1], ["a", "a", "b", "b"]
    >>> clf = ReweightedClassifier(KamiranCaldersReweighter(), LogisticRegression())
    >>> clf.fit(X, y, sensitive_features=A).predict([[3.0]]).shape
    (1,)
    """

    __metadata_request__fit = {
        "sensitive_features": metadata_routing.UNUSED,
        "sample_weight": True,
    }

    def __init__(self, weighter, estimator):
        self.weighter = weighter
        self.estimator = estimator

    def fit(self, X, y, *, sensitive_features=None, sample_weight=None, **fit_params):
        """Fit the weighter, then the estimator with the resulting weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples,)
            Labels.
        sensitive_features : array-like, default=None
            Groups, for the weighter (and the estimator, see Notes).
        sample_weight : array-like of shape (n_samples,), default=None
            User weights, multiplied with the weighter's.
        **fit_params : dict
            Further metadata, routed when metadata routing is enabled.

        Returns
        -------
        self
        """
        check_accepts_sample_weight(self.estimator, "ReweightedClassifier")
        if y is None:
            raise ValueError(
                "ReweightedClassifier requires y to be passed, but the target y is None."
            )
        n_samples = num_samples(y)
        user_weight = None
        if sample_weight is not None:
            user_weight = check_sample_weight(sample_weight, n_samples, normalize=False)
        weighter_params, estimator_params = self._split_metadata(
            sensitive_features, sample_weight, fit_params
        )
        groups = estimator_params.get("sensitive_features")
        if groups is not None and _has_missing(groups, n_samples):
            estimator_params.pop("sensitive_features")
        if weighter_params.get("sensitive_features") is None:
            warnings.warn(_MSG_NO_GROUPS, FairnessWarning, stacklevel=2)
            self.weighter_ = None
            weights = np.ones(n_samples)
        else:
            self.weighter_ = clone(self.weighter).fit(X, y, **weighter_params)
            weights = np.asarray(self.weighter_.sample_weight_, dtype=np.float64)
        if weights.shape != (n_samples,):
            raise ValueError(
                f"{type(self.weighter).__name__}.sample_weight_ has shape {weights.shape}; "
                f"expected one weight per row, ({n_samples},)."
            )
        if user_weight is not None:
            weights = weights * user_weight
        self.sample_weight_ = weights
        self.estimator_ = clone(self.estimator).fit(X, y, sample_weight=weights, **estimator_params)
        return self

    def _split_metadata(self, sensitive_features, sample_weight, fit_params):
        """Metadata for the weighter's and the estimator's fit."""
        if sklearn.get_config()["enable_metadata_routing"]:
            routed = process_routing(
                self,
                "fit",
                sensitive_features=sensitive_features,
                sample_weight=sample_weight,
                **fit_params,
            )
            estimator_params = dict(routed["estimator"]["fit"])
            estimator_params.pop("sample_weight", None)
            return dict(routed["weighter"]["fit"]), estimator_params
        if fit_params:
            raise TypeError(
                f"ReweightedClassifier.fit got unexpected metadata {sorted(fit_params)}; "
                "enable metadata routing (sklearn.set_config(enable_metadata_routing=True)) "
                "to route further metadata."
            )
        given = {"sensitive_features": sensitive_features, "sample_weight": sample_weight}
        weighter_params = {
            name: value
            for name, value in given.items()
            if value is not None and has_fit_parameter(self.weighter, name)
        }
        estimator_params = {}
        if sensitive_features is not None and has_fit_parameter(
            self.estimator, "sensitive_features"
        ):
            estimator_params["sensitive_features"] = sensitive_features
        return weighter_params, estimator_params

    def get_metadata_routing(self) -> MetadataRouter:
        """Routing of ``fit`` metadata to the weighter and the estimator.

        The estimator's ``sample_weight`` request is replaced by "not
        routed": it always receives the product of the weights.
        """
        estimator_request = get_routing_for_object(self.estimator)
        if isinstance(estimator_request, MetadataRequest):
            estimator_request.fit.add_request(param="sample_weight", alias=False)
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                weighter=self.weighter,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
            .add(
                estimator=estimator_request,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        )

    # ------------------------------------------------------------ delegation
    @property
    def classes_(self) -> np.ndarray:
        check_is_fitted(self)
        return self.estimator_.classes_

    @property
    def n_features_in_(self) -> int:
        check_is_fitted(self)
        return self.estimator_.n_features_in_

    def __sklearn_tags__(self):
        """The estimator's input and classifier tags (binary-only, sparse input, ...)."""
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = inner.input_tags
        tags.classifier_tags = inner.classifier_tags
        tags.non_deterministic = inner.non_deterministic
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "estimator_")

    def predict(self, X) -> np.ndarray:
        """Predicted labels of the trained estimator."""
        check_is_fitted(self)
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of the trained estimator."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X) -> np.ndarray:
        """Decision function of the trained estimator."""
        check_is_fitted(self)
        return self.estimator_.decision_function(X)
