# SPDX-License-Identifier: BSD-3-Clause
"""Synthetic data with controlled bias: tabular Gaussians and coloured digits.

Both generators introduce the three bias types of FairIF (Section 5 and 6.1 of [1]),
one at a time:

- ``"group_size"``: the groups differ in size, with equal class balance;
- ``"distribution_shift"``: groups and classes have equal sizes, but the class
  balance differs between groups (P(y=1 | A) depends on A);
- ``"class_size"``: groups have equal sizes and class balance, but one class is
  rarer than the other;
- ``"none"``: balanced groups and classes.

References
----------
.. [1] Wang, H., He, L., Gao, R. and Calmon, F. P. (2024). Fairness-aware training data
   reweighting with influence functions (FairIF). WSDM.
.. [2] Reddy, C., Sharma, D., Mehri, S., Romero-Soriano, A., Shabanian, S. and Honari,
   S. (2021). Benchmarking bias mitigation algorithms in representation learning
   through fairness metrics (CI-MNIST). NeurIPS Datasets and Benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import Bunch, check_random_state

__all__ = ["make_biased_classification", "make_colored_digits", "BIAS_TYPES"]

BIAS_TYPES = ("group_size", "distribution_shift", "class_size", "none")
BiasType = Literal["group_size", "distribution_shift", "class_size", "none"]
RandomStateLike = int | np.random.RandomState | None
Generated = tuple[np.ndarray, np.ndarray, np.ndarray] | Bunch

BIAS_MESSAGE = "bias must be one of {options}; got {bias!r}"
FRACTION_MESSAGE = "{name} must be in the open interval (0, 1); got {value!r}"


def _check_bias(bias: str) -> None:
    if bias not in BIAS_TYPES:
        options = ", ".join(repr(b) for b in BIAS_TYPES)
        raise ValueError(BIAS_MESSAGE.format(options=options, bias=bias))


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(FRACTION_MESSAGE.format(name=name, value=value))


# --------------------------------------------------------------------------------------
# Tabular data
# --------------------------------------------------------------------------------------


def _group_sizes(n_samples: int, n_groups: int, minority_fraction: float | None) -> np.ndarray:
    """Group 0 is the majority; the others share ``minority_fraction`` equally."""
    if minority_fraction is None:
        shares = np.full(n_groups, 1.0 / n_groups)
    else:
        shares = np.r_[1.0 - minority_fraction, np.full(n_groups - 1, minority_fraction)]
        shares[1:] /= n_groups - 1
    sizes = np.floor(shares * n_samples).astype(np.int64)
    sizes[0] += n_samples - sizes.sum()
    return sizes


def _positive_rates(
    bias: str, n_groups: int, group_positive_rates, positive_fraction: float
) -> np.ndarray:
    if bias == "distribution_shift":
        if group_positive_rates is None:
            return np.linspace(0.85, 0.15, n_groups)
        rates = np.asarray(group_positive_rates, dtype=float)
        if rates.shape != (n_groups,) or np.any((rates <= 0) | (rates >= 1)):
            raise ValueError(
                f"group_positive_rates must hold {n_groups} values in (0, 1) "
                f"(one per group); got {group_positive_rates!r}"
            )
        return rates
    if bias == "class_size":
        return np.full(n_groups, positive_fraction)
    return np.full(n_groups, 0.5)


def _class_directions(n_features: int, n_groups: int, group_shift: float, rng) -> np.ndarray:
    """Unit vectors w_a along which the classes of group a are separated."""
    n_majority = max(1, (n_features - 1) // 2)
    base = np.zeros(n_features)
    base[:n_majority] = 1.0 / np.sqrt(n_majority)
    directions = np.tile(base, (n_groups, 1))
    block = np.arange(n_majority, n_features - 1)  # features only minorities rely on
    for a in range(1, n_groups):
        if block.size == 0:
            break
        v = np.zeros(n_features)
        v[block] = rng.standard_normal(block.size)
        v /= np.linalg.norm(v)
        w = base + group_shift * v
        directions[a] = w / np.linalg.norm(w)
    return directions


def make_biased_classification(
    n_samples: int = 2000,
    n_features: int = 10,
    *,
    bias: BiasType = "group_size",
    n_groups: int = 2,
    minority_fraction: float = 0.15,
    group_positive_rates: Sequence[float] | np.ndarray | None = None,
    positive_fraction: float = 0.2,
    group_shift: float = 1.0,
    class_sep: float = 2.0,
    random_state: RandomStateLike = None,
    return_bunch: bool = False,
) -> Generated:
    """Generate tabular binary classification data on which plain training is unfair.

    Samples come in ``n_groups`` groups (the sensitive attribute ``A``); ``bias``
    selects one of the three bias types of FairIF [1]_ (group-size discrepancy, group
    distribution shift, class-size discrepancy) by setting the group and class
    sizes. In addition the groups differ in their feature distributions (see Notes),
    so that a classifier trained without a fairness term has clearly different
    true- and false-positive rates across groups.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of samples.
    n_features : int, default=10
        Number of features, at least 3.
    bias : {"group_size", "distribution_shift", "class_size", "none"}, \
            default="group_size"
        - ``"group_size"``: group 0 holds ``1 - minority_fraction`` of the samples,
          the other groups share ``minority_fraction``; every group has
          P(y=1) = 0.5.
        - ``"distribution_shift"``: equal group sizes; group ``a`` has
          P(y=1 | A=a) = ``group_positive_rates[a]`` (default evenly spaced from
          0.85 for group 0 down to 0.15 for the last group, so both classes stay
          equally large overall).
        - ``"class_size"``: equal group sizes; P(y=1) = ``positive_fraction`` in
          every group.
        - ``"none"``: equal group sizes and P(y=1) = 0.5 in every group.
    n_groups : int, default=2
        Number of groups, at least 2.
    minority_fraction : float, default=0.15
        Fraction of samples outside group 0 under ``bias="group_size"`` (FairIF's
        CI-MNIST setting: 15%). Ignored otherwise.
    group_positive_rates : array-like of shape (n_groups,), default=None
        P(y=1 | A=a) under ``bias="distribution_shift"``. Ignored otherwise.
    positive_fraction : float, default=0.2
        P(y=1) under ``bias="class_size"`` (FairIF: class 1 is 25% of class 0, i.e.
        0.2). Ignored otherwise.
    group_shift : float, default=1.0
        How much the feature distribution of groups ``a >= 1`` departs from group 0
        (see Notes). With 0 the features depend on the label only, and A matters
        only through the sizes set by ``bias``.
    class_sep : float, default=2.0
        Distance between the two class means along each group's class direction.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.
    return_bunch : bool, default=False
        If True, return a Bunch instead of a tuple.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
        Features.
    y : ndarray of shape (n_samples,), dtype int64
        Labels, 0 or 1.
    A : ndarray of shape (n_samples,), dtype int64
        Group of each sample, ``0 .. n_groups - 1``; group 0 is the majority under
        ``bias="group_size"``.

    If ``return_bunch`` is True, a :class:`~sklearn.utils.Bunch` with ``data``,
    ``target``, ``sensitive_features``, ``class_directions`` (the unit vectors
    :math:`w_a`, shape (n_groups, n_features)) and ``DESCR`` instead.

    Notes
    -----
    Group sizes and per-group class counts are exact (rounded down, remainders to
    group 0 and class 0); rows are then shuffled. Given its group :math:`a` and
    label :math:`y`, a sample is

    .. math::

        x = z + \\left(y - \\tfrac12\\right) c\\, w_a + s\\, \\tfrac{a}{G-1}
        \\left(e_{d} - \\tfrac{c}{2}\\, w_0\\right), \\qquad z \\sim N(0, I_d),

    with :math:`c` = ``class_sep``, :math:`s` = ``group_shift``, :math:`G` =
    ``n_groups`` and :math:`e_d` the last feature. The features are laid out as

    - ``0 .. k-1`` with :math:`k = \\max(1, \\lfloor (d-1)/2 \\rfloor)`: the class
      direction of group 0, :math:`w_0 = (1, \\dots, 1, 0, \\dots, 0)/\\sqrt{k}`;
    - ``k .. d-2``: directions only the other groups use; for :math:`a \\ge 1`,
      :math:`w_a \\propto w_0 + s\\, v_a` with :math:`v_a` a random unit vector on
      these features;
    - ``d-1``: a noisy proxy of the group (mean shifted by :math:`s\\, a/(G-1)`).

    Groups :math:`a \\ge 1` are the disadvantaged ones: they separate their classes
    along a tilted direction and are shifted by half the class separation towards
    the negative side of group 0's boundary, so a model fitted mostly to group 0
    gives them lower true- and false-positive rates. Under ``"distribution_shift"``
    they also have fewer positives, which a model picks up through the proxy
    feature, widening the gap. With the default parameters and 2,000 samples a
    logistic regression has a true-positive-rate gap of about 0.3 (at least 0.15
    over seeds) between groups 0 and 1 under each of the three bias types, and about
    0.15 under ``"none"``; pass ``group_shift=0`` for data whose only bias is the
    one ``bias`` sets.

    References
    ----------
    .. [1] Wang, H., He, L., Gao, R. and Calmon, F. P. (2024). Fairness-aware training
       data reweighting with influence functions. WSDM, Sections 5 and 6.1.

    Examples
    --------
    >>> from skfairnn.datasets import make_biased_classification
    >>> X, y, A = make_biased_classification(1000, bias="group_size", random_state=0)
    >>> X.shape, float(A.mean())
    ((1000, 10), 0.15)
    """
    _check_bias(bias)
    if n_features < 3:
        raise ValueError(f"n_features must be at least 3; got {n_features!r}")
    if n_groups < 2:
        raise ValueError(f"n_groups must be at least 2; got {n_groups!r}")
    _check_fraction("minority_fraction", minority_fraction)
    _check_fraction("positive_fraction", positive_fraction)
    rng = check_random_state(random_state)

    sizes = _group_sizes(n_samples, n_groups, minority_fraction if bias == "group_size" else None)
    rates = _positive_rates(bias, n_groups, group_positive_rates, positive_fraction)
    A = np.repeat(np.arange(n_groups), sizes)
    y = np.concatenate([np.arange(n) < int(r * n) for n, r in zip(sizes, rates)]).astype(np.int64)

    directions = _class_directions(n_features, n_groups, group_shift, rng)
    level = A / (n_groups - 1)
    offset = np.zeros(n_features)
    offset[-1] = 1.0
    offset = offset - 0.5 * class_sep * directions[0]
    X = rng.standard_normal((n_samples, n_features))
    X += (y - 0.5)[:, None] * class_sep * directions[A]
    X += group_shift * level[:, None] * offset

    order = rng.permutation(n_samples)
    X, y, A = X[order], y[order], A[order]
    if not return_bunch:
        return X, y, A
    return Bunch(
        data=X,
        target=y,
        sensitive_features=A,
        class_directions=directions,
        DESCR=make_biased_classification.__doc__,
    )


# --------------------------------------------------------------------------------------
# Coloured digits (CI-MNIST on scikit-learn's 8x8 digits)
# --------------------------------------------------------------------------------------

# (beta_1, beta_2, class_beta_1, class_beta_2) per bias type; None = keep every image.
_DIGIT_PRESETS = {
    "none": (0.5, 0.5, None, None),
    "group_size": (0.15, 0.15, None, None),
    "distribution_shift": (0.85, 0.15, None, None),
    "class_size": (0.5, 0.5, 0.2, 0.8),
}
_BLUE, _RED = 0, 1


def _class_counts(n_even: int, n_odd: int, class_beta_1, class_beta_2) -> tuple[int, int]:
    """Largest (even, odd) counts available in the ratio class_beta_1 : class_beta_2."""
    if class_beta_1 is None and class_beta_2 is None:
        return n_even, n_odd
    if class_beta_1 is None or class_beta_2 is None:
        raise ValueError(
            "class_beta_1 and class_beta_2 must be given together; got "
            f"class_beta_1={class_beta_1!r}, class_beta_2={class_beta_2!r}"
        )
    _check_fraction("class_beta_1", class_beta_1)
    _check_fraction("class_beta_2", class_beta_2)
    ratio = class_beta_1 / class_beta_2  # n_even / n_odd
    n_odd_kept = min(n_odd, int(n_even / ratio))
    return min(n_even, int(round(n_odd_kept * ratio))), n_odd_kept


def _select_and_colour(labels, counts, betas, rng) -> tuple[np.ndarray, np.ndarray]:
    """Pick ``counts[y]`` images of each label and colour ``round(beta * n)`` of them red."""
    index, colour = [], []
    for label, (n_kept, beta) in enumerate(zip(counts, betas)):
        chosen = rng.permutation(np.flatnonzero(labels == label))[:n_kept]
        red = np.arange(n_kept) < int(round(beta * n_kept))
        index.append(chosen)
        colour.append(np.where(red, _RED, _BLUE))
    index, colour = np.concatenate(index), np.concatenate(colour)
    order = rng.permutation(len(index))
    return index[order], colour[order]


def _render(strokes: np.ndarray, colour: np.ndarray, rng) -> np.ndarray:
    """Blend a white-ish stroke over a shaded blue or red background, CI-MNIST style.

    ``strokes`` holds intensities in [0, 1], shape (n, H, W). Background channels are
    drawn per pixel from U(0.9, 1) for the dominant channel (blue or red) and U(0, 0.1)
    for the two others; the stroke from U(0.9, 1) in every channel.
    """
    n, height, width = strokes.shape
    background = rng.uniform(0.0, 0.1, size=(n, 3, height, width))
    dominant = np.where(colour == _RED, 0, 2)  # channel 0 = red, 2 = blue
    background[np.arange(n), dominant] = rng.uniform(0.9, 1.0, size=(n, height, width))
    stroke = rng.uniform(0.9, 1.0, size=(n, 3, height, width))
    alpha = strokes[:, None]
    return (alpha * stroke + (1.0 - alpha) * background).astype(np.float32)


def make_colored_digits(
    *,
    bias: BiasType = "group_size",
    beta_1: float | None = None,
    beta_2: float | None = None,
    class_beta_1: float | None = None,
    class_beta_2: float | None = None,
    image_size: int = 8,
    random_state: RandomStateLike = None,
    flatten: bool = False,
    return_bunch: bool = False,
) -> Generated:
    """Generate coloured digit images with controlled bias (CI-MNIST on 8x8 digits).

    A small, download-free version of the CI-MNIST benchmark [2]_ used by FairIF
    [1]_ (Section 6.1, Appendix E, Table 7): scikit-learn's 1,797 ``load_digits``
    images, labelled even (y=1) or odd (y=0), drawn as a white stroke on a blue
    (A=0) or red (A=1) background. The background colour is the sensitive attribute,
    and the bias settings control how it relates to the label.

    Parameters
    ----------
    bias : {"group_size", "distribution_shift", "class_size", "none"}, \
            default="group_size"
        Preset for the four ``beta`` parameters, after FairIF's ``run.sh`` and
        Table 7 (explicit values override the preset):

        ==================== ======= ======= ============= =============
        bias                 beta_1  beta_2  class_beta_1  class_beta_2
        ==================== ======= ======= ============= =============
        "group_size"         0.15    0.15    --            --
        "distribution_shift" 0.85    0.15    --            --
        "class_size"         0.5     0.5     0.2           0.8
        "none"               0.5     0.5     --            --
        ==================== ======= ======= ============= =============

        ``--`` keeps every image (about 50% even).
    beta_1 : float, default=None
        Fraction of the **even** (y=1) images drawn on a red background,
        P(A=1 | y=1).
    beta_2 : float, default=None
        Fraction of the **odd** (y=0) images drawn on a red background,
        P(A=1 | y=0).
    class_beta_1, class_beta_2 : float, default=None
        Relative shares of the even and odd classes: images are subsampled so that
        ``n_even / n_odd = class_beta_1 / class_beta_2``, keeping as many images as
        possible. Give both or neither; None keeps every image.
    image_size : int, default=8
        Side of the returned images, a multiple of 8; each pixel of the 8x8 digit
        becomes an ``image_size // 8`` square (``np.kron``), so 32 gives CNN-sized
        inputs.
    random_state : int, RandomState instance or None, default=None
        Seed for the subsampling, the colour assignment and the colour shading.
    flatten : bool, default=False
        If True, return images as vectors of length ``3 * image_size**2``.
    return_bunch : bool, default=False
        If True, return a Bunch instead of a tuple.

    Returns
    -------
    X : ndarray of shape (n_samples, 3, image_size, image_size), dtype float32
        RGB images in [0, 1] (channels first); shape
        ``(n_samples, 3 * image_size**2)`` if ``flatten``.
    y : ndarray of shape (n_samples,), dtype int64
        1 for an even digit, 0 for an odd digit.
    A : ndarray of shape (n_samples,), dtype int64
        Background colour: 0 blue, 1 red.

    If ``return_bunch`` is True, a :class:`~sklearn.utils.Bunch` with ``data``,
    ``target``, ``sensitive_features``, ``digit`` (the original digit, 0-9) and
    ``DESCR`` instead.

    Notes
    -----
    **Reading of the beta parameters.** FairIF's code is not public; its ``run.sh``
    passes ``--beta_1 0.15 --beta_2 0.15`` (group-size bias), ``--beta_1 0.85
    --beta_2 0.15`` (distribution shift) and ``--class_beta_1 0.2 --class_beta_2
    0.8`` (class size). Table 7 of [1]_ fixes their meaning: with group-size bias,
    15% of both odd (5,337 of 35,582) and even (5,161 of 34,418) images are red;
    with distribution shift, 15% of odd and 85% of even images are red; with
    class-size bias the even class is 25% the size of the odd one (0.2 / 0.8) with
    half of each class red. So ``beta_1`` = P(red | even), ``beta_2`` = P(red | odd),
    and ``class_beta_1 : class_beta_2`` = n_even : n_odd. (The original CI-MNIST code
    [2]_ parametrises the same thing as ``clr_ratio`` = the fraction of *blue*
    backgrounds per class, i.e. ``1 - beta``.) Labels follow CI-MNIST and FairIF:
    y=1 for even, y=0 for odd.

    Counts are exact: ``round(beta * n)`` images of each class are red. The images
    are 8x8 digits rather than MNIST's 28x28 (padded to 32x32 in CI-MNIST); the
    shading (background channel U(0.9, 1), other channels U(0, 0.1), white stroke)
    follows CI-MNIST, with the stroke alpha-blended by the digit's grey level.

    References
    ----------
    .. [1] Wang, H., He, L., Gao, R. and Calmon, F. P. (2024). Fairness-aware training
       data reweighting with influence functions. WSDM.
    .. [2] Reddy, C. et al. (2021). Benchmarking bias mitigation algorithms in
       representation learning through fairness metrics. NeurIPS Datasets and
       Benchmarks.

    Examples
    --------
    >>> from skfairnn.datasets import make_colored_digits
    >>> X, y, A = make_colored_digits(bias="distribution_shift", random_state=0)
    >>> X.shape, X.dtype
    ((1797, 3, 8, 8), dtype('float32'))
    >>> round(float(A[y == 1].mean()), 2), round(float(A[y == 0].mean()), 2)
    (0.85, 0.15)
    """
    _check_bias(bias)
    if image_size < 8 or image_size % 8:
        raise ValueError(f"image_size must be a positive multiple of 8; got {image_size!r}")
    preset = _DIGIT_PRESETS[bias]
    beta_1 = preset[0] if beta_1 is None else beta_1
    beta_2 = preset[1] if beta_2 is None else beta_2
    for name, value in (("beta_1", beta_1), ("beta_2", beta_2)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1]; got {value!r}")
    if class_beta_1 is None and class_beta_2 is None:
        class_beta_1, class_beta_2 = preset[2], preset[3]
    rng = check_random_state(random_state)

    digits = load_digits()
    labels = (digits.target % 2 == 0).astype(np.int64)  # 1 = even, 0 = odd
    n_even, n_odd = _class_counts(
        int(labels.sum()), int((1 - labels).sum()), class_beta_1, class_beta_2
    )
    index, A = _select_and_colour(labels, (n_odd, n_even), (beta_2, beta_1), rng)

    scale = image_size // 8
    strokes = digits.images[index] / 16.0
    strokes = np.kron(strokes, np.ones((1, scale, scale)))
    X = _render(strokes, A, rng)
    if flatten:
        X = X.reshape(len(X), -1)
    y = labels[index]
    if not return_bunch:
        return X, y, A.astype(np.int64)
    return Bunch(
        data=X,
        target=y,
        sensitive_features=A.astype(np.int64),
        digit=digits.target[index],
        DESCR=make_colored_digits.__doc__,
    )
