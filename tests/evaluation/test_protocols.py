"""Protocols side by side on hand-made ground truth, with the scoring rules."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.datasets.schema import GroundTruthTable
from handhdr.evaluation import metrics
from handhdr.evaluation.matching import match_predictions
from handhdr.evaluation.predictions import HandPrediction, ImagePrediction
from handhdr.evaluation.protocols import evaluate_2d, evaluate_interhand

WRIST_R = np.array([100.0, 20.0, 600.0])
WRIST_L = np.array([-80.0, 10.0, 650.0])


def _hand_offsets() -> np.ndarray:
    """(21, 3) joints relative to the wrist: joint k at (0, 0, 10) + k * (1, 2, 0)."""
    offsets = np.zeros((21, 3))
    offsets[:20] = np.array([0.0, 0.0, 10.0]) + np.arange(20)[:, None] * np.array([1, 2, 0])
    return offsets


def _gt(hand_types: list[str], joint_valid: np.ndarray | None = None) -> GroundTruthTable:
    n = len(hand_types)
    joints = np.zeros((n, 42, 3), np.float32)
    joints[:, :21] = WRIST_R + _hand_offsets()
    joints[:, 21:] = WRIST_L + _hand_offsets()
    if joint_valid is None:
        joint_valid = np.ones((n, 42), bool)
        for i, hand_type in enumerate(hand_types):
            if hand_type == "right":
                joint_valid[i, 21:] = False
            if hand_type == "left":
                joint_valid[i, :21] = False
    k = np.array([[500.0, 0, 256], [0, 500.0, 167], [0, 0, 1]], np.float32)
    uv = joints[..., :2] / joints[..., 2:] * 500.0 + np.array([256.0, 167.0])
    return GroundTruthTable(
        file_names=[f"img{i}.jpg" for i in range(n)],
        joints_cam=joints,
        joints_img=uv.astype(np.float32),
        joint_valid=joint_valid,
        hand_type=np.array(hand_types),
        intrinsics=np.tile(k, (n, 1, 1)),
    )


def _perfect(gt: GroundTruthTable, i: int, hands=("right", "left"), frame="root_relative"):
    """A line that predicts row ``i`` exactly (root-relative unless ``frame`` says camera)."""
    cam = gt.joints_cam[i].astype(np.float64)
    joints = cam if frame == "camera" else metrics.root_aligned(cam[None])[0]
    out = {}
    for hand in hands:
        sl = slice(0, 21) if hand == "right" else slice(21, 42)
        out[hand] = HandPrediction(joints_3d=joints[sl], joints_2d=gt.joints_img[i, sl])
    return ImagePrediction(gt.file_names[i], out, joints_3d_frame=frame)


def test_perfect_predictions_score_zero_everywhere():
    gt = _gt(["right", "left", "interacting", "interacting"])
    result = evaluate_interhand(gt, match_predictions(gt, [_perfect(gt, i) for i in range(4)]))
    for block in ("official", "wrist_aligned_mean", "middle_mcp_scaled", "pa_mpjpe"):
        for key in ("mpjpe_sh", "mpjpe_ih", "mpjpe_all", "mpjpe_inter"):
            assert result[block][key] == pytest.approx(0.0, abs=1e-4), (block, key)
    assert result["epe_2d"]["epe_all"] == pytest.approx(0.0, abs=1e-4)
    # each SH line predicts both hands, so handedness is wrong there
    assert result["handedness"] == {
        "accuracy_sh": 0.0,
        "accuracy_ih": 1.0,
        "accuracy_all": 0.5,
        "accuracy_inter": 1.0,
    }
    assert result["counts"]["hands_extra"] == 2


def test_official_differs_from_plain_mean_through_the_protocol():
    # two interacting images; image 1 has joint 0 unannotated
    valid = np.ones((2, 42), bool)
    valid[1, 0] = False
    gt = _gt(["interacting", "interacting"], valid)
    a, b = _perfect(gt, 0), _perfect(gt, 1)
    a.hands["right"].joints_3d[0] += [6.0, 8.0, 0.0]  # 10 mm
    b.hands["right"].joints_3d[1] += [0.0, 0.0, 21.0]  # 21 mm
    result = evaluate_interhand(gt, match_predictions(gt, [a, b]))
    # official: joint 0 -> 10 / 1, joint 1 -> (0 + 21) / 2; (10 + 10.5) / 42
    assert result["official"]["mpjpe_ih"] == pytest.approx(20.5 / 42, abs=1e-6)
    assert result["official"]["mpjpe_all"] == pytest.approx(20.5 / 42, abs=1e-6)
    assert result["official"]["mpjpe_inter"] == pytest.approx(20.5 / 42, abs=1e-6)
    assert result["official"]["mpjpe_sh"] is None  # no single-hand image
    # plain mean: 31 mm over 42 + 41 valid joints
    assert result["wrist_aligned_mean"]["mpjpe_ih"] == pytest.approx(31 / 83, abs=1e-6)
    per_joint = result["per_joint"]["official_all"]
    assert per_joint[0] == pytest.approx(10.0) and per_joint[1] == pytest.approx(10.5)
    assert result["per_joint"]["joint_names"][0] == "r_thumb_4"


def test_sh_and_ih_are_split_by_ground_truth_hand_type():
    gt = _gt(["right", "interacting"])
    a, b = _perfect(gt, 0, hands=("right",)), _perfect(gt, 1)
    a.hands["right"].joints_3d[3] += [0.0, 42.0, 0.0]
    b.hands["left"].joints_3d[5] += [0.0, 0.0, 84.0]
    result = evaluate_interhand(gt, match_predictions(gt, [a, b]))
    # SH: only the right image; joints 0-20 have samples: 42 / 21
    assert result["official"]["mpjpe_sh"] == pytest.approx(42 / 21, abs=1e-6)
    # IH: 84 on joint 26 over 42 joints
    assert result["official"]["mpjpe_ih"] == pytest.approx(84 / 42, abs=1e-6)
    # ALL joins per joint: joint 3 -> (42 + 0) / 2, joint 26 -> 84 / 1; over 42 joints
    assert result["official"]["mpjpe_all"] == pytest.approx((21 + 84) / 42, abs=1e-6)
    assert result["handedness"]["accuracy_all"] == 1.0


def test_missing_image_is_reported_and_left_out():
    gt = _gt(["interacting"] * 3)
    lines = [_perfect(gt, 0), _perfect(gt, 2)]
    lines[0].hands["right"].joints_3d[0] += [0.0, 0.0, 42.0]
    result = evaluate_interhand(gt, match_predictions(gt, lines))
    counts = result["counts"]
    assert counts["images_missing"] == 1 and counts["missing_examples"] == ["img1.jpg"]
    assert counts["images_predicted"] == 2 and counts["images_per_subset"]["ih"] == 2
    # joint 0 -> (42 + 0) / 2 over the two predicted images; image 1 does not count
    assert result["official"]["mpjpe_ih"] == pytest.approx(21 / 42, abs=1e-6)


def test_missing_hand_is_scored_at_its_root():
    gt = _gt(["interacting"])
    line = _perfect(gt, 0, hands=("right",))  # the left hand is left out
    result = evaluate_interhand(gt, match_predictions(gt, [line]))
    # every left joint predicted at the wrist: error_j = ||offset_j|| of the left hand
    offsets = np.linalg.norm(_hand_offsets(), axis=-1)
    assert result["official"]["mpjpe_ih"] == pytest.approx(offsets.sum() / 42, abs=1e-4)
    assert result["wrist_aligned_mean"]["mpjpe_ih"] == pytest.approx(offsets.sum() / 42, abs=1e-4)
    assert result["counts"]["hands_missed"] == 1
    assert result["handedness"]["accuracy_ih"] == 0.0
    # 2D: the missed hand sits on the ground-truth wrist
    uv = gt.joints_img[0, 21:].astype(np.float64)
    expected_2d = np.linalg.norm(uv - uv[20], axis=-1).sum() / 42
    assert result["epe_2d"]["epe_ih"] == pytest.approx(expected_2d, abs=1e-3)


def test_a_line_with_no_hands_costs_both_hands():
    gt = _gt(["interacting"])
    result = evaluate_interhand(gt, match_predictions(gt, [ImagePrediction("img0.jpg", {})]))
    offsets = np.linalg.norm(_hand_offsets(), axis=-1)
    assert result["official"]["mpjpe_ih"] == pytest.approx(2 * offsets.sum() / 42, abs=1e-4)
    assert result["counts"]["hands_missed"] == 2


def test_unknown_images_are_counted_not_scored():
    gt = _gt(["interacting"])
    stray = _perfect(gt, 0)
    stray.file_name = "elsewhere.jpg"
    stray.hands["right"].joints_3d[0] += 1000.0
    result = evaluate_interhand(gt, match_predictions(gt, [_perfect(gt, 0), stray]))
    assert result["counts"]["images_unknown"] == 1
    assert result["counts"]["unknown_examples"] == ["elsewhere.jpg"]
    assert result["official"]["mpjpe_all"] == pytest.approx(0.0, abs=1e-4)


def test_inter_subset_needs_more_than_30_valid_joints():
    valid = np.ones((2, 42), bool)
    valid[1, 21:33] = False  # 30 valid joints left: not in Inter
    gt = _gt(["interacting", "interacting"], valid)
    a, b = _perfect(gt, 0), _perfect(gt, 1)
    b.hands["right"].joints_3d[0] += [0.0, 0.0, 42.0]
    result = evaluate_interhand(gt, match_predictions(gt, [a, b]))
    assert result["official"]["mpjpe_inter"] == pytest.approx(0.0, abs=1e-4)
    assert result["official"]["mpjpe_ih"] == pytest.approx(21 / 42, abs=1e-4)
    assert result["counts"]["images_per_subset"] == {"sh": 0, "ih": 2, "all": 2, "inter": 1}


def test_mrrpe_needs_camera_frame():
    gt = _gt(["interacting", "interacting"])
    relative = evaluate_interhand(gt, match_predictions(gt, [_perfect(gt, 0), _perfect(gt, 1)]))
    assert relative["mrrpe"]["mrrpe"] is None and relative["mrrpe"]["images_root_relative"] == 2
    a = _perfect(gt, 0, frame="camera")
    a.hands["left"].joints_3d += [0.0, 30.0, 40.0]  # whole left hand shifted by 50 mm
    b = _perfect(gt, 1, frame="camera")
    camera = evaluate_interhand(gt, match_predictions(gt, [a, b]))
    assert camera["mrrpe"]["images"] == 2
    assert camera["mrrpe"]["mrrpe"] == pytest.approx((50.0 + 0.0) / 2, abs=1e-3)
    # the shift is a pure translation: every root-aligned protocol stays at 0
    assert camera["official"]["mpjpe_all"] == pytest.approx(0.0, abs=1e-3)


def test_pa_and_middle_mcp_forgive_scale_that_the_official_protocol_does_not():
    gt = _gt(["interacting"])
    line = _perfect(gt, 0)
    line.hands["right"].joints_3d *= 2.0  # the right hand twice too large, root at 0
    result = evaluate_interhand(gt, match_predictions(gt, [line]))
    offsets = np.linalg.norm(_hand_offsets(), axis=-1)  # doubling adds ||offset|| per joint
    assert result["official"]["mpjpe_all"] == pytest.approx(offsets.sum() / 42, abs=1e-3)
    assert result["pa_mpjpe"]["mpjpe_all"] == pytest.approx(0.0, abs=1e-3)
    assert result["middle_mcp_scaled"]["mpjpe_all"] == pytest.approx(0.0, abs=1e-3)


def test_2d_protocol_with_no_wrist_uses_the_centroid_for_a_missed_hand():
    # Tzionas-like ground truth: no wrist annotated
    valid = np.ones((1, 42), bool)
    valid[0, [20, 41]] = False
    gt = _gt(["interacting"], valid)
    gt.joints_img[0, :21] = 0.0
    gt.joints_img[0, :20, 0] = np.arange(20)  # right x = 0..19, y = 0: centroid (9.5, 0)
    right = HandPrediction(joints_2d=gt.joints_img[0, :21] + np.array([3.0, 4.0]))
    result = evaluate_2d(gt, match_predictions(gt, [ImagePrediction("img0.jpg", {"right": right})]))
    # right: 20 valid joints each 5 px off; left: missed, every joint at the centroid
    left = gt.joints_img[0, 21:41].astype(np.float64)
    left_errors = np.linalg.norm(left - left.mean(axis=0), axis=-1)
    expected = (20 * 5.0 + left_errors.sum()) / 40
    assert result["epe_2d"]["epe_ih"] == pytest.approx(expected, abs=1e-4)
    assert result["per_joint"]["epe_2d_all"][0] == pytest.approx(5.0, abs=1e-5)
    assert result["per_joint"]["epe_2d_all"][20] is None  # no wrist samples
    assert result["counts"]["hands_missed"] == 1


def test_root_rule_applies_in_every_3d_protocol():
    valid = np.ones((2, 42), bool)
    valid[1, 20] = False  # image 1: right wrist not annotated -> its right hand never counts
    gt = _gt(["interacting", "interacting"], valid)
    a, b = _perfect(gt, 0), _perfect(gt, 1)
    b.hands["right"].joints_3d[:20] += 500.0
    result = evaluate_interhand(gt, match_predictions(gt, [a, b]))
    for block in ("official", "wrist_aligned_mean", "middle_mcp_scaled", "pa_mpjpe"):
        assert result[block]["mpjpe_all"] == pytest.approx(0.0, abs=1e-4), block


def test_2d_protocol_reports_sh_ih_all():
    gt = _gt(["right", "interacting"])
    lines = [_perfect(gt, 0, hands=("right",)), _perfect(gt, 1)]
    result = evaluate_2d(gt, match_predictions(gt, lines))
    assert set(result["epe_2d"]) == {"epe_sh", "epe_ih", "epe_all"}
    assert set(result["handedness"]) == {"accuracy_sh", "accuracy_ih", "accuracy_all"}
    assert result["epe_2d"]["epe_all"] == pytest.approx(0.0, abs=1e-4)
    assert result["handedness"]["accuracy_all"] == 1.0
