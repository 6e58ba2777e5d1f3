"""Joint frames, limits, gestures and the pose sampler."""

import numpy as np
import pytest
import torch

from handhdr.hand import load_hand_model
from handhdr.hand.layer import HandLayer
from handhdr.hand.pose import (
    DIGIT_JOINTS,
    GESTURES,
    JOINT_LIMITS,
    RELAXED,
    PoseSpace,
    blend_angles,
    clip_to_limits,
    gesture_angles,
    random_global_orient,
    sample_angles,
    sample_gesture_angles,
    sample_pose,
    sample_uniform_angles,
    within_limits,
)
from handhdr.joints import INTERHAND_NAMES, WRIST

TIPS = {f: INTERHAND_NAMES.index(f"{f}_4") for f in ("thumb", "index", "middle", "ring", "pinky")}


@pytest.fixture(scope="module")
def models():
    out = {}
    for side in ("right", "left"):
        data = load_hand_model(side=side)
        out[side] = (data, HandLayer(data), PoseSpace.from_model(data))
    return out


def _joints(models, side, angles):
    _, layer, space = models[side]
    pose = torch.tensor(space.to_pose(np.asarray(angles)), dtype=torch.float32)
    return layer(pose.reshape(-1, 48)).joints.numpy()


def test_frames_are_orthonormal_and_mirror_between_sides(models):
    right, left = models["right"][2].frames, models["left"][2].frames
    for frames in (right, left):
        np.testing.assert_allclose(
            frames.transpose(0, 2, 1) @ frames, np.tile(np.eye(3), (15, 1, 1)), atol=1e-6
        )
    mirror = np.diag([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(left, -mirror @ right, atol=1e-5)


def test_angles_and_poses_round_trip(models):
    space = models["right"][2]
    angles = np.random.default_rng(0).normal(size=(7, 15, 3))
    pose = space.to_pose(angles, global_orient=np.ones((7, 3)))
    assert pose.shape == (7, 48)
    np.testing.assert_allclose(pose[:, :3], 1.0)
    np.testing.assert_allclose(space.to_angles(pose), angles, atol=1e-12)


def test_pose_zero_is_the_relaxed_gesture(models):
    for side in ("right", "left"):
        space = models[side][2]
        np.testing.assert_allclose(space.to_angles(np.zeros(48)), GESTURES[RELAXED], atol=1e-6)


def test_limits_are_ranges_and_every_gesture_respects_them():
    assert JOINT_LIMITS.shape == (15, 3, 2)
    assert (JOINT_LIMITS[..., 0] < JOINT_LIMITS[..., 1]).all()
    assert (JOINT_LIMITS[..., 0] <= 0).all() and (JOINT_LIMITS[..., 1] >= 0).all()
    # fingers flex much further than they spread or twist
    assert (JOINT_LIMITS[:, 2, 1] > 0.9).all()
    assert (JOINT_LIMITS[:, 0, 1] <= 0.9).all()
    for name, angles in GESTURES.items():
        assert within_limits(angles), name
    counting = ("one", "two", "three", "four", "five")
    for name in ("fist", "flat", "pinch", "point", "grasp", "claw", "relaxed", *counting):
        assert name in GESTURES


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_sampler_respects_the_limits(models, seed):
    rng = np.random.default_rng(seed)
    for angles in (
        sample_uniform_angles(rng, 400),
        sample_gesture_angles(rng, 400, noise=0.5),
        sample_angles(rng, 400),
    ):
        assert angles.shape == (400, 15, 3)
        assert within_limits(angles).all()
    space = models["left"][2]
    pose = sample_pose(rng, 300, space, global_orient=True)
    assert pose.shape == (300, 48)
    assert within_limits(space.to_angles(pose)).all()


def test_uniform_sampler_covers_the_ranges():
    angles = sample_uniform_angles(np.random.default_rng(0), 2000)
    span = JOINT_LIMITS[..., 1] - JOINT_LIMITS[..., 0]
    assert (angles.min(0) < JOINT_LIMITS[..., 0] + 0.1 * span).all()
    assert (angles.max(0) > JOINT_LIMITS[..., 1] - 0.1 * span).all()


def test_sampler_is_deterministic_for_a_seed():
    a = sample_angles(np.random.default_rng(5), 10)
    b = sample_angles(np.random.default_rng(5), 10)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, sample_angles(np.random.default_rng(6), 10))


def test_clip_and_blend():
    big = np.full((15, 3), 10.0)
    assert within_limits(clip_to_limits(big))
    assert not within_limits(big)
    fist, flat = GESTURES["fist"], GESTURES["flat"]
    np.testing.assert_allclose(blend_angles(fist, flat, 0.0), fist)
    np.testing.assert_allclose(blend_angles(fist, flat, 0.25), 0.75 * fist)
    assert blend_angles(fist, flat, np.array([0.0, 1.0])).shape == (2, 15, 3)


@pytest.mark.parametrize("side", ["right", "left"])
def test_flexion_curls_towards_the_palm_and_spread_goes_to_the_thumb(models, side):
    flat = _joints(models, side, GESTURES["flat"])[0]
    palm_n = np.array([0.0, -1.0, 0.0])  # MANO rest frame: the palm faces -y (both sides)
    thumb_side = np.sign(flat[TIPS["thumb"], 2] - flat[WRIST, 2])
    for finger in ("index", "middle", "ring", "pinky"):
        mcp = DIGIT_JOINTS[finger][0]
        bent = np.zeros((15, 3))
        bent[mcp - 1, 2] = 1.0
        tip = _joints(models, side, bent)[0, TIPS[finger]]
        assert (tip - flat[TIPS[finger]]) @ palm_n > 0.04, finger
        spread = np.zeros((15, 3))
        spread[mcp - 1, 1] = 0.25
        tip = _joints(models, side, spread)[0, TIPS[finger]]
        assert (tip - flat[TIPS[finger]])[2] * thumb_side > 0.01, finger


def test_gestures_do_what_their_names_say(models):
    joints = {name: _joints(models, "right", GESTURES[name])[0] for name in GESTURES}

    def tip_gap(name, a, b):
        return np.linalg.norm(joints[name][TIPS[a]] - joints[name][TIPS[b]])

    def reach(name, finger):  # fingertip distance from the wrist
        return np.linalg.norm(joints[name][TIPS[finger]] - joints[name][WRIST])

    assert tip_gap("pinch", "thumb", "index") < 0.02  # thumb opposes the index finger
    assert tip_gap("ok", "thumb", "index") < 0.01
    assert tip_gap("flat", "thumb", "index") > 0.06
    for finger in ("index", "middle", "ring", "pinky"):
        assert reach("fist", finger) < 0.6 * reach("flat", finger), finger
    assert reach("point", "index") > 0.95 * reach("flat", "index")
    assert reach("point", "middle") < 0.6 * reach("flat", "middle")
    extended = {
        name: sum(reach(name, f) > 0.9 * reach("flat", f) for f in TIPS) for name in GESTURES
    }
    assert [extended[n] for n in ("one", "two", "three", "four", "five")] == [1, 2, 3, 4, 5]


def test_gesture_angles_places_values_on_the_right_joints():
    angles = gesture_angles(thumb=(0.1, 0.2, 0.3, 0.4, 0.5), pinky=(0.6, 0.7, 0.8, 0.9))
    cmc, mcp, ip = DIGIT_JOINTS["thumb"]
    np.testing.assert_allclose(angles[cmc - 1], [0.1, 0.2, 0.3])
    assert angles[mcp - 1, 2] == 0.4 and angles[ip - 1, 2] == 0.5
    p1, p2, p3 = DIGIT_JOINTS["pinky"]
    assert angles[p1 - 1, 2] == 0.6 and angles[p1 - 1, 1] == 0.9 and angles[p3 - 1, 2] == 0.8
    assert np.count_nonzero(angles) == 9


def test_random_global_orientations_are_uniform_rotations():
    rotvec = random_global_orient(np.random.default_rng(0), 4000)
    angle = np.linalg.norm(rotvec, axis=1)
    assert angle.max() <= np.pi + 1e-9
    from handhdr.hand.layer import batch_rodrigues

    mats = batch_rodrigues(torch.from_numpy(rotvec)).numpy()
    np.testing.assert_allclose(mats.mean(0), 0.0, atol=0.05)  # E[R] = 0 on SO(3)
