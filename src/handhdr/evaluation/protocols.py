"""Every evaluation protocol, side by side, over the subsets SH, IH, ALL and Inter.

This module owns the scoring rules:

* an image without a line in the predictions is *missing*: counted, listed, and left
  out of every mean;
* a hand that a line leaves out while the ground truth has valid joints for it is
  scored as all 21 joints at its root: zeros in 3D (root-relative), and in 2D the
  ground-truth wrist (or, where the wrist is not annotated, as in Tzionas, the
  centroid of the hand's valid ground-truth joints);
* a line for an image the ground truth does not have is *unknown*: counted and listed.

3D validity is ``root_validated(joint_valid)`` for every 3D protocol (the official
rule; a hand without a valid wrist cannot be aligned); 2D EPE uses ``joint_valid``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from handhdr.datasets.schema import GroundTruthTable
from handhdr.datasets.subsets import root_validated, subset_mask
from handhdr.evaluation import metrics
from handhdr.evaluation.matching import MatchedPredictions
from handhdr.joints import HAND_SLICES, HANDS, INTERHAND42_NAMES, ROOT_INDEX

# metrics.json key suffix -> subset name of handhdr.datasets.subsets
SUBSETS: dict[str, str] = {"sh": "SH", "ih": "IH", "all": "ALL", "inter": "Inter"}
PROTOCOLS_3D: tuple[str, ...] = ("official", "wrist_aligned_mean", "middle_mcp_scaled", "pa_mpjpe")
BLOCK_ROWS = 16384


def _num(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _list(values: np.ndarray) -> list[float | None]:
    return [_num(float(v)) for v in values]


def subset_masks(gt: GroundTruthTable, predicted: np.ndarray) -> dict[str, np.ndarray]:
    """``{"sh": (N,) bool, ...}``: the predicted images of each subset."""
    return {
        key: subset_mask(name, gt.hand_type, gt.joint_valid) & predicted
        for key, name in SUBSETS.items()
    }


def _blocks(n: int, size: int = BLOCK_ROWS) -> list[slice]:
    """Row blocks: metrics run block by block so temporaries stay small."""
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def scored_joints_3d(joints_3d: np.ndarray) -> np.ndarray:
    """``(n, 42, 3)`` float64 predictions with each absent hand (NaN) at its root: zeros."""
    return np.nan_to_num(np.asarray(joints_3d, dtype=np.float64), nan=0.0)


def scored_joints_2d(
    joints_2d: np.ndarray, hands_predicted: np.ndarray, gt_2d: np.ndarray, gt_valid: np.ndarray
) -> np.ndarray:
    """``(n, 42, 2)`` float64 predictions with each absent hand at its ground-truth root.

    The root is the ground-truth wrist when it is valid, else the centroid of the
    hand's valid ground-truth joints (Tzionas annotates no wrist).
    """
    pred = np.asarray(joints_2d, dtype=np.float64).copy()
    gt_2d = np.asarray(gt_2d, dtype=np.float64)
    gt_valid = np.asarray(gt_valid, dtype=bool)
    for h, hand in enumerate(HANDS):
        sl, wrist = HAND_SLICES[hand], ROOT_INDEX[hand]
        absent = ~np.asarray(hands_predicted, dtype=bool)[:, h]
        hand_valid = gt_valid[:, sl, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            centroid = np.where(hand_valid, gt_2d[:, sl], 0.0).sum(1) / hand_valid.sum(1)
        root = np.where(gt_valid[:, wrist, None], gt_2d[:, wrist], centroid)
        pred[absent, sl] = np.nan_to_num(root[absent], nan=0.0)[:, None, :]
    return pred


def _hand_counts(
    gt: GroundTruthTable, matched: MatchedPredictions, hand_has_gt: np.ndarray
) -> dict[str, int]:
    """Hands missed (the ground truth has valid joints for them, the line has no such
    hand) and extra hands (predicted, but not implied by the ground-truth hand type)."""
    rows = matched.predicted[:, None]
    implied = metrics.expected_hands(gt.hand_type)
    return {
        "hands_missed": int((rows & hand_has_gt & ~matched.hands_predicted).sum()),
        "hands_extra": int((rows & ~implied & matched.hands_predicted).sum()),
    }


def counts_block(
    gt: GroundTruthTable, matched: MatchedPredictions, hand_has_gt: np.ndarray
) -> dict[str, Any]:
    """Images predicted / missing / unknown, with examples, and per-subset sizes."""
    missing_rows = np.flatnonzero(~matched.predicted)
    masks = subset_masks(gt, matched.predicted)
    return {
        "images_ground_truth": len(gt),
        "images_predicted": int(matched.predicted.sum()),
        "images_missing": int(missing_rows.size),
        "missing_examples": [gt.file_names[i] for i in missing_rows[:5]],
        "images_unknown": matched.unknown_count,
        "unknown_examples": list(matched.unknown_examples),
        **_hand_counts(gt, matched, hand_has_gt),
        "images_per_subset": {key: int(mask.sum()) for key, mask in masks.items()},
    }


def handedness_block(
    gt: GroundTruthTable, matched: MatchedPredictions, subsets: tuple[str, ...] = tuple(SUBSETS)
) -> dict[str, Any]:
    """Handedness accuracy per subset over the predicted images."""
    correct = metrics.handedness_correct(matched.hands_predicted, gt.hand_type)
    masks = subset_masks(gt, matched.predicted)
    return {
        f"accuracy_{key}": float(correct[masks[key]].mean()) if masks[key].any() else None
        for key in subsets
    }


def _hands_with_joints(matched: MatchedPredictions, joints: np.ndarray) -> bool:
    """Whether every predicted hand of every predicted image carries these joints."""
    for h, hand in enumerate(HANDS):
        rows = matched.predicted & matched.hands_predicted[:, h]
        if np.isnan(joints[rows, HAND_SLICES[hand]]).any():
            return False
    return True


def epe_2d_block(
    gt: GroundTruthTable, matched: MatchedPredictions, subsets: tuple[str, ...] = tuple(SUBSETS)
) -> tuple[dict[str, Any], np.ndarray]:
    """2D EPE (pixels): plain mean over valid joints per subset (keys of :data:`SUBSETS`),
    and the per-joint means over all predicted images."""
    valid = gt.joint_valid.astype(bool) & matched.predicted[:, None]
    errors = np.empty(valid.shape)
    for rows in _blocks(len(gt)):
        pred = scored_joints_2d(
            matched.joints_2d[rows],
            matched.hands_predicted[rows],
            gt.joints_img[rows],
            gt.joint_valid[rows],
        )
        errors[rows] = metrics.epe_2d(pred, gt.joints_img[rows])
    block: dict[str, Any] = {}
    masks = subset_masks(gt, matched.predicted)
    for key in subsets:
        block[f"epe_{key}"] = metrics.mean_over_valid(errors[masks[key]], valid[masks[key]])
    return block, metrics.per_joint_mean(errors, valid)


def mrrpe_block(gt: GroundTruthTable, matched: MatchedPredictions) -> dict[str, Any]:
    """MRRPE (mm) over interacting images with both roots valid and both hands predicted.

    Only lines whose ``joints_3d_frame`` is ``"camera"`` can give it; null otherwise.
    """
    roots_valid = gt.joint_valid[:, ROOT_INDEX["right"]] & gt.joint_valid[:, ROOT_INDEX["left"]]
    eligible = matched.predicted & (gt.hand_type == "interacting") & roots_valid.astype(bool)
    rows = eligible & matched.camera_frame & matched.hands_predicted.all(axis=1)
    block: dict[str, Any] = {
        "mrrpe": None,
        "images": int(rows.sum()),
        "images_root_relative": int((eligible & ~matched.camera_frame).sum()),
        "images_one_hand_missing": int(
            (eligible & matched.camera_frame & ~matched.hands_predicted.all(axis=1)).sum()
        ),
    }
    if rows.any():
        block["mrrpe"] = float(metrics.mrrpe(matched.joints_3d[rows], gt.joints_cam[rows]).mean())
    else:
        block["note"] = "needs joints_3d_frame 'camera' lines of interacting images"
    return block


def evaluate_interhand(gt: GroundTruthTable, matched: MatchedPredictions) -> dict[str, Any]:
    """All 3D protocols (and 2D EPE when every hand has ``joints_2d``) on a 3D dataset.

    Returns the metrics.json content: blocks ``official``, ``wrist_aligned_mean``,
    ``middle_mcp_scaled``, ``pa_mpjpe`` (each ``mpjpe_sh``, ``mpjpe_ih``,
    ``mpjpe_all``, ``mpjpe_inter``, mm), ``mrrpe``, ``handedness``, ``epe_2d``,
    ``per_joint`` and ``counts``.
    """
    valid = root_validated(gt.joint_valid) & matched.predicted[:, None]
    masks = subset_masks(gt, matched.predicted)
    aligned_errors, mcp_errors, pa = (np.empty(valid.shape) for _ in range(3))
    mcp_valid = np.empty(valid.shape, dtype=bool)
    for rows in _blocks(len(gt)):
        pred = scored_joints_3d(matched.joints_3d[rows])
        target = np.asarray(gt.joints_cam[rows], dtype=np.float64)
        aligned_errors[rows] = metrics.joint_errors(
            metrics.root_aligned(pred), metrics.root_aligned(target)
        )
        mcp_errors[rows], mcp_valid[rows] = metrics.middle_mcp_scaled_errors(
            pred, target, valid[rows]
        )
        pa[rows] = metrics.pa_errors(pred, target, valid[rows])

    result: dict[str, Any] = {protocol: {} for protocol in PROTOCOLS_3D}
    per_joint: dict[str, Any] = {"joint_names": list(INTERHAND42_NAMES)}
    for key, mask in masks.items():
        joint_means = metrics.per_joint_mean(aligned_errors[mask], valid[mask])
        per_joint[f"official_{key}"] = _list(joint_means)
        result["official"][f"mpjpe_{key}"] = metrics.mean_of_joint_means(joint_means)
        result["wrist_aligned_mean"][f"mpjpe_{key}"] = metrics.mean_over_valid(
            aligned_errors[mask], valid[mask]
        )
        result["middle_mcp_scaled"][f"mpjpe_{key}"] = metrics.mean_over_valid(
            mcp_errors[mask], mcp_valid[mask]
        )
        result["pa_mpjpe"][f"mpjpe_{key}"] = metrics.mean_over_valid(pa[mask], valid[mask])

    result["mrrpe"] = mrrpe_block(gt, matched)
    result["handedness"] = handedness_block(gt, matched)
    if _hands_with_joints(matched, matched.joints_2d):
        result["epe_2d"], epe_joints = epe_2d_block(gt, matched)
        per_joint["epe_2d_all"] = _list(epe_joints)
    else:
        result["epe_2d"] = {"note": "some predicted hands have no joints_2d"}
    result["per_joint"] = per_joint
    hand_has_gt = np.stack([valid[:, HAND_SLICES[h]].any(axis=1) for h in HANDS], axis=1)
    result["counts"] = counts_block(gt, matched, hand_has_gt)
    return result


def evaluate_2d(gt: GroundTruthTable, matched: MatchedPredictions) -> dict[str, Any]:
    """2D protocols (Tzionas): EPE in pixels per subset, per joint, handedness, counts.

    Inter is left out: it counts 3D joints after the wrist rule, and 2D datasets such
    as Tzionas annotate no wrist.
    """
    valid = gt.joint_valid.astype(bool) & matched.predicted[:, None]
    subsets = ("sh", "ih", "all")
    block, joint_means = epe_2d_block(gt, matched, subsets)
    hand_has_gt = np.stack([valid[:, HAND_SLICES[h]].any(axis=1) for h in HANDS], axis=1)
    return {
        "epe_2d": block,
        "handedness": handedness_block(gt, matched, subsets),
        "per_joint": {"joint_names": list(INTERHAND42_NAMES), "epe_2d_all": _list(joint_means)},
        "counts": counts_block(gt, matched, hand_has_gt),
    }
