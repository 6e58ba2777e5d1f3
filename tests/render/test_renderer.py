"""The renderer's guarantees on real hand meshes at a tiny size."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from handhdr.camera import project
from handhdr.datasets.schema import MASK_NAMES
from handhdr.render.background import ProceduralBackgrounds
from handhdr.render.effects import CameraEffects, footprint
from handhdr.render.mesh import uv_sphere
from handhdr.render.renderer import HandGeometry, Renderer, Scene

RENDERER = Renderer(ProceduralBackgrounds(bank_size=4, size=96))
STRONG_EFFECTS = CameraEffects(
    noise_sigma=4.0, noise_offset=(7, 3), blur_sigma=1.0, jpeg_quality=40
)
BLUR = CameraEffects(noise_sigma=3.0, noise_offset=(2, 5), blur_sigma=1.3)


def _render(scene: Scene, seed: int = 0, effects: CameraEffects | None = None):
    look = RENDERER.sample_look(np.random.default_rng(seed), scene)
    if effects is not None:
        look = dataclasses.replace(look, effects=effects)
    return RENDERER.render(scene, look=look), look


def test_masks_are_consistent(two_hand_scene):
    result, _ = _render(two_hand_scene)
    h, w = two_hand_scene.camera.height, two_hand_scene.camera.width
    assert result.image.shape == (h, w, 3) and result.image.dtype == np.uint8
    assert result.masks.shape == (len(MASK_NAMES), h, w) and result.masks.dtype == bool
    assert result.depth.shape == (h, w) and result.depth.dtype == np.float32
    for side in ("right", "left"):
        amodal, visible = result.amodal(side), result.visible(side)
        assert amodal.sum() > 100
        assert not (visible & ~amodal).any()  # visible within amodal
        expected = 1.0 - visible.sum() / amodal.sum()
        assert result.occlusion[side] == pytest.approx(expected)
        assert np.isfinite(result.depth[amodal]).all()
    assert not (result.visible("right") & result.visible("left")).any()
    # the scene is built so that the right hand hides part of the left one
    assert result.occlusion["left"] > 0.05
    assert np.isinf(result.depth[0, 0]) or result.depth[0, 0] > 0


def test_amodal_mask_equals_the_single_hand_render(two_hand_scene, two_hands):
    both, look = _render(two_hand_scene)
    for side in ("right", "left"):
        alone = RENDERER.render(Scene(two_hand_scene.camera, [two_hands[side]]), look=look)
        np.testing.assert_array_equal(both.amodal(side), alone.amodal(side))
        other = "left" if side == "right" else "right"
        assert not alone.amodal(other).any()


def test_joints_project_onto_their_hand(two_hand_scene, two_hands):
    result, _ = _render(two_hand_scene)
    k = two_hand_scene.camera.intrinsics
    for side, hand in two_hands.items():
        uv = project(hand.joints, np.array([k[0, 0], k[1, 1]]), np.array([k[0, 2], k[1, 2]]))
        cols, rows = np.rint(uv).astype(int).T
        amodal = cv2.dilate(result.amodal(side).astype(np.uint8), np.ones((3, 3), np.uint8))
        assert amodal[rows, cols].all()
        # a joint not hidden by the other hand lies on this hand's visible mask
        other = "left" if side == "right" else "right"
        free = ~result.visible(other)[rows, cols]
        near_visible = cv2.dilate(result.visible(side).astype(np.uint8), np.ones((3, 3), np.uint8))
        assert near_visible[rows[free], cols[free]].all()


def test_a_seed_gives_identical_output(two_hand_scene):
    a = RENDERER.render(two_hand_scene, np.random.default_rng(5))
    b = RENDERER.render(two_hand_scene, np.random.default_rng(5))
    c = RENDERER.render(two_hand_scene, np.random.default_rng(6))
    for name in ("image", "masks", "depth"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for side in ("right", "left"):
        np.testing.assert_array_equal(a.hdr_gt[side], b.hdr_gt[side])
    assert not np.array_equal(a.image, c.image)
    # without forearms (whose shape is part of the look) labels depend on geometry only
    bare = dataclasses.replace(two_hand_scene, forearms=False)
    masks = [RENDERER.render(bare, np.random.default_rng(s)).masks for s in (5, 6)]
    np.testing.assert_array_equal(masks[0], masks[1])


def _near_hands(result, effects: CameraEffects) -> np.ndarray:
    """Both amodal masks dilated by the effects' footprint."""
    size = 2 * footprint(effects) + 1
    hands = (result.amodal("right") | result.amodal("left")).astype(np.uint8)
    return cv2.dilate(hands, np.ones((size, size), np.uint8)).astype(bool)


@pytest.mark.parametrize("effects", [CameraEffects(), BLUR, STRONG_EFFECTS])
def test_ground_truth_equals_the_image_outside_the_hands(two_hand_scene, effects):
    result, _ = _render(two_hand_scene, effects=effects)
    outside = ~_near_hands(result, effects)
    assert outside.sum() > 0.1 * outside.size
    for side, other in (("right", "left"), ("left", "right")):
        gt = result.hdr_gt[side]
        np.testing.assert_array_equal(gt[outside], result.image[outside])
        # the other hand is gone where it showed
        removed = result.visible(other) & ~result.amodal(side)
        diff = np.abs(gt[removed].astype(int) - result.image[removed]).sum(axis=1)
        assert (diff > 0).mean() > 0.9
    if effects == CameraEffects():
        # inside its own visible mask (away from edges) a hand looks the same
        inner = cv2.erode(result.visible("right").astype(np.uint8), np.ones((3, 3), np.uint8))
        inner = inner.astype(bool)
        same = (result.hdr_gt["right"][inner] == result.image[inner]).all(axis=1)
        assert same.mean() > 0.97
        # where only a forearm hides a hand (its own, at the wrist), it stays in front
        for side, other in (("right", "left"), ("left", "right")):
            by_arm = result.amodal(side) & ~result.visible(side) & ~result.amodal(other)
            if by_arm.sum() > 5:
                same = (result.hdr_gt[side][by_arm] == result.image[by_arm]).all(axis=1)
                assert same.mean() > 0.8
        # the left hand is complete in its ground truth: its hidden part is drawn
        hidden = result.amodal("left") & ~result.visible("left")
        assert (result.hdr_gt["left"][hidden] != result.image[hidden]).any(axis=1).mean() > 0.9


