"""Time and memory of ``handhdr eval``'s steps on a large predictions file.

A random ground-truth table of N images (InterHand2.6M-like: 58% single-hand, 10% of
joints unannotated) and predictions for all of them (both 3D and 2D joints, every
implied hand) are made in memory; the script then times writing the predictions
file, reading and validating it, pairing it with the ground truth, computing every
protocol, and writing the report. Run: ``python benchmarks/evaluation_speed.py [N]``.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from handhdr.datasets.schema import GroundTruthTable
from handhdr.evaluation.matching import match_predictions
from handhdr.evaluation.predictions import (
    HandPrediction,
    ImagePrediction,
    iter_predictions,
    write_predictions,
)
from handhdr.evaluation.protocols import evaluate_interhand
from handhdr.evaluation.report import write_report


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ground_truth(n: int, rng: np.random.Generator) -> GroundTruthTable:
    joints = rng.normal(0, 40, size=(n, 42, 3)).astype(np.float32)
    joints[:, :21] += np.array([60, 0, 800], np.float32)
    joints[:, 21:] += np.array([-60, 0, 800], np.float32)
    hand_type = rng.choice(["right", "left", "interacting"], size=n, p=[0.29, 0.29, 0.42])
    valid = rng.random((n, 42)) > 0.1
    valid[hand_type == "right", 21:] = False
    valid[hand_type == "left", :21] = False
    uv = joints[..., :2] / joints[..., 2:] * 1200 + np.array([256, 167], np.float32)
    return GroundTruthTable(
        file_names=[f"Capture{i % 7}/seq/cam{i % 40}/image{i:07d}.jpg" for i in range(n)],
        joints_cam=joints,
        joints_img=uv.astype(np.float32),
        joint_valid=valid,
        hand_type=hand_type,
        intrinsics=np.tile(np.eye(3, dtype=np.float32), (n, 1, 1)),
    )


def _lines(gt: GroundTruthTable, rng: np.random.Generator):
    for i, name in enumerate(gt.file_names):
        hands = {}
        for hand, sl in (("right", slice(0, 21)), ("left", slice(21, 42))):
            if gt.hand_type[i] in (hand, "interacting"):
                joints = gt.joints_cam[i, sl] - gt.joints_cam[i, sl][20]
                hands[hand] = HandPrediction(
                    joints_3d=joints + rng.normal(0, 10, (21, 3)),
                    joints_2d=gt.joints_img[i, sl] + rng.normal(0, 3, (21, 2)),
                    score=0.9,
                )
        yield ImagePrediction(name, hands)


def main(n: int) -> None:
    rng = np.random.default_rng(0)
    gt = _ground_truth(n, rng)
    print(f"{n} images; peak RSS after the ground truth: {_peak_mib():.0f} MiB")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "predictions.jsonl"
        start = time.perf_counter()
        write_predictions(path, _lines(gt, rng))
        print(f"write: {time.perf_counter() - start:.1f} s, {path.stat().st_size / 2**20:.0f} MiB")
        start = time.perf_counter()
        matched = match_predictions(gt, iter_predictions(path, require=("joints_3d",)))
        print(f"read + validate + match: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        metrics = evaluate_interhand(gt, matched)
        print(f"all protocols: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        write_report(metrics, Path(tmp) / "out")
        print(f"report: {time.perf_counter() - start:.1f} s")
    print(f"official MPJPE ALL: {metrics['official']['mpjpe_all']:.2f} mm")
    print(f"peak RSS: {_peak_mib():.0f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
