import numpy as np
import pytest

from handhdr.datasets.subsets import root_validated, subset_mask


def test_root_rule_removes_hands_with_invalid_wrist():
    valid = np.ones((2, 42), bool)
    valid[0, 20] = False  # right wrist invalid -> whole right hand invalid
    out = root_validated(valid)
    assert out[0, :21].sum() == 0 and out[0, 21:].all()
    assert out[1].all()
    assert valid[0, :20].all()  # input untouched


def test_subsets_by_hand_type_and_inter_threshold():
    hand_type = np.array(["right", "left", "interacting", "interacting", "interacting"])
    valid = np.ones((5, 42), bool)
    valid[3, 21:32] = False  # 42 - 11 = 31 valid -> still Inter (> 30)
    valid[4, 21:33] = False  # 30 valid -> not Inter
    assert subset_mask("SH", hand_type, valid).tolist() == [1, 1, 0, 0, 0]
    assert subset_mask("IH", hand_type, valid).tolist() == [0, 0, 1, 1, 1]
    assert subset_mask("Inter", hand_type, valid).tolist() == [0, 0, 1, 1, 0]
    assert subset_mask("ALL", hand_type, valid).all()
    valid[2, 41] = False  # left wrist invalid: only 21 joints survive the root rule
    assert not subset_mask("Inter", hand_type, valid)[2]
    with pytest.raises(ValueError, match="unknown subset"):
        subset_mask("XX", hand_type, valid)