@pytest.mark.parametrize("effects", [BLUR, STRONG_EFFECTS])
def test_ground_truth_has_no_trace_of_the_removed_hand(two_hand_scene, two_hands, effects):
    # without forearms (the removed hand's forearm stays in its ground truth) the ground
    # truth of a hand is, pixel for pixel, the render of that hand alone with the same look
    bare = dataclasses.replace(two_hand_scene, forearms=False)
    result, look = _render(bare, effects=effects)
    for side, other in (("right", "left"), ("left", "right")):
        alone = RENDERER.render(Scene(bare.camera, [two_hands[side]], forearms=False), look=look)
        np.testing.assert_array_equal(result.hdr_gt[side], alone.image)
        # the removed hand's halo, just outside its mask, is in the image and gone here
        size = 2 * footprint(effects) + 1
        ring = cv2.dilate(result.amodal(other).astype(np.uint8), np.ones((size, size), np.uint8))
        ring = ring.astype(bool) & ~result.amodal(other) & ~result.amodal(side)
        halo = (result.image[ring] != alone.image[ring]).any(axis=1)
        assert halo.sum() > 10


def test_forearms_belong_to_no_mask(two_hand_scene):
    with_arms, look = _render(two_hand_scene)
    bare = RENDERER.render(dataclasses.replace(two_hand_scene, forearms=False), look=look)
    for side in ("right", "left"):
        np.testing.assert_array_equal(with_arms.amodal(side), bare.amodal(side))
        assert not (with_arms.visible(side) & ~bare.visible(side)).any()
    # without forearms, what the left hand hides is hidden by the right hand
    hidden = bare.amodal("left") & ~bare.visible("left")
    assert hidden.any() and bare.visible("right")[hidden].all()
    arm = np.isfinite(with_arms.depth) & ~np.isfinite(bare.depth)
    assert arm.sum() > 20  # the forearms are drawn ...
    assert not with_arms.masks[:, arm].any()  # ... outside every mask
    assert (with_arms.image[arm] != bare.image[arm]).any()


def test_a_plain_mesh_renders_without_anatomy(camera):
    v, f = uv_sphere(25.0, 12, 24)
    hand = HandGeometry("left", v + [0.0, 0.0, 300.0], f)
    result, _ = _render(Scene(camera, [hand]))
    radius = 110.0 * 25.0 / 300.0
    assert abs(result.amodal("left").sum() - np.pi * radius**2) < 0.15 * np.pi * radius**2
    np.testing.assert_array_equal(result.visible("left"), result.amodal("left"))
    assert not result.masks[:2].any() and set(result.hdr_gt) == {"left"}
    assert result.occlusion == {"left": 0.0}


def test_hands_outside_the_frame_and_empty_scenes(camera):
    v, f = uv_sphere(25.0, 8, 12)
    off = HandGeometry("right", v + [900.0, 0.0, 300.0], f)
    result, look = _render(Scene(camera, [off]))
    assert not result.masks.any() and result.hdr_gt == {}
    assert np.isnan(result.occlusion["right"])
    empty = RENDERER.render(Scene(camera, []), look=look)
    np.testing.assert_array_equal(empty.image, result.image)
    assert np.isinf(empty.depth).all()


def test_bad_input_is_refused(two_hands, camera):
    v, f = uv_sphere(10.0, 6, 8)
    with pytest.raises(ValueError, match="one hand per side"):
        Scene(camera, [two_hands["right"], two_hands["right"]])
    with pytest.raises(ValueError, match="faces"):
        HandGeometry("right", v, f + len(v))
    with pytest.raises(ValueError, match="side"):
        HandGeometry("middle", v, f)
    with pytest.raises(ValueError, match="joints"):
        HandGeometry("right", v, f, joints=np.zeros((20, 3)))
    with pytest.raises(ValueError, match="intrinsics"):
        dataclasses.replace(camera, intrinsics=np.eye(2))
    scene = Scene(camera, [two_hands["right"]])
    look = RENDERER.sample_look(np.random.default_rng(0), scene)
    with pytest.raises(ValueError, match="background"):
        RENDERER.render(scene, look=dataclasses.replace(look, background=look.background[:5]))
    with pytest.raises(ValueError, match="random generator or a look"):
        RENDERER.render(scene)


def test_labels_alone_equal_the_full_render(two_hand_scene, two_hands, camera):
    for scene in (two_hand_scene, Scene(camera, [two_hands["left"]])):
        result, look = _render(scene, seed=3)
        labels = RENDERER.labels(scene, look)
        np.testing.assert_array_equal(labels.masks, result.masks)
        assert labels.occlusion == result.occlusion


def test_looks_without_effects_differ_only_in_the_effects(two_hand_scene):
    with_fx = RENDERER.sample_look(np.random.default_rng(9), two_hand_scene)
    clean = RENDERER.sample_look(np.random.default_rng(9), two_hand_scene, effects=False)
    assert clean.effects == CameraEffects()
    np.testing.assert_array_equal(clean.background, with_fx.background)
    np.testing.assert_array_equal(clean.skins["left"].dorsal_lab, with_fx.skins["left"].dorsal_lab)
