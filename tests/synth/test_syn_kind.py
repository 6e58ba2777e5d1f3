import json

import cv2
import numpy as np
import pytest

from handhdr.camera import intrinsics_matrix, project
from handhdr.datasets.interhand import InterHandDataset
from handhdr.datasets.interhand_format import make_fixture_dataset
from handhdr.datasets.masks import mask_path, write_masks
from handhdr.io import write_image
from handhdr.joints import HAND_SLICES
from handhdr.synth.config import SynthConfig
from handhdr.synth.copy_paste import HandImage
from handhdr.synth.syn_kind import DEFAULT_WINDOW, fit_to_frame


def _invariants(sample):
    ra, rv, la, lv = sample.masks
    assert not (rv & ~ra).any() and not (lv & ~la).any() and not (rv & lv).any()
    outside = ~(ra | la)
    for gt in sample.hdr_gt.values():  # the image file is JPEG: a loose bound suffices
        assert np.abs(gt.astype(int) - sample.image.astype(int))[outside].mean() < 6


def test_fit_to_frame_keeps_the_camera_consistent():
    rng = np.random.default_rng(0)
    k = intrinsics_matrix(np.array([300.0, 300.0]), np.array([99.5, 74.5]))
    joints = np.array([[10.0, -5.0, 500.0], [-30.0, 20.0, 520.0]])
    image = np.zeros((150, 200, 3), np.uint8)
    amodal = np.zeros((150, 200), bool)
    amodal[60:90, 80:120] = True
    item = HandImage(image, amodal, "right", k, joints_cam=joints)
    fitted = fit_to_frame(rng, item, 96, 96)
    assert fitted.image.shape == (96, 96, 3) and fitted.amodal.any()
    before = project(joints, k[[0, 1], [0, 1]], k[:2, 2])
    after = project(joints, fitted.intrinsics[[0, 1], [0, 1]], fitted.intrinsics[:2, 2])
    scale = 150 / 96  # shorter side 150 -> 96 covers the frame
    ys, xs = np.nonzero(fitted.amodal)
    box_before, box_after = (80, 60), (xs.min(), ys.min())
    # a pixel centre maps as (u + 0.5) / scale - 0.5 - offset: joints move like the mask
    np.testing.assert_allclose(after - after[0], (before - before[0]) / scale, atol=1e-9)
    offset = (before[0] + 0.5) / scale - 0.5 - after[0]
    np.testing.assert_allclose(np.array(box_after), (np.array(box_before) + 0.5) / scale - 0.5
                               - offset, atol=1.0)  # fmt: skip


def test_rendered_copy_paste_has_every_ground_truth(make_split, mano_checked_hands):
    root = make_split("syn_render", 4, seed=8, kind="syn", mix={"ih": 1.0})
    dataset = InterHandDataset(root, "test")
    stats = json.loads((root / "synth" / "test" / "stats.json").read_text())
    scenes = json.loads((root / "synth" / "test" / "scenes.json").read_text())
    missed = stats["counters"].get("occlusion_window_missed", 0)
    hits = 0
    for i in range(len(dataset)):
        s = dataset[i]
        _invariants(s)
        assert s.hand_type == "interacting" and set(s.hdr_gt) == {"right", "left"}
        occ = scenes[i]["occlusion"]
        target = max(occ, key=occ.get)
        hits += DEFAULT_WINDOW[0] <= occ[target] <= DEFAULT_WINDOW[1]
        # the distractor lies on top: nothing of the target shows through it
        other = "left" if target == "right" else "right"
        assert not (s.mask(f"{target}_visible") & s.mask(f"{other}_amodal")).any()
        assert (
            s.joint_valid[HAND_SLICES["right"]].any() and s.joint_valid[HAND_SLICES["left"]].any()
        )
    assert hits == len(dataset) - missed and hits >= 3
    # the pasted hand moved rigidly: its hand-model parameters moved with it
    assert mano_checked_hands(root) == 2 * len(dataset)


@pytest.fixture(scope="module")
def crops(tmp_path_factory):
    """A crop folder with right hands only (left ones come from mirroring)."""
    root = tmp_path_factory.mktemp("crops")
    rng = np.random.default_rng(1)
    for n in range(3):
        image = np.full((64, 64, 3), rng.integers(0, 80, 3), np.uint8)
        mask = np.zeros((64, 64), np.uint8)
        cv2.ellipse(mask, (32, 34), (12, 20), int(rng.integers(0, 90)), 0, 360, 255, -1)
        image[mask > 0] = (190 + 10 * n, 140, 120)
        write_image(root / "right" / f"crop{n}.jpg", image, jpeg_quality=95)
        write_image(root / "right" / f"crop{n}_mask.png", mask)
    return root


def test_crop_folder_source(make_split, crops):
    root = make_split("syn_folder", 3, seed=1, kind="syn", source=f"folder:{crops}",
                      mix={"sh": 0.3, "ih": 0.7})  # fmt: skip
    dataset = InterHandDataset(root, "test")
    for i in range(len(dataset)):
        s = dataset[i]
        _invariants(s)
        assert not s.joint_valid.any()  # crops have no joints
        if s.hand_type == "interacting":
            assert len(s.hdr_gt) == 1  # no background plate: only the target's
            assert s.mask("right_amodal").any() and s.mask("left_amodal").any()


def test_interhand_source_keeps_the_target_joints(make_split, tmp_path_factory):
    source = tmp_path_factory.mktemp("ih_source")
    fixture = make_fixture_dataset(source, "test", seed=2, num_captures=1, num_cameras=3,
                                   num_frames=4, hand_types=("right", "left"))  # fmt: skip
    dataset = InterHandDataset(source, "test")
    joints_of = {}
    for i in range(len(dataset)):  # masks: discs around the projected joints
        s = dataset[i]
        masks = np.zeros((4, *s.image.shape[:2]), bool)
        hand = s.hand_type
        canvas = np.zeros(s.image.shape[:2], np.uint8)
        for u, v in s.joints_img[HAND_SLICES[hand]]:
            cv2.circle(canvas, (int(round(u)), int(round(v))), 9, 1, -1)
        masks[0 if hand == "right" else 2] = masks[1 if hand == "right" else 3] = canvas > 0
        write_masks(mask_path(source, "test", s.file_name), masks)
        joints_of[s.file_name] = s.joints_cam[HAND_SLICES[hand]]
    assert fixture.images
    root = make_split("syn_ih", 3, seed=3, kind="syn", source=f"interhand:{source}",
                      mix={"ih": 1.0}, width=128, height=84)  # fmt: skip
    out = InterHandDataset(root, "test", load_images=False)
    known = np.stack(list(joints_of.values()))
    for i in range(len(out)):
        s = out[i]
        found = 0
        for side in ("right", "left"):
            joints = s.joints_cam[HAND_SLICES[side]]
            found += any(np.allclose(joints, k, atol=1e-3) for k in known)
        assert found >= 1  # the target hand keeps its source joints exactly


def test_unusable_sources_are_named(tmp_path):
    from handhdr.synth.syn_kind import make_source

    with pytest.raises(FileNotFoundError, match="right/NAME.jpg"):
        make_source(SynthConfig(kind="syn", source=f"folder:{tmp_path}"))
    with pytest.raises(FileNotFoundError, match="not a folder"):
        make_source(SynthConfig(kind="syn", source=f"folder:{tmp_path / 'nope'}"))
