# SPDX-License-Identifier: BSD-3-Clause
"""skfairnn.utils._validation.check_sample_weight: the one sample-weight validator."""

import numpy as np
import pandas as pd
import pytest
import torch

from skfairnn.utils._validation import check_sample_weight


def test_none_is_ones_of_the_requested_dtype():
    weight = check_sample_weight(None, 3, dtype=np.float32)
    assert weight.dtype == np.float32
    np.testing.assert_array_equal(weight, [1, 1, 1])


def test_normalised_to_mean_one_over_the_rows_of_positive_weight():
    weight = check_sample_weight([0.0, 2.0, 4.0, 0.0], 4)
    np.testing.assert_allclose(weight, [0.0, 2 / 3, 4 / 3, 0.0])
    raw = check_sample_weight(pd.Series([0.0, 2.0, 4.0, 0.0]), 4, normalize=False)
    np.testing.assert_array_equal(raw, [0.0, 2.0, 4.0, 0.0])
    assert check_sample_weight(torch.tensor([1.0, 3.0]), 2, normalize=False).tolist() == [1, 3]


def test_never_returns_the_users_array():
    user = np.array([1.0, 2.0])
    check_sample_weight(user, 2, normalize=False)[0] = 5.0
    assert user[0] == 1.0


@pytest.mark.parametrize(
    "weight, match",
    [
        ([1.0, 1.0], r"sample_weight must have shape \(3,\); got \(2,\)"),
        ([[1.0], [1.0], [1.0]], r"sample_weight must have shape \(3,\)"),
        ([1.0, np.nan, 1.0], "sample_weight must be finite and non-negative; got NaN"),
        ([1.0, np.inf, 1.0], "sample_weight must be finite"),
        ([1.0, -0.5, 1.0], "non-negative; got minimum -0.5"),
        ([0.0, 0.0, 0.0], "sample_weight sums to zero"),
        (["a", "b", "c"], "sample_weight must be numeric"),
    ],
)
def test_bad_weights_name_sample_weight(weight, match):
    with pytest.raises(ValueError, match=match):
        check_sample_weight(weight, 3)
