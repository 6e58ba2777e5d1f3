"""The evaluation steps behind ``handhdr eval``, called from Python."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.datasets.interhand_format import make_fixture_dataset
from handhdr.evaluation.predictions import (
    HandPrediction,
    ImagePrediction,
    PredictionsError,
    write_predictions,
)
from handhdr.evaluation.run import evaluate_predictions, load_ground_truth, source_block


def test_interhand_ground_truth_and_a_3d_evaluation(tmp_path):
    fixture = make_fixture_dataset(tmp_path / "ih", "val", seed=2, write_images=False)
    gt = load_ground_truth("interhand", tmp_path / "ih", split="val")
    assert sorted(gt.file_names) == sorted(image.file_name for image in fixture.images)
    # every hand at its root (all zeros): the official number is the mean over joints
    # of the mean distance of each valid joint from its wrist
    zeros = HandPrediction(joints_3d=np.zeros((21, 3)))
    lines = [ImagePrediction(n, {"right": zeros, "left": zeros}) for n in gt.file_names]
    write_predictions(tmp_path / "p.jsonl", lines)
    metrics = evaluate_predictions(gt, tmp_path / "p.jsonl", "interhand")
    valid = gt.joint_valid.copy()
    valid[:, :21] &= valid[:, 20:21]
    valid[:, 21:] &= valid[:, 41:42]
    wrists = np.repeat([20, 41], 21)
    distance = np.linalg.norm(gt.joints_cam - gt.joints_cam[:, wrists], axis=-1)
    per_joint = [distance[valid[:, j], j].mean() for j in range(42) if valid[:, j].any()]
    assert metrics["official"]["mpjpe_all"] == pytest.approx(np.mean(per_joint), rel=1e-5)


def test_a_3d_evaluation_needs_joints_3d(tmp_path):
    make_fixture_dataset(tmp_path / "ih", "test", seed=1, write_images=False)
    gt = load_ground_truth("interhand", tmp_path / "ih")
    hand = HandPrediction(joints_2d=np.zeros((21, 2)))
    write_predictions(tmp_path / "p.jsonl", [ImagePrediction(gt.file_names[0], {"left": hand})])
    with pytest.raises(PredictionsError, match="key 'hands.left.joints_3d'"):
        evaluate_predictions(gt, tmp_path / "p.jsonl", "interhand")


def test_unknown_dataset_and_source_block(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'coco'"):
        load_ground_truth("coco", tmp_path)  # type: ignore[arg-type]
    block = source_block("interhand", "/data/ih", "test", "M", "p.jsonl")
    assert block == {
        "dataset": "interhand",
        "root": "/data/ih",
        "split": "test",
        "branch": "M",
        "predictions": "p.jsonl",
    }
    assert "branch" not in source_block("tzionas", "/data/tz", "test", "ALL", "p.jsonl")
