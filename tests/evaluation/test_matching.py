"""Pairing predictions with ground-truth rows: missing, unknown, absent hands."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.datasets.schema import GroundTruthTable
from handhdr.evaluation.matching import MatchError, match_predictions
from handhdr.evaluation.predictions import HandPrediction, ImagePrediction


def _gt(names: list[str]) -> GroundTruthTable:
    n = len(names)
    return GroundTruthTable(
        file_names=names,
        joints_cam=np.zeros((n, 42, 3), np.float32),
        joints_img=np.zeros((n, 42, 2), np.float32),
        joint_valid=np.ones((n, 42), bool),
        hand_type=np.array(["interacting"] * n),
        intrinsics=np.tile(np.eye(3, dtype=np.float32), (n, 1, 1)),
    )


def test_rows_follow_the_ground_truth_order():
    gt = _gt(["a.jpg", "b.jpg", "c.jpg", "d.jpg"])
    right = HandPrediction(joints_3d=np.full((21, 3), 2.0), joints_2d=np.full((21, 2), 3.0))
    left = HandPrediction(joints_3d=np.full((21, 3), 5.0))
    lines = [
        ImagePrediction("c.jpg", {"left": left}, joints_3d_frame="camera"),
        ImagePrediction("x.jpg", {"right": right}),
        ImagePrediction("a.jpg", {"right": right, "left": left}),
        ImagePrediction("b.jpg", {}),
    ]
    matched = match_predictions(gt, lines)
    assert matched.predicted.tolist() == [True, True, True, False]
    expected_hands = [[True, True], [False, False], [False, True], [False, False]]
    assert matched.hands_predicted.tolist() == expected_hands
    assert matched.camera_frame.tolist() == [False, False, True, False]
    assert (matched.joints_3d[0, :21] == 2.0).all() and (matched.joints_3d[0, 21:] == 5.0).all()
    assert np.isnan(matched.joints_3d[2, :21]).all() and (matched.joints_3d[2, 21:] == 5.0).all()
    assert np.isnan(matched.joints_2d[0, 21:]).all()  # left hand gave no 2D joints
    assert np.isnan(matched.joints_3d[1]).all() and np.isnan(matched.joints_3d[3]).all()
    assert matched.missing_count == 1
    assert (matched.unknown_count, matched.unknown_examples) == (1, ["x.jpg"])


def test_nothing_matching_is_an_error_with_examples():
    gt = _gt(["Capture0/seq/cam1/image1.jpg"])
    lines = [ImagePrediction("images/test/Capture0/seq/cam1/image1.jpg", {})]
    with pytest.raises(MatchError) as info:
        match_predictions(gt, lines, source="preds.jsonl")
    message = str(info.value)
    assert "preds.jsonl" in message
    assert "images/test/Capture0/seq/cam1/image1.jpg" in message
    assert "'Capture0/seq/cam1/image1.jpg'" in message
