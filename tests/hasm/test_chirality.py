import numpy as np
import pytest
import torch

from handhdr.camera import project
from handhdr.hand import load_hand_model
from handhdr.hand.layer import HandLayer
from handhdr.hasm.chirality import (
    CUE_NAMES,
    directions,
    facing_and_orientation,
    mirror_cues,
    sample_cues,
)
from handhdr.joints import HANDS

FOCAL, PRINCPT = np.array([600.0, 600.0]), np.array([128.0, 128.0])


def posed_hands(side: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` hands of the built-in model under random global rotations, 500 mm in front
    of the camera: camera joints ``(n, 21, 3)`` and their projections ``(n, 21, 2)``."""
    rng = np.random.default_rng(seed)
    layer = HandLayer(load_hand_model("builtin", side))
    pose = torch.zeros(n, 48)
    axis = rng.normal(size=(n, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    pose[:, :3] = torch.from_numpy(axis * rng.uniform(0, np.pi, (n, 1))).float()
    with torch.no_grad():
        joints = layer(pose=pose).joints.numpy().astype(np.float64)
    joints = joints - joints[:, :1] + np.array([0.0, 0.0, 500.0])
    return joints, project(joints, FOCAL, PRINCPT)


@pytest.mark.parametrize("side", HANDS)
def test_a_hand_is_right_exactly_when_facing_xor_orientation(side):
    cam, img = posed_hands(side, 40, seed=1 if side == "right" else 2)
    cues = np.array(
        [facing_and_orientation(c, i, left=side == "left") for c, i in zip(cam, img, strict=True)]
    )
    assert 0 < cues[:, 0].mean() < 1 and 0 < cues[:, 1].mean() < 1  # both values occur
    parity = cues[:, 0] ^ cues[:, 1]
    assert (parity == (1 if side == "right" else 0)).all()


def cues_of(cam: np.ndarray, img: np.ndarray, left: bool) -> list[float]:
    return [*facing_and_orientation(cam, img, left=left), *directions(img).tolist()]


@pytest.mark.parametrize("side", HANDS)
def test_the_directions_spell_out_the_orientation(side):
    cam, img = posed_hands(side, 40, seed=6 if side == "right" else 7)
    for c, i in zip(cam, img, strict=True):
        d = directions(i)
        np.testing.assert_allclose(np.linalg.norm(d.reshape(2, 2), axis=1), 1.0, rtol=1e-5)
        _, orientation = facing_and_orientation(c, i, left=side == "left")
        # image y points down: a clockwise wrist -> index -> pinky turn has forward x across < 0
        assert (d[0] * d[3] - d[1] * d[2] < 0) == bool(orientation)


def test_mirror_cues_are_the_cues_of_the_mirrored_hands():
    cam, img = posed_hands("right", 20, seed=3)
    for c, i in zip(cam, img, strict=True):
        cues = np.array([cues_of(c, i, left=False), [0.0] * len(CUE_NAMES)], np.float32)
        known = np.array([True, False])
        mirrored, mknown = mirror_cues(cues, known)
        # mirror of the camera frame: x -> -x; in the image: u -> 2 cx - u. The right
        # hand becomes a left hand and moves to the second slot.
        cam_m = c * np.array([-1.0, 1.0, 1.0])
        img_m = np.stack([2 * PRINCPT[0] - i[:, 0], i[:, 1]], 1)
        assert mknown.tolist() == [False, True]
        np.testing.assert_allclose(mirrored[1], cues_of(cam_m, img_m, left=True), atol=1e-6)
        assert mirrored[1, CUE_NAMES.index("facing")] == cues[0, CUE_NAMES.index("facing")]


def test_sample_cues_need_the_four_palm_joints():
    cam_r, img_r = posed_hands("right", 1, seed=4)
    cam_l, img_l = posed_hands("left", 1, seed=5)

    class FakeSample:
        joints_cam = np.concatenate([cam_r[0], cam_l[0]]).astype(np.float32)
        joints_img = np.concatenate([img_r[0], img_l[0]]).astype(np.float32)
        joint_valid = np.ones(42, bool)

    sample = FakeSample()
    sample.joint_valid[21 + 20] = False  # the left wrist
    cues, known = sample_cues(sample)  # type: ignore[arg-type]
    assert known.tolist() == [True, False]
    np.testing.assert_allclose(cues[0], cues_of(cam_r[0], img_r[0], left=False), atol=1e-3)
    assert cues[1].tolist() == [0.0] * len(CUE_NAMES)
