import numpy as np
import pytest

from handhdr.hdrm.data import crop_hand, crop_regions


def _scene():
    h, w = 40, 60
    image = np.zeros((h, w, 3), np.uint8)
    image[..., 0] = np.arange(w, dtype=np.uint8)[None, :] * 4  # a horizontal ramp
    masks = np.zeros((4, h, w), bool)
    masks[0, 10:26, 10:26] = True  # right amodal, 16 x 16
    masks[2, 14:30, 20:36] = True  # left amodal, 16 x 16, on top
    masks[1] = masks[0] & ~masks[2]
    masks[3] = masks[2]
    return image, masks


def test_right_crop_orders_masks_target_first():
    image, masks = _scene()
    crop = crop_hand(image, masks, "right", resolution=32, scale=2.0)
    assert crop.box.side == 32 and not crop.box.flip
    # 32 px box at 32 px resolution: an exact shift by (x0, y0) = (2, 2)
    np.testing.assert_array_equal(crop.image, image[2:34, 2:34][:32, :32])
    np.testing.assert_array_equal(crop.masks, masks[:, 2:34, 2:34])
    m_d, m_r = crop.regions()
    np.testing.assert_array_equal(m_d, (masks[0] & masks[2])[2:34, 2:34])
    np.testing.assert_array_equal(m_r, (masks[2] & ~masks[0])[2:34, 2:34])


def test_left_crop_is_mirrored_with_the_left_hand_as_target():
    image, masks = _scene()
    crop = crop_hand(image, masks, "left", resolution=32, target=image)
    assert crop.box.flip
    window = (slice(6, 38), slice(12, 44))  # centre (27.5, 21.5), side 32
    np.testing.assert_array_equal(crop.image, image[window][:, ::-1])
    np.testing.assert_array_equal(crop.target, crop.image)
    order = [2, 3, 0, 1]  # left amodal, left visible, right amodal, right visible
    np.testing.assert_array_equal(crop.masks, masks[order][:, window[0], window[1]][:, :, ::-1])
    m_d, _ = crop.regions()
    assert not m_d.any()  # the left hand is on top: nothing hidden


def test_absent_hand_and_bad_input():
    image, masks = _scene()
    masks[2:] = False
    assert crop_hand(image, masks, "left", 32) is None
    with pytest.raises(ValueError, match="hand must be"):
        crop_hand(image, masks, "both", 32)
    with pytest.raises(ValueError, match=r"\(4, H, W\)"):
        crop_hand(image, masks[:3], "right", 32)


def test_crop_regions_on_batches():
    masks = np.zeros((2, 4, 1, 3), bool)
    masks[:, 0, 0, :2] = True  # target amodal
    masks[:, 1, 0, 0] = True  # target visible
    masks[:, 3, 0, 1:] = True  # distractor visible
    m_d, m_r = crop_regions(masks)
    np.testing.assert_array_equal(m_d[:, 0], [[False, True, False]] * 2)
    np.testing.assert_array_equal(m_r[:, 0], [[False, False, True]] * 2)
