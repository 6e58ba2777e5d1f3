import cv2
import numpy as np
import pytest

from handhdr.camera import intrinsics_matrix
from handhdr.datasets.interhand_format import random_hand_joints
from handhdr.synth.copy_paste import (
    HandImage,
    PasteParams,
    compose,
    flip_hand_image,
    occlusion_of,
)

SIZE = (160, 120)


def _project(joints, k):
    return (joints @ k.T)[:, :2] / joints[:, 2:3]


def _hand_image(seed, side, depth=700.0, with_background=True):
    rng = np.random.default_rng(seed)
    k = intrinsics_matrix(np.array([180.0, 180.0]), np.array([79.5 + seed, 59.5]))
    joints = random_hand_joints(rng, side) + [rng.uniform(-20, 20), -40.0, depth]
    background = rng.integers(0, 255, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
    mask = np.zeros(SIZE[::-1], np.uint8)
    for u, v in _project(joints, k):
        cv2.circle(mask, (int(round(u)), int(round(v))), 5, 1, -1)
    image = background.copy()
    image[mask.astype(bool)] = (200, 150, 120) if side == "right" else (190, 140, 110)
    return HandImage(
        image=image,
        amodal=mask.astype(bool),
        side=side,
        intrinsics=k,
        joints_cam=joints,
        background=background if with_background else None,
    )


def _params(scale=1.0, angle=20.0, target=(90.0, 70.0)):
    return PasteParams(scale, angle, target, (1.1, 0.95, 1.0), 5.0)


def test_scale_one_is_exact_and_the_wrist_lands_where_asked():
    target, distractor = _hand_image(0, "right"), _hand_image(1, "left")
    out = compose(target, distractor, _params(scale=1.0))
    assert out.reprojection_px < 1e-6
    wrist = _project(out.joints_cam["left"][20:21], target.intrinsics)[0]
    np.testing.assert_allclose(wrist, (90.0, 70.0), atol=1e-6)
    # rigid: bone lengths are kept
    before = np.linalg.norm(np.diff(distractor.joints_cam, axis=0), axis=1)
    after = np.linalg.norm(np.diff(out.joints_cam["left"], axis=0), axis=1)
    np.testing.assert_allclose(after, before, atol=1e-9)
    rotation, translation = out.motion
    np.testing.assert_allclose(
        distractor.joints_cam @ rotation.T + translation, out.joints_cam["left"], atol=1e-9
    )


def test_magnification_moves_the_hand_along_its_ray_almost_exactly():
    target, distractor = _hand_image(0, "right"), _hand_image(1, "left")
    out = compose(target, distractor, _params(scale=1.25))
    assert 1e-3 < out.reprojection_px < 3.0
    wrist = out.joints_cam["left"][20]
    # the wrist moved along its ray (the camera rotation keeps distances to the camera)
    assert np.linalg.norm(wrist) == pytest.approx(np.linalg.norm(distractor.joints_cam[20]) / 1.25)


def test_masks_image_and_ground_truth_follow_the_paste_equation():
    target, distractor = _hand_image(0, "right"), _hand_image(1, "left")
    out = compose(target, distractor, _params(target=(70.0, 60.0)))
    ra, rv, la, lv = out.masks
    cover = la
    assert cover.any() and (ra & cover).any()  # the hands overlap
    np.testing.assert_array_equal(rv, ra & ~cover)
    np.testing.assert_array_equal(lv, la)
    assert not (rv & lv).any() and not (rv & ~ra).any()
    np.testing.assert_array_equal(out.image[~cover], target.image[~cover])
    np.testing.assert_array_equal(out.hdr_gt["right"], target.image)
    np.testing.assert_array_equal(out.hdr_gt["left"][cover], out.image[cover])
    removed = ra & ~cover
    np.testing.assert_array_equal(out.hdr_gt["left"][removed], target.background[removed])
    np.testing.assert_array_equal(out.hdr_gt["left"][~ra], out.image[~ra])
    assert out.occlusion["right"] == pytest.approx(occlusion_of(ra, cover))
    assert 0 < out.occlusion["right"] < 1 and out.occlusion["left"] == 0.0


def test_without_a_background_the_distractor_has_no_ground_truth():
    target = _hand_image(0, "right", with_background=False)
    out = compose(target, _hand_image(1, "left"), _params())
    assert set(out.hdr_gt) == {"right"}


def test_flip_is_an_exact_mirror_and_its_own_inverse():
    item = _hand_image(2, "right")
    flipped = flip_hand_image(item)
    assert flipped.side == "left"
    before = _project(item.joints_cam, item.intrinsics)
    after = _project(flipped.joints_cam, flipped.intrinsics)
    np.testing.assert_allclose(after[:, 0], SIZE[0] - 1 - before[:, 0], atol=1e-9)
    np.testing.assert_allclose(after[:, 1], before[:, 1], atol=1e-9)
    back = flip_hand_image(flipped)
    np.testing.assert_array_equal(back.image, item.image)
    np.testing.assert_allclose(back.joints_cam, item.joints_cam)
    with pytest.raises(ValueError, match="both right"):
        compose(item, _hand_image(3, "right"), _params())
