"""The hand rules on HASM masks: largest blob, minimum size, box, joint visibility."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.pipeline.masks import (
    clean_masks,
    joint_visibility,
    largest_component,
    mask_box,
    mask_score,
    present_hands,
)


def test_largest_component_keeps_the_biggest_8_connected_blob():
    mask = np.zeros((20, 30), bool)
    mask[2:5, 2:5] = True  # 9 px
    mask[10:16, 10:16] = True  # 36 px
    mask[16, 16] = True  # touches the big one diagonally: same blob
    kept = largest_component(mask)
    assert kept.sum() == 37 and kept[16, 16] and not kept[2:5, 2:5].any()
    assert not largest_component(np.zeros((4, 4), bool)).any()


def test_clean_masks_clears_small_hands_and_clips_visible_to_amodal():
    masks = np.zeros((4, 40, 40), bool)
    masks[0, 5:20, 5:20] = True  # right: 225 px
    masks[1, 5:20, 5:12] = masks[1, 5:20, 15:20] = True  # visible in two blobs: both kept
    masks[1, 30:35, 30:35] = True  # visible outside the amodal mask: dropped
    masks[2, 30:34, 30:34] = masks[3, 30:34, 30:34] = True  # left: 16 px
    out = clean_masks(masks, min_pixels=20)
    assert present_hands(out) == ("right",)
    assert not out[2].any() and not out[3].any()
    assert out[1].sum() == 15 * 7 + 15 * 5 and not out[1, 30:35, 30:35].any()
    assert present_hands(clean_masks(masks, min_pixels=16)) == ("right", "left")
    with pytest.raises(ValueError, match=r"\(4, H, W\)"):
        clean_masks(masks[:2])


def test_box_score_and_visibility():
    mask = np.zeros((10, 12), bool)
    mask[2:5, 3:9] = True
    assert mask_box(mask) == (3.0, 2.0, 6.0, 3.0)
    probabilities = np.where(mask, 0.8, 0.1)
    assert mask_score(probabilities, mask) == pytest.approx(0.8)
    assert mask_score(probabilities, np.zeros_like(mask)) == 0.0
    points = np.array([[3.0, 2.0], [8.4, 4.4], [9.0, 4.0], [-1.0, 3.0], [np.nan, 1.0]])
    np.testing.assert_array_equal(joint_visibility(points, mask), [True, True, False, False, False])
    with pytest.raises(ValueError, match="empty mask"):
        mask_box(np.zeros((3, 3), bool))
