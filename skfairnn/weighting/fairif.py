# SPDX-License-Identifier: BSD-3-Clause
"""FairIF: sample weights from influence functions (Wang, Wu & He, WSDM 2024).

Stage one trains a network by ERM; influence functions then predict how
re-weighting each training row would move the validation groups' true-positive
and true-negative rates (Eq. 9–13), the weights that close those gaps are
solved for (Eq. 14), and stage two retrains with them (Eq. 15; done by
:class:`~skfairnn.ReweightedClassifier`). Group labels are needed on the
validation rows only.

This module holds the estimator, :class:`FairIFReweighter`: the validation
split, stage one and the weights. The influence estimates and the Eq. (14)
solver live in :mod:`skfairnn.weighting._fairif_solver` (re-exported here).

The inverse products need a positive-definite curvature (the paper's
assumption under Eq. 7). By default (``curvature="auto"``) it is the Hessian
for a model whose logits are affine in its parameters (logistic regression,
the Table 4 setting, where it equals the Gauss-Newton matrix) and the positive
semi-definite Gauss-Newton matrix for a network, whose Hessian away from an
exact minimum is usually indefinite: there LiSSA's answer depends on its depth
with no error raised, while the Gauss-Newton solve agrees with the exact one.
Every solve is checked by its relative residual on at most
:data:`~skfairnn.influence.CHECK_ROWS` training rows, with an
:class:`~skfairnn.exceptions.InfluenceSolveWarning` when it is poor.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing, check_array, check_random_state
from sklearn.utils.multiclass import type_of_target

from ..cells import cell_codes
from ..groups import MISSING_CODE, encode_sensitive_features
from ..influence import (
    CURVATURES,
    INVERSE_HVP_METHODS,
    FunctionalModel,
    last_layer_parameters,
)
from ..utils._sklearn import Interval, StrOptions, validate_parameter_constraints
from ..utils._validation import check_sample_weight
from ._common import check_accepts_sample_weight
from ._fairif_descent import (
    EPSILON_OPTIMIZERS,
    EPSILON_UNITS,
    SOLVERS,
    check_weight_bounds,
    descend_fairif_epsilon,
    fairif_epsilon,
)
from ._fairif_solver import (
    RESIDUAL_THRESHOLD,
    GapInfluence,
    logistic_noise,
    solve_fairif_epsilon,
    tpr_tnr_gap_influence,
)

__all__ = [
    "RESIDUAL_THRESHOLD",
    "FairIFReweighter",
    "GapInfluence",
    "tpr_tnr_gap_influence",
    "solve_fairif_epsilon",
    "descend_fairif_epsilon",
    "fairif_epsilon",
]

_MSG_NO_KNOWN_GROUP = (
    "FairIFReweighter needs the group of at least some rows: sensitive_features is "
    "missing (NaN/None) on all {n} rows. Give the groups of a validation subset; rows "
    "with a missing group are the training rows."
)
_MSG_NO_GROUPS = (
    "FairIFReweighter.fit needs sensitive_features (known on a validation subset, "
    "NaN/None elsewhere); got None."
)
_MSG_ONE_GROUP = (
    "FairIFReweighter needs rows of at least two groups among the rows with a known "
    "group (the validation set); all of them are in the group {group!r}."
)
_MSG_NOT_A_NET = (
    "FairIFReweighter needs a torch network as estimator: after fit it must expose the "
    "trained nn.Module as `module_` (any skfairnn classifier, or a skorch net); "
    "{estimator} has none. Use ReweightedClassifier to train other estimators with the "
    "weights."
)


class FairIFReweighter(BaseEstimator):
    r"""Sample weights that equalise groups' TPR and TNR, from influence functions.

    FairIF [1]_ stage one: train ``estimator`` by ERM on the training rows
    (their groups unused), estimate by influence functions how up- or
    down-weighting each training row would move the gaps of the
    Gumbel-softmax-relaxed TPR and TNR between the groups of a validation set
    with known groups, and solve for the weights that close them (Eq. 14).
    ``sample_weight_`` then trains the final model (stage two, Eq. 15), e.g.
    through :class:`~skfairnn.ReweightedClassifier`.

    Parameters
    ----------
    estimator : skfairnn classifier or skorch net, default=None
        Stage-one network, cloned; it must expose ``module_`` after fit and
        accept ``sample_weight``. ``None`` is an :class:`~skfairnn.ERMClassifier`
        with default settings; the paper's tabular setting is
        ``ERMClassifier(LogisticRegressionModule, ...)``.
    l2_weight : float, default=0.1
        :math:`\lambda` of Eq. (14), the weight of :math:`\|\epsilon\|_2`
        (the paper's 0.1). ``ε`` is in the paper's units (a row's weight is
        ``1/n + ε_i``), so the ``ε = 0`` threshold is ``2‖A d‖``, of order
        ``√n · gap``; values far below it barely shrink the solution.
    solver : {"closed_form", "gradient_descent"}, default="closed_form"
        How Eq. (14) is minimised (Algorithm 1, step 4, names no method).
        ``"closed_form"``: exactly (:func:`solve_fairif_epsilon`), the
        default, kept so numbers do not move. ``"gradient_descent"``: the
        descent of the authors' run.sh (``--train_eps_epochs 600 --epslr
        0.0001``) from ``ε = 0`` (:func:`descend_fairif_epsilon`) with the
        ``epsilon_*`` options below; stopped early it is an implicit
        regulariser (smaller ``‖ε‖``), run to convergence it gives the
        closed form.

        .. versionadded:: 0.2.0
    epsilon_optimizer : {"sgd", "adam"}, default="sgd"
        Descent of ``solver="gradient_descent"``: full-batch gradient descent
        with the norm's proximal step, or Adam on the whole objective (the
        optimiser run.sh uses for the network; its ε optimiser is not
        public). Unused by the closed form.
    epsilon_epochs : int, default=600
        Full-batch descent steps (run.sh's ``--train_eps_epochs``).
    epsilon_lr : float or "auto", default="auto"
        Step size, in ``epsilon_units``. ``"auto"``: ``1/L`` for ``"sgd"``
        (``L = 2 λ_max(AᵀA)`` of the squared terms; a step of ``2/L`` or more
        diverges and is refused) and run.sh's ``--epslr 0.0001`` for
        ``"adam"``. At Adult scale ``1/L`` is about ``3·10⁻⁵`` in the paper's
        units, so run.sh's ``10⁻⁴`` would diverge under plain descent.
    epsilon_units : {"paper", "factor"}, default="paper"
        The variable descended: ``ε`` of Eq. (2) (a row's weight
        ``1/n + ε_i``) or the factor deviation ``n ε``
        (``sample_weight_ − 1``). run.sh's scale is not public; Adam's steps
        of about ``epsilon_lr`` per coordinate regularise strongly in
        ``"factor"`` units and barely in ``"paper"`` units.
    weight_bounds : (float or None, float or None), default=None
        Box on the weight factors ``n (1/n + ε_i)`` that the descent projects
        onto after each step (``(0, None)`` keeps every weight of Eq. 15
        non-negative); ``None`` descends unconstrained. Neither the paper nor
        run.sh states one. Only with ``solver="gradient_descent"``.
    validation_fraction : float, default=0.2
        If every row has a known group, this share of them (stratified by
        group and label) becomes the validation set ``D^s``. Otherwise the
        rows with a known group are ``D^s`` and the others the training set.
    gumbel_temperature : float, default=1.0
        Temperature ``τ`` of the Gumbel-softmax relaxation.
    gumbel_samples : int, default=10
        Gumbel noise draws averaged per validation row (fixed by
        ``random_state``); 0 uses the noise-free tempered sigmoid
        :math:`\sigma(f/\tau)`. Averaged noise makes the relaxed rates those
        of the *randomised* classifier (for small :math:`\tau` the mean of
        :math:`\sigma((f+g)/\tau)` over logistic noise :math:`g` is
        :math:`\sigma(f)`), whose gaps can be much smaller than the gaps of
        hard predictions; ``gumbel_samples=0`` with a small
        ``gumbel_temperature`` (e.g. 0.1) targets the hard rates instead.
    hessian : {"lissa", "cg", "exact"}, default="lissa"
        Inverse-HVP solver (App. C uses LiSSA; see
        :func:`skfairnn.influence.inverse_hvp`).
    curvature : {"auto", "hessian", "gauss_newton"}, default="auto"
        Curvature matrix ``H`` of Eq. (7)–(14): ``"hessian"`` is the Hessian
        of the mean training loss :math:`H_{\theta^*} = \frac1n \sum_i
        \nabla^2_\theta \ell(z_i, \theta^*)` as printed under Eq. (7);
        ``"gauss_newton"`` its positive semi-definite Gauss-Newton part
        :math:`\frac1n \sum_i \ell''(f_i)\, \nabla_\theta f_i
        \nabla_\theta f_i^\top`; ``"auto"`` the Hessian when the logits are
        affine in the influence parameters (logistic regression, FairIF's
        Table 4 setting, or ``influence_layers=1``; then both are the same
        matrix) and Gauss-Newton otherwise (see
        :func:`skfairnn.influence.resolve_curvature`). Eq. (7) assumes
        :math:`H_{\theta^*}` positive definite, which a network's Hessian
        away from an exact minimum is not: in one run a 32×32 MLP after 10
        epochs had 55 eigenvalues below ``−damping``, and LiSSA on it
        returned vectors with cosine ≈ 0 to the exact solve and a
        depth-dependent norm, with no error, where Gauss-Newton gave cosine
        0.985 (depth 300) to 0.999 (depth 1200). ``"hessian"`` on a
        network is checked by the residual test below.
    damping : float, default=0.01
        ``δ``, added to the curvature's diagonal (Koh & Liang's default).
    lissa_depth : int, default=300
        LiSSA recursion depth ``J``. A truncated recursion acts as extra
        damping of about ``scale / J`` in flat directions of the curvature,
        so deeper is more exact and proportionally slower; 300 keeps the
        whole fit within about 1.5× an ERM fit at 200,000 rows (see
        ``benchmarks/bench_fairif.py``).
    lissa_repeats : int, default=1
        LiSSA repetitions ``T``.
    lissa_batch_size : int, default=256
        LiSSA minibatch ``B``.
    lissa_scale : float, default=None
        LiSSA scale; ``None`` estimates it by power iteration.
    influence_layers : int, default=None
        Restrict the influence computation to the parameters of the last
        ``influence_layers`` weighted layers (``nn.Linear``/``nn.Conv2d``,
        see :func:`skfairnn.modules.find_layers`), treating the others as
        fixed; ``None`` uses every parameter. For large networks.
    include_validation : bool, default=False
        Weight of the validation rows in ``sample_weight_``: 0 by default,
        so the final model trains on the training set only (Algorithm 1);
        ``True`` gives them weight 1.
    chunk_size : int, default=8192
        Rows per chunk of the streamed gradient pass.
    residual_threshold : float, default=0.5
        After the solve of :math:`(H + \delta I) u = g` (App. C), one HVP on
        at most :data:`~skfairnn.influence.CHECK_ROWS` training rows gives the
        relative residual :math:`\|(H + \delta I)u - g\| / \|g\|`
        (``solve_residual_``); above this threshold, or with negative
        curvature :math:`u^\top (H + \delta I) u < 0` along a solution
        (``solve_rayleigh_``), an
        :class:`~skfairnn.exceptions.InfluenceSolveWarning` is emitted.
        The default is :data:`RESIDUAL_THRESHOLD`: sound LiSSA solves keep
        0.04–0.25 from their last minibatch step, LiSSA on an indefinite
        Hessian measured 1.4 up to overflow.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the Gumbel noise and LiSSA.

    Attributes
    ----------
    sample_weight_ : ndarray of shape (n_samples,)
        Weight of each input row, a factor on top of any user
        ``sample_weight``: ``n (1/n + ε_i)`` clipped at 0 for training rows
        (mean about 1), see ``include_validation`` for validation rows.
    estimator_ : estimator
        The stage-one model (the "Original" model of the paper's tables).
    validation_mask_ : ndarray of bool, shape (n_samples,)
        Rows used as the validation set ``D^s``.
    epsilon_ : ndarray of shape (n_train,)
        Solution ``ε`` of Eq. (14) for the training rows, before clipping.
    epsilon_lr_ : float or None
        Step size of the descent (``epsilon_lr`` with ``"auto"`` resolved);
        ``None`` for the closed form.
    sensitive_groups_ : ndarray
        Group labels seen among the validation rows.
    constraints_ : list of tuple
        ``(metric, group_a, group_b)`` of each equalised gap (labels).
    validation_gaps_ : ndarray of shape (n_constraints,)
        Relaxed gaps ``F(D^a) − F(D^b)`` at ``θ*``.
    predicted_gaps_ : ndarray of shape (n_constraints,)
        Gaps predicted after re-weighting with ``sample_weight_``.
    gap_influence_ : ndarray of shape (n_train, n_constraints)
        Change of each gap per unit weight of each training row.
    l2_weight_max_ : float
        The smallest ``l2_weight`` giving ``ε = 0`` (uniform weights),
        ``2‖A d‖``: a scale for choosing ``l2_weight``.
    curvature_ : {"hessian", "gauss_newton"}
        The curvature matrix used (``curvature`` with ``"auto"`` resolved).
    solve_residual_ : float
        Largest relative residual :math:`\|(H + \delta I)u - g\| / \|g\|`
        of the inverse-HVP solutions (one per rate difference), measured on
        at most :data:`~skfairnn.influence.CHECK_ROWS` training rows.
    solve_rayleigh_ : float
        Smallest curvature :math:`u^\top (H + \delta I) u / u^\top u`
        along them; at least ``damping`` for Gauss-Newton, negative when the
        Hessian plus damping is indefinite.

    See Also
    --------
    ReweightedClassifier : trains an estimator with these weights.
    KamiranCaldersReweighter : the classic group/label reweighing.

    Notes
    -----
    Objective (Eq. 14), for each rate :math:`F \in \{F_{TPR}, F_{TNR}\}`:

    .. math::

        \min_\epsilon \sum_F \Big[\mathrm{diff}(D^s, F, \theta^*)
        + (\nabla\bar F(D^1) - \nabla\bar F(D^0))^\top H^{-1}
        \sum_i \nabla\ell(z_i, \theta^*)\,\epsilon_i\Big]^2
        + \lambda\|\epsilon\|_2 .

    Readings of points the paper leaves open:

    * **Solver.** By default Eq. (14) is minimised exactly, with the
      non-squared norm as printed (:func:`solve_fairif_epsilon`);
      ``solver="gradient_descent"`` descends on it as the authors' run.sh
      suggests. Then ``1/n + ε_i`` is clipped at 0 (the paper does not say
      how it keeps weights valid; ``weight_bounds`` projects during the
      descent instead). With two constraints plain descent lives in a
      two-dimensional span (``λ = 0``) whose condition number was about 18
      on Adult: 600 steps of ``1/L`` reach the closed form, and so did Adam
      at ``10⁻⁴`` in the paper's units (Adult, COMPAS). Only much smaller
      steps, or Adam in ``"factor"`` units (weight factors within ±8 % after
      600 steps of ``10⁻⁴``), stop short of it.
    * **Relaxation.** ``diff`` uses the same relaxed rates as the gradients;
      Gumbel noise is drawn once per fit (``gumbel_samples``), so the
      objective is deterministic given ``random_state``.
    * **Curvature.** ``H`` is the Hessian of the (user-weighted) mean
      training loss at the stage-one parameters (Eq. 7) for a linear model
      and its Gauss-Newton part for a network (``curvature="auto"``), plus
      ``damping`` (App. C has no damping; LiSSA needs a scale, estimated
      here). Eq. (7) assumes a positive-definite Hessian, i.e. a strict
      minimum; Gauss-Newton is positive semi-definite wherever stage one
      stopped. Each solve's residual is checked (``residual_threshold``).
    * **More than two groups.** Every pair of groups present in a cell gets
      its own term, i.e. the objective sums the squared gaps over all pairs
      (which equals ``G ×`` the squared deviations from the group mean); for
      two groups this is Eq. (14). A cell (group, label) without validation
      rows drops that group from that rate's terms.
    * **User weights.** With ``sample_weight=w`` stage one minimises
      ``Σ w_i ℓ_i`` and the re-weighted loss is ``Σ w_i (1/n + ε_i) ℓ_i``;
      ``sample_weight_`` is the factor on top of ``w``.
    * **Validation rows** are not trained on in stage one, and by default
      not in stage two either (``include_validation``).

    References
    ----------
    .. [1] Wang, Wu & He, "FairIF: Boosting Fairness in Deep Learning via
       Influence Functions with Validation Set Sensitive Attributes",
       WSDM 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from skfairnn import ERMClassifier, FairIFReweighter
    >>> from skfairnn.modules import LogisticRegressionModule
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4)).astype("float32")
    >>> y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    >>> A = np.where(rng.random(300) < 0.3, None, X[:, 1] > 0).astype(object)
    >>> est = ERMClassifier(LogisticRegressionModule, max_epochs=5, random_state=0)
    >>> weighter = FairIFReweighter(est, hessian="exact", random_state=0)
    >>> weighter.fit(X, y, sensitive_features=A).sample_weight_.shape
    (300,)
    """

    __metadata_request__fit = {"sensitive_features": True, "sample_weight": True}

    _parameter_constraints: dict = {
        "l2_weight": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions(set(SOLVERS))],
        "epsilon_optimizer": [StrOptions(set(EPSILON_OPTIMIZERS))],
        "epsilon_epochs": [Interval(Integral, 1, None, closed="left")],
        "epsilon_lr": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "epsilon_units": [StrOptions(set(EPSILON_UNITS))],
        "weight_bounds": ["array-like", None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "gumbel_temperature": [Interval(Real, 0, None, closed="neither")],
        "gumbel_samples": [Interval(Integral, 0, None, closed="left")],
        "hessian": [StrOptions(set(INVERSE_HVP_METHODS))],
        "curvature": [StrOptions({"auto", *CURVATURES})],
        "damping": [Interval(Real, 0, None, closed="left")],
        "lissa_depth": [Interval(Integral, 1, None, closed="left")],
        "lissa_repeats": [Interval(Integral, 1, None, closed="left")],
        "lissa_batch_size": [Interval(Integral, 1, None, closed="left")],
        "lissa_scale": [Interval(Real, 0, None, closed="neither"), None],
        "influence_layers": [Interval(Integral, 1, None, closed="left"), None],
        "include_validation": ["boolean"],
        "chunk_size": [Interval(Integral, 1, None, closed="left")],
        "residual_threshold": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        l2_weight=0.1,
        solver="closed_form",
        epsilon_optimizer="sgd",
        epsilon_epochs=600,
        epsilon_lr="auto",
        epsilon_units="paper",
        weight_bounds=None,
        validation_fraction=0.2,
        gumbel_temperature=1.0,
        gumbel_samples=10,
        hessian="lissa",
        curvature="auto",
        damping=0.01,
        lissa_depth=300,
        lissa_repeats=1,
        lissa_batch_size=256,
        lissa_scale=None,
        influence_layers=None,
        include_validation=False,
        chunk_size=8192,
        residual_threshold=RESIDUAL_THRESHOLD,
        random_state=None,
    ):
        self.estimator = estimator
        self.l2_weight = l2_weight
        self.solver = solver
        self.epsilon_optimizer = epsilon_optimizer
        self.epsilon_epochs = epsilon_epochs
        self.epsilon_lr = epsilon_lr
        self.epsilon_units = epsilon_units
        self.weight_bounds = weight_bounds
        self.validation_fraction = validation_fraction
        self.gumbel_temperature = gumbel_temperature
        self.gumbel_samples = gumbel_samples
        self.hessian = hessian
        self.curvature = curvature
        self.damping = damping
        self.lissa_depth = lissa_depth
        self.lissa_repeats = lissa_repeats
        self.lissa_batch_size = lissa_batch_size
        self.lissa_scale = lissa_scale
        self.influence_layers = influence_layers
        self.include_validation = include_validation
        self.chunk_size = chunk_size
        self.residual_threshold = residual_threshold
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, *, sensitive_features=None, sample_weight=None):
        """Train the stage-one model and compute ``sample_weight_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs of training and validation rows.
        y : array-like of shape (n_samples,)
            Binary labels.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
            Group of each row; NaN/None marks a training row without a known
            group. Rows with a known group form the validation set (if all
            are known, ``validation_fraction`` of them do).
        sample_weight : array-like of shape (n_samples,), default=None
            User weights of the training loss.

        Returns
        -------
        self

        Warns
        -----
        InfluenceSolveWarning
            If the inverse-HVP solve is unreliable (``residual_threshold``).
        """
        validate_parameter_constraints(
            self._parameter_constraints, self.get_params(deep=False), caller_name="FairIFReweighter"
        )
        self._check_solver()
        if sensitive_features is None:
            raise ValueError(_MSG_NO_GROUPS)
        n_samples = len(y)
        target_type = type_of_target(y)
        if target_type != "binary":
            raise ValueError(f"FairIFReweighter supports binary y only; got {target_type} y.")
        groups = encode_sensitive_features(
            sensitive_features, n_samples=n_samples, allow_missing=True
        )
        validation = self._validation_mask(groups.codes, groups.labels, np.asarray(y))
        weights = check_sample_weight(sample_weight, n_samples)
        train_rows = np.flatnonzero(~validation)
        estimator = self._fit_stage_one(X, y, train_rows, weights, sample_weight is not None)
        influence = self._gap_influence(estimator, X, y, groups, validation, weights)
        self._set_weights(influence, validation, groups.labels, n_samples)
        return self

    def _check_solver(self) -> None:
        check_weight_bounds(self.weight_bounds)
        if self.solver == "closed_form" and self.weight_bounds is not None:
            raise ValueError(
                "weight_bounds needs solver='gradient_descent' (the closed form of Eq. 14 "
                f"is unconstrained); got weight_bounds={self.weight_bounds!r} with "
                "solver='closed_form'."
            )

    def solve_epsilon(self, gaps: np.ndarray, influence: np.ndarray, l2_weight: float):
        """``ε`` of Eq. (14) for these gaps and influences by this weighter's ``solver``.

        Parameters
        ----------
        gaps : ndarray of shape (M,)
            Relaxed validation gaps (e.g. ``validation_gaps_``).
        influence : ndarray of shape (n_train, M)
            Influence of each training row's ``ε_i`` (e.g. ``gap_influence_``).
        l2_weight : float
            ``λ`` of Eq. (14).

        Returns
        -------
        epsilon : ndarray of shape (n_train,)
        lr : float or None
            The descent's step size (``None`` for the closed form).
        """
        return fairif_epsilon(
            gaps,
            influence,
            l2_weight,
            solver=self.solver,
            optimizer=self.epsilon_optimizer,
            epochs=self.epsilon_epochs,
            lr=self.epsilon_lr,
            units=self.epsilon_units,
            weight_bounds=self.weight_bounds,
        )

    def _validation_mask(self, codes: np.ndarray, labels, y: np.ndarray) -> np.ndarray:
        known = codes != MISSING_CODE
        if not known.any():
            raise ValueError(_MSG_NO_KNOWN_GROUP.format(n=len(codes)))
        present = np.unique(codes[known])
        if len(present) < 2:
            raise ValueError(_MSG_ONE_GROUP.format(group=labels[present[0]]))
        if not known.all():
            return known
        rows = np.arange(len(codes))
        positive = y == np.unique(y)[-1]
        cells, _ = cell_codes(codes, positive, "equalized_odds", len(labels))
        for stratify in (cells, codes, None):
            try:
                _, held_out = train_test_split(
                    rows,
                    test_size=self.validation_fraction,
                    stratify=stratify,
                    random_state=self.random_state,
                )
                break
            except ValueError:
                continue
        mask = np.zeros(len(codes), dtype=bool)
        mask[held_out] = True
        return mask

    def _fit_stage_one(self, X, y, rows, weights, weighted: bool):
        from ..methods import ERMClassifier

        estimator = ERMClassifier() if self.estimator is None else clone(self.estimator)
        check_accepts_sample_weight(estimator, "FairIFReweighter")
        fit_params = {"sample_weight": weights[rows]} if weighted else {}
        estimator.fit(_safe_indexing(X, rows), _safe_indexing(y, rows), **fit_params)
        if not isinstance(getattr(estimator, "module_", None), torch.nn.Module):
            raise TypeError(_MSG_NOT_A_NET.format(estimator=type(estimator).__name__))
        self.estimator_ = estimator
        return estimator

    def _functional_model(self, estimator) -> FunctionalModel:
        module = estimator.module_
        names = None
        if self.influence_layers is not None:
            names = last_layer_parameters(module, self.influence_layers)
        return FunctionalModel(module, names)

    def _gap_influence(self, estimator, X, y, groups, validation, weights) -> GapInfluence:
        model = self._functional_model(estimator)
        X_all = check_array(X, dtype=np.float32, allow_nd=True)
        positive = np.asarray(y) == estimator.classes_[1]
        rng = check_random_state(self.random_state)
        train, val = ~validation, validation
        noise = logistic_noise(self.gumbel_samples, int(val.sum()), rng)
        return tpr_tnr_gap_influence(
            model,
            X_all[train],
            positive[train].astype(np.float32),
            X_all[val],
            positive[val].astype(np.int64),
            groups.codes[val],
            groups.n_groups,
            train_weights=weights[train] if not np.all(weights == 1) else None,
            noise=noise,
            temperature=self.gumbel_temperature,
            inverse_hvp_params={
                "method": self.hessian,
                "curvature": self.curvature,
                "damping": self.damping,
                "scale": self.lissa_scale,
                "depth": self.lissa_depth,
                "repeats": self.lissa_repeats,
                "batch_size": self.lissa_batch_size,
                "chunk_size": self.chunk_size,
                "random_state": rng,
            },
            chunk_size=self.chunk_size,
            residual_threshold=self.residual_threshold,
        )

    def _set_weights(self, influence: GapInfluence, validation, labels, n_samples: int):
        n_train = int((~validation).sum())
        epsilon, lr = self.solve_epsilon(influence.gaps, influence.influence, self.l2_weight)
        factor = np.clip(1.0 + n_train * epsilon, 0.0, None)
        if factor.sum() <= 0:
            raise FloatingPointError(
                "FairIF's solution gives every training row a negative weight; increase l2_weight."
            )
        weights = np.full(n_samples, 1.0 if self.include_validation else 0.0)
        weights[~validation] = factor
        self.sample_weight_ = weights
        self.validation_mask_ = validation
        self.epsilon_ = epsilon
        self.epsilon_lr_ = lr
        self.sensitive_groups_ = labels
        self.constraints_ = [(m, labels[g], labels[h]) for m, g, h in influence.constraints]
        self.validation_gaps_ = influence.gaps
        self.predicted_gaps_ = influence.predict((factor - 1.0) / n_train)
        self.gap_influence_ = influence.influence
        self.l2_weight_max_ = float(2 * np.linalg.norm(influence.influence @ influence.gaps))
        self.curvature_ = influence.curvature
        self.solve_residual_ = influence.solve_residual
        self.solve_rayleigh_ = influence.solve_rayleigh
