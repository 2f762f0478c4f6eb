# SPDX-License-Identifier: BSD-3-Clause
import numpy as np
import pandas as pd
import pytest
import torch

from skfairnn.groups import check_at_least_two_groups, encode_sensitive_features


def test_strings_are_encoded_in_sorted_order():
    groups = encode_sensitive_features(["b", "a", "c", "a"])
    assert groups.labels.tolist() == ["a", "b", "c"]
    assert groups.codes.tolist() == [1, 0, 2, 0]


def test_two_columns_give_intersectional_groups():
    frame = pd.DataFrame({"sex": ["F", "M", "F", "M"], "race": ["b", "b", "w", "b"]})
    groups = encode_sensitive_features(frame)
    assert groups.labels.tolist() == ["F,b", "F,w", "M,b"]
    assert groups.codes.tolist() == [0, 2, 1, 2]


def test_commas_in_values_are_escaped():
    groups = encode_sensitive_features(np.array([["a,b", "c"], ["a", "b,c"]], dtype=object))
    assert groups.n_groups == 2


def test_series_tensor_and_int_inputs():
    assert encode_sensitive_features(pd.Series([3, 1, 3])).codes.tolist() == [1, 0, 1]
    assert encode_sensitive_features(torch.tensor([0, 1, 1])).codes.tolist() == [0, 1, 1]


def test_missing_values_raise_unless_allowed():
    with pytest.raises(ValueError, match="sensitive_features contains 1 missing"):
        encode_sensitive_features(["a", None, "b"])
    groups = encode_sensitive_features(np.array([1.0, np.nan, 0.0]), allow_missing=True)
    assert groups.codes.tolist() == [1, -1, 0]


def test_length_mismatch_names_argument():
    with pytest.raises(ValueError, match="sensitive_features has 2 rows but X has 3"):
        encode_sensitive_features([0, 1], n_samples=3)


def test_unseen_group_with_known_labels():
    known = encode_sensitive_features(["a", "b"]).labels
    with pytest.raises(ValueError, match="not seen during fit"):
        encode_sensitive_features(["a", "z"], labels=known)


def test_single_group_is_rejected():
    with pytest.raises(ValueError, match="single group"):
        check_at_least_two_groups(encode_sensitive_features(["a", "a"]))


def test_scalar_and_3d_inputs_rejected():
    with pytest.raises(TypeError, match="sensitive_features"):
        encode_sensitive_features(3)
    with pytest.raises(ValueError, match="1-D or 2-D"):
        encode_sensitive_features(np.zeros((2, 2, 2)))
