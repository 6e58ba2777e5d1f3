"""Right-hand crops: the left-hand mirror (image, 2D, 3D) and the way back."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.crop import CropBox
from handhdr.joints import HAND_SLICES, WRIST, mirror_x
from handhdr.shpe.hands import crop_hand, from_right_hand, hand_box, to_right_hand


@pytest.fixture(scope="module")
def left_sample(sh_root):
    from handhdr.datasets.interhand import InterHandDataset

    dataset = InterHandDataset(sh_root, "test")
    row = int(np.flatnonzero(dataset.hand_types == "left")[0])
    return dataset[row]


def test_left_crop_is_the_mirror_of_the_unflipped_crop(left_sample):
    crop = crop_hand(left_sample, "left", 48)
    assert crop is not None and crop.box.flip and crop.box_source == "amodal_mask"
    plain = CropBox(crop.box.center, crop.box.side, crop.box.resolution, flip=False)
    from handhdr.crop import crop_image

    np.testing.assert_array_equal(crop.image, crop_image(left_sample.image, plain)[:, ::-1])
    sl = HAND_SLICES["left"]
    # 2D: u -> S - 1 - u relative to the unflipped crop; v unchanged
    unflipped = plain.to_crop(left_sample.joints_img[sl])
    np.testing.assert_allclose(crop.joints_2d[:, 0], 47 - unflipped[:, 0], atol=1e-4)
    np.testing.assert_allclose(crop.joints_2d[:, 1], unflipped[:, 1], atol=1e-4)
    # 3D: wrist-relative, x -> -x
    rooted = left_sample.joints_cam[sl] - left_sample.joints_cam[sl][WRIST]
    np.testing.assert_allclose(crop.joints_3d, mirror_x(rooted), atol=1e-3)


def test_flip_and_back(left_sample):
    sl = HAND_SLICES["left"]
    for hand in ("left", "right"):
        box, _ = hand_box(left_sample, "left", 64)
        box = CropBox(box.center, box.side, 64, flip=hand == "left")
        joints_2d, joints_3d = to_right_hand(
            left_sample.joints_img[sl], left_sample.joints_cam[sl], box, hand
        )
        image_2d, own_3d = from_right_hand(joints_2d, joints_3d, box, hand)
        np.testing.assert_allclose(image_2d, left_sample.joints_img[sl], atol=1e-3)
        rooted = left_sample.joints_cam[sl] - left_sample.joints_cam[sl][WRIST]
        np.testing.assert_allclose(own_3d, rooted, atol=1e-3)


def test_a_left_hand_becomes_a_right_hand_in_3d():
    """Mirroring a left hand gives a hand whose palm orientation is a right hand's:
    the sign of the triple product (index MCP, pinky MCP, middle tip) flips."""

    def chirality(j: np.ndarray) -> float:
        a, b, c = j[7] - j[20], j[19] - j[20], j[8] - j[20]  # index 1, pinky 1, middle 4
        return float(np.dot(np.cross(a, b), c))

    rng = np.random.default_rng(0)
    joints = rng.normal(0, 40, (21, 3))
    box = CropBox((50.0, 50.0), 80.0, 32, flip=True)
    _, mirrored = to_right_hand(rng.uniform(0, 99, (21, 2)), joints, box, "left")
    assert np.sign(chirality(mirrored)) == -np.sign(chirality(joints))


def test_box_falls_back_to_joints_without_masks(left_sample):
    from dataclasses import replace

    no_masks = replace(left_sample, masks=None)
    box, source = hand_box(no_masks, "left", 32)
    assert source == "joints" and box is not None and box.flip
    sl = HAND_SLICES["left"]
    points = left_sample.joints_img[sl][left_sample.joint_valid[sl]]
    extent = (points.max(axis=0) - points.min(axis=0)).max()
    assert box.side == pytest.approx(2 * max(extent, 8.0))
    empty = replace(left_sample, masks=np.zeros_like(left_sample.masks))
    assert hand_box(empty, "left", 32)[1] == "joints"
    with pytest.raises(ValueError, match="hand must be"):
        hand_box(left_sample, "both", 32)
