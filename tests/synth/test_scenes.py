import numpy as np
import pytest

from handhdr.synth.collision import mutual_penetration
from handhdr.synth.hands import HandKit
from handhdr.synth.scenes import INTERACTIONS, SceneSampler, palm_centre


@pytest.fixture(scope="module")
def sampler():
    return SceneSampler(HandKit("builtin"))


@pytest.mark.parametrize("interaction", INTERACTIONS)
def test_two_hand_scenes_touch_or_come_close_without_interpenetrating(sampler, interaction):
    rng = np.random.default_rng(INTERACTIONS.index(interaction))
    ids = sampler.kit.collision_ids
    for _ in range(2):
        scene = sampler.interacting(rng, interaction)
        assert scene.hand_type == "interacting" and scene.interaction == interaction
        right, left = scene.hands["right"], scene.hands["left"]
        depth = mutual_penetration(right.vertices[ids], sampler.capsules(right),
                                   left.vertices[ids], sampler.capsules(left))  # fmt: skip
        assert depth == 0.0
        gap = np.linalg.norm(right.vertices[ids][:, None] - left.vertices[ids][None], axis=2).min()
        if interaction == "near":
            assert gap > 0.005  # apart
        else:
            assert gap < 0.02  # in contact (skins within a couple of centimetres)
        all_joints = np.concatenate([right.joints, left.joints])
        np.testing.assert_allclose(all_joints.mean(axis=0), 0.0, atol=1e-9)  # centred


def test_touching_palms_face_each_other(sampler):
    rng = np.random.default_rng(5)
    scene = sampler.interacting(rng, "touch")
    right, left = scene.hands["right"], scene.hands["left"]
    n_r, n_l = right.frame()[:, 2], left.frame()[:, 2]
    towards = palm_centre(left) - palm_centre(right)
    assert n_r @ n_l < 0 and n_r @ towards > 0


def test_single_hand_scene(sampler):
    rng = np.random.default_rng(0)
    scene = sampler.single(rng, "left")
    assert scene.hand_type == "left" and set(scene.hands) == {"left"}
    np.testing.assert_allclose(palm_centre(scene.hands["left"]), 0.0, atol=1e-9)
