import json

import cv2
import numpy as np
import pytest

from handhdr.datasets.interhand import InterHandDataset
from handhdr.datasets.interhand_format import annotation_file
from handhdr.evaluation.predictions import HandPrediction, ImagePrediction, write_predictions
from handhdr.evaluation.run import evaluate_predictions, load_ground_truth
from handhdr.io import write_image
from handhdr.joints import HAND_SLICES, ROOT_INDEX
from handhdr.render.effects import BLUR_SIGMA_RANGE, CameraEffects, footprint
from handhdr.synth.render_kind import choose_hand_type, in_window
from handhdr.synth.writers import JPEG_QUALITY


def _dilate(mask: np.ndarray, reach: int) -> np.ndarray:
    size = 2 * reach + 1
    return cv2.dilate(mask.astype(np.uint8), np.ones((size, size), np.uint8)).astype(bool)


# the renderer's documented footprint at its largest (strongest blur, with JPEG): the
# ground truth equals the rendered image outside the hands dilated by it
RENDER_REACH = footprint(CameraEffects(blur_sigma=BLUR_SIGMA_RANGE[1], jpeg_quality=50))
FILE_REACH = footprint(CameraEffects(jpeg_quality=JPEG_QUALITY))  # the image file's JPEG


def _assert_equal_outside_hands_up_to_jpeg(gt, image, hands):
    """The ground truth equals the image outside the hands (dilated by the renderer's
    footprint) up to JPEG error: encoded like the image file, it decodes identically
    wherever the file's JPEG cannot have carried a difference. Returns the number of
    pixels checked for identity."""
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(gt, cv2.COLOR_RGB2BGR),
                              [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])  # fmt: skip
    assert ok
    encoded = cv2.cvtColor(cv2.imdecode(buffer, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    far = ~_dilate(hands, RENDER_REACH + FILE_REACH)
    np.testing.assert_array_equal(encoded[far], image[far])
    # nearer, but outside the renderer's footprint, the difference is JPEG's own error
    outside = ~_dilate(hands, RENDER_REACH)
    diff = np.abs(gt.astype(int) - image.astype(int))[outside].mean()
    jpeg_error = np.abs(gt.astype(int) - encoded.astype(int))[outside].mean()
    assert diff <= 1.2 * jpeg_error + 0.5
    return int(far.sum())


def _samples(root):
    dataset = InterHandDataset(root, "test")
    return dataset, [dataset[i] for i in range(len(dataset))]


def test_files_hold_the_renderer_invariants(test_split):
    dataset, samples = _samples(test_split)
    assert len(samples) == 8
    assert {s.hand_type for s in samples} >= {"interacting"}
    checked = 0
    for s in samples:
        ra, rv, la, lv = s.masks
        assert not (rv & ~ra).any() and not (lv & ~la).any()  # visible inside amodal
        assert not (rv & lv).any()  # one hand is seen at a pixel
        assert set(s.hdr_gt) == {h for h, m in (("right", ra), ("left", la)) if m.any()}
        for gt in s.hdr_gt.values():
            checked += _assert_equal_outside_hands_up_to_jpeg(gt, s.image, ra | la)
        if s.hand_type != "interacting":
            absent = "left" if s.hand_type == "right" else "right"
            assert not s.joint_valid[HAND_SLICES[absent]].any()
            assert not s.mask(f"{absent}_amodal").any() and absent not in s.hdr_gt
    assert checked > 0.1 * sum(len(s.hdr_gt) * s.image[..., 0].size for s in samples)


def test_validity_is_identical_in_data_and_joint_3d(test_split):
    data = json.loads(annotation_file(test_split, "test", "data").read_text())
    joint_3d = json.loads(annotation_file(test_split, "test", "joint_3d").read_text())
    images = {im["id"]: im for im in data["images"]}
    for ann in data["annotations"]:
        image = images[ann["image_id"]]
        frame = joint_3d[str(image["capture"])][str(image["frame_idx"])]
        assert [v[0] for v in ann["joint_valid"]] == [int(v[0]) for v in frame["joint_valid"]]
        assert ann["hand_type"] == frame["hand_type"]


def test_hand_model_parameters_reproduce_the_joints(test_split, mano_checked_hands):
    assert mano_checked_hands(test_split) >= 8


def test_valid_joints_lie_on_their_hand(test_split):
    _, samples = _samples(test_split)
    kernel = np.ones((5, 5), np.uint8)
    for s in samples:
        for side in ("right", "left"):
            valid = s.joint_valid[HAND_SLICES[side]]
            if not valid.any():
                continue
            amodal = cv2.dilate(s.mask(f"{side}_amodal").astype(np.uint8), kernel) > 0
            uv = np.round(s.joints_img[HAND_SLICES[side]][valid]).astype(int)
            on = amodal[np.clip(uv[:, 1], 0, 95), np.clip(uv[:, 0], 0, 127)]
            assert on.mean() >= 0.9, (s.file_name, side, on.mean())


def test_a_generated_split_evaluates_to_zero_and_to_a_known_error(test_split, tmp_path):
    dataset = InterHandDataset(test_split, "test", load_images=False)
    gt = dataset.ground_truth()
    delta = np.array([6.0, -8.0, 0.0])  # 10 mm on every finger joint, none on the wrists

    def lines(offset):
        for i, name in enumerate(gt.file_names):
            hands = {}
            for side, sl in HAND_SLICES.items():
                if gt.joint_valid[i, sl].any():
                    joints = gt.joints_cam[i, sl].astype(np.float64).copy()
                    joints[:20] += offset
                    hands[side] = HandPrediction(joints_3d=joints)
            yield ImagePrediction(name, hands, joints_3d_frame="camera")

    write_predictions(tmp_path / "perfect.jsonl", lines(0.0), decimals=None)
    metrics = evaluate_predictions(load_ground_truth("interhand", test_split, "test"),
                                   tmp_path / "perfect.jsonl", "interhand")  # fmt: skip
    assert metrics["official"]["mpjpe_all"] == pytest.approx(0.0, abs=1e-6)

    write_predictions(tmp_path / "shifted.jsonl", lines(delta), decimals=None)
    metrics = evaluate_predictions(gt, tmp_path / "shifted.jsonl", "interhand")
    valid = gt.joint_valid.copy()
    for side, root in ROOT_INDEX.items():  # the official root rule
        valid[:, HAND_SLICES[side]] &= valid[:, root : root + 1]
    scored = valid.any(axis=0)  # joints with at least one valid sample
    wrists = scored[[ROOT_INDEX["right"], ROOT_INDEX["left"]]].sum()
    expected = 10.0 * (scored.sum() - wrists) / scored.sum()
    assert metrics["official"]["mpjpe_all"] == pytest.approx(expected, abs=1e-4)


def test_hand_types_follow_the_mix():
    rng = np.random.default_rng(0)
    draws = [choose_hand_type(rng, {"sh": 0.58, "ih": 0.42}) for _ in range(20000)]
    counts = {t: draws.count(t) / len(draws) for t in ("right", "left", "interacting")}
    assert counts["interacting"] == pytest.approx(0.42, abs=0.015)
    assert counts["right"] == pytest.approx(0.29, abs=0.015)


def test_occlusion_window(make_split):
    assert in_window({"right": 0.3, "left": 0.0}, (0.2, 0.6))
    assert not in_window({"right": 0.1, "left": float("nan")}, (0.2, 0.6))
    root = make_split("window", 4, seed=2, mix={"ih": 1.0}, occlusion=(0.25, 0.7))
    stats = json.loads((root / "synth" / "test" / "stats.json").read_text())
    scenes = json.loads((root / "synth" / "test" / "scenes.json").read_text())
    inside = [0.25 <= max(s["occlusion"].values()) <= 0.7 for s in scenes]
    missed = stats["counters"].get("occlusion_window_missed", 0)
    assert sum(inside) == len(scenes) - missed and sum(inside) >= 2


def test_backgrounds_come_from_the_users_folder(make_split, tmp_path_factory):
    folder = tmp_path_factory.mktemp("backgrounds")
    green = np.zeros((60, 80, 3), np.uint8)
    green[..., 1] = 200
    write_image(folder / "wall.png", green)
    root = make_split("green", 1, seed=3, backgrounds=str(folder), width=96, height=72)
    s = InterHandDataset(root, "test")[0]
    outside = s.image[~(s.mask("right_amodal") | s.mask("left_amodal"))].astype(int)
    # forearms and camera noise aside, the frame is the green wall
    assert np.median(outside[:, 1]) > 100 and np.median(outside[:, 0]) < 40
