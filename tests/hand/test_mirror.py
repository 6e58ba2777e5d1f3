"""Left hand = mirror image of the right hand, with the handedness conventions."""

import numpy as np
import pytest
import torch

from handhdr.hand import load_hand_model, mirror_hand_model, mirror_pose
from handhdr.hand.layer import HandLayer
from handhdr.hand.meshing import signed_volume
from handhdr.hand.model_data import HandModelData
from handhdr.hand.pose import GESTURES, PoseSpace
from handhdr.joints import INTERHAND_NAMES, WRIST, mirror_x

FLIP = torch.tensor([-1.0, 1.0, 1.0])


@pytest.fixture(scope="module")
def layers():
    return {side: HandLayer(load_hand_model("builtin", side)) for side in ("right", "left")}


def test_left_posed_with_the_mirrored_pose_is_the_mirror_image(layers):
    gen = torch.Generator().manual_seed(0)
    pose = torch.randn(4, 48, generator=gen) * 0.5
    betas = torch.randn(4, 10, generator=gen)
    transl = torch.randn(4, 3, generator=gen) * 0.1
    right = layers["right"](pose, betas, transl)
    left = layers["left"](mirror_pose(pose), betas, transl * FLIP)
    assert torch.allclose(left.vertices, mirror_x(right.vertices), atol=1e-6)
    assert torch.allclose(left.joints, mirror_x(right.joints), atol=1e-6)


def test_left_faces_still_point_outwards(layers):
    pose = torch.tensor(
        PoseSpace.from_model(load_hand_model(side="left")).to_pose(GESTURES["fist"])
    )
    out = layers["left"](pose[None].float())
    faces = layers["left"].faces.numpy()
    assert signed_volume(out.vertices[0].double().numpy(), faces) > 0
    assert signed_volume(load_hand_model(side="left").v_template.astype(np.float64), faces) > 0


def _thumb_side_seen_palm_on(joints: np.ndarray, fist_tips: np.ndarray) -> float:
    """Image x of the thumb (> 0: right of the wrist) for a camera that sees the palm with
    the fingers pointing up. ``joints`` flat hand in the InterHand order."""
    wrist = joints[WRIST]
    up = joints[INTERHAND_NAMES.index("middle_1")] - wrist
    up /= np.linalg.norm(up)
    flat_tips = joints[[INTERHAND_NAMES.index(f"{f}_4") for f in ("index", "middle", "ring")]]
    # the palm faces where curling fingers go
    palm = (fist_tips - flat_tips).mean(0)
    palm -= (palm @ up) * up
    palm /= np.linalg.norm(palm)
    # camera frame (x right, y down, z forward) looking at the palm: z = -palm, y = -up
    image_right = np.cross(-up, -palm)
    return float((joints[INTERHAND_NAMES.index("thumb_4")] - wrist) @ image_right)


@pytest.mark.parametrize(("side", "sign"), [("right", 1.0), ("left", -1.0)])
def test_thumb_is_on_the_correct_side_for_a_palm_facing_the_camera(layers, side, sign):
    """Hold up your right hand, palm towards you: the thumb is on your right."""
    space = PoseSpace.from_model(load_hand_model(side=side))
    flat = layers[side](torch.tensor(space.to_pose(GESTURES["flat"]))[None].float())
    fist = layers[side](torch.tensor(space.to_pose(GESTURES["fist"]))[None].float())
    tip_idx = [INTERHAND_NAMES.index(f"{f}_4") for f in ("index", "middle", "ring")]
    side_x = _thumb_side_seen_palm_on(flat.joints[0].numpy(), fist.joints[0, tip_idx].numpy())
    assert sign * side_x > 0.03


def test_mirroring_twice_is_the_identity():
    right = load_hand_model(side="right")
    again = mirror_hand_model(mirror_hand_model(right))
    assert again.side == "right"
    for name in ("v_template", "faces", "shapedirs", "posedirs", "hands_mean", "regions"):
        assert np.array_equal(getattr(again, name), getattr(right, name)), name


def test_pose_correctives_are_mirrored_too():
    """A model with posedirs: mirror model + mirror pose = mirror of the posed mesh."""
    rng = np.random.default_rng(3)
    num = 40
    right = HandModelData(
        name="test",
        side="right",
        v_template=rng.normal(scale=0.05, size=(num, 3)).astype(np.float32),
        faces=rng.integers(0, num, size=(60, 3)),
        j_regressor=np.full((16, num), 1.0 / num, np.float32) + np.eye(16, num, dtype=np.float32),
        skinning_weights=np.full((num, 16), 1.0 / 16, np.float32),
        shapedirs=rng.normal(scale=1e-3, size=(num, 3, 10)).astype(np.float32),
        posedirs=rng.normal(scale=1e-2, size=(num, 3, 135)).astype(np.float32),
        parents=np.array([-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14]),
        tip_vertex_ids=np.arange(5),
        hands_mean=rng.normal(scale=0.2, size=45).astype(np.float32),
    )
    right.j_regressor /= right.j_regressor.sum(1, keepdims=True)
    left = mirror_hand_model(right)
    pose = torch.randn(2, 48) * 0.5
    betas = torch.randn(2, 10)
    posed_right = HandLayer(right)(pose, betas).vertices
    posed_left = HandLayer(left)(mirror_pose(pose), betas).vertices
    assert torch.allclose(posed_left, mirror_x(posed_right), atol=1e-6)


def test_mirror_pose_numpy_and_torch_agree():
    pose = np.random.default_rng(0).normal(size=(3, 48))
    expected = pose.reshape(3, 16, 3) * np.array([1, -1, -1])
    np.testing.assert_allclose(mirror_pose(pose), expected.reshape(3, 48))
    np.testing.assert_allclose(mirror_pose(torch.from_numpy(pose)).numpy(), expected.reshape(3, 48))
