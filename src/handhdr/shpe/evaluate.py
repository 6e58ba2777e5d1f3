"""The SHPE evaluation protocol (``handhdr eval-shpe``), for any single-hand estimator.

Protocol:

* hands: every hand of every single-hand image (``hand_type`` ``right`` or ``left``)
  of the split; a hand whose wrist is not annotated has no valid joint (the root
  rule of :mod:`handhdr.datasets.subsets`) and is only counted;
* crop: the square box of the hand's ground-truth amodal mask x ``box_scale`` (2),
  at the estimator's input size; left hands mirrored (:mod:`handhdr.shpe.hands`).
  Without masks (or with an empty amodal mask) the box of the valid 2D joints is
  used, and ``box_source`` in the results says how many hands that concerns;
* ``mpjpe``: wrist-aligned MPJPE (mm) after scaling the prediction so that its
  wrist-to-middle-MCP length equals the ground truth's (joints 20-11 of the hand,
  i.e. 20-11 / 41-32 of the 42-joint layout): the reference's rule. Hands whose
  middle MCP is not annotated cannot be scaled and are left out of it;
* ``mpjpe_prior_scale``: the same with the prediction as the estimator gave it
  (its own scale rule, e.g. DetNet's prior bone length);
* ``epe_2d``: mean 2D end-point error in crop pixels (at the estimator's input size);
* every mean is over all valid joints of all evaluated hands (the wrist, at error 0
  after alignment, included, as in the official InterHand2.6M code). Both the
  prediction and the ground truth are compared in the right-hand frame of the crop
  (mirroring is an isometry, so errors are those of the original hand).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from handhdr.datasets.interhand import InterHandDataset
from handhdr.joints import HAND_SLICES, INTERHAND_NAMES, MIDDLE_MCP, WRIST
from handhdr.shpe.hands import BOX_SOURCES, crop_hand
from handhdr.shpe.interface import (
    HandPoseResult,
    SingleHandEstimator,
    reference_bone_length,
    rescale_to_bone,
)

PROTOCOL = (
    "every hand of every single-hand image; crop = ground-truth amodal box x2 (square), "
    "left hands mirrored; mpjpe: wrist-aligned, prediction scaled to the ground-truth "
    "wrist-to-middle-MCP length; mpjpe_prior_scale: prediction as given; epe_2d: crop "
    "pixels; means over all valid joints (wrist included)"
)


@dataclass
class _Accumulator:
    """Ground truth and predictions of the evaluated hands."""

    gt_2d: list[np.ndarray] = field(default_factory=list)
    gt_3d: list[np.ndarray] = field(default_factory=list)
    valid: list[np.ndarray] = field(default_factory=list)
    results: list[HandPoseResult] = field(default_factory=list)
    hands: list[str] = field(default_factory=list)
    box_source: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BOX_SOURCES, 0))


def _mean(errors: np.ndarray, valid: np.ndarray) -> float | None:
    return float(errors[valid].mean()) if valid.any() else None


def _per_joint(errors: np.ndarray, valid: np.ndarray) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for j, name in enumerate(INTERHAND_NAMES):
        out[name] = float(errors[valid[:, j], j].mean()) if valid[:, j].any() else None
    return out


def pose_errors(
    pred_2d: np.ndarray,
    pred_3d: np.ndarray,
    gt_2d: np.ndarray,
    gt_3d: np.ndarray,
    valid: np.ndarray,
) -> dict[str, Any]:
    """Per-joint errors ``(N, 21)`` of the protocol and their validity.

    Returns ``mpjpe``/``mpjpe_prior_scale``/``epe_2d`` error arrays and the masks
    ``valid_3d`` (joint and wrist valid), ``valid_scaled`` (also the middle MCP) and
    ``valid_2d`` (joint valid).
    """
    valid = np.asarray(valid, bool)
    gt_rooted = gt_3d - gt_3d[:, WRIST : WRIST + 1]
    pred_rooted = pred_3d - pred_3d[:, WRIST : WRIST + 1]
    scaled = rescale_to_bone(pred_rooted, reference_bone_length(gt_rooted))
    valid_3d = valid & valid[:, WRIST : WRIST + 1]
    return {
        "mpjpe": np.linalg.norm(scaled - gt_rooted, axis=-1),
        "mpjpe_prior_scale": np.linalg.norm(pred_rooted - gt_rooted, axis=-1),
        "epe_2d": np.linalg.norm(np.asarray(pred_2d, np.float64) - gt_2d, axis=-1),
        "valid_3d": valid_3d,
        "valid_scaled": valid_3d & valid[:, MIDDLE_MCP : MIDDLE_MCP + 1],
        "valid_2d": valid,
    }


def evaluate_shpe(
    dataset: InterHandDataset,
    estimator: SingleHandEstimator,
    batch_size: int = 16,
    box_scale: float = 2.0,
    progress: bool = True,
    limit: int | None = None,
) -> dict[str, Any]:
    """Run ``estimator`` on the single hands of ``dataset`` and score them (module doc).

    ``limit``: evaluate only the first ``limit`` single-hand images (quick looks).
    """
    from tqdm import tqdm

    size = int(estimator.input_size)
    rows = np.flatnonzero(np.isin(dataset.hand_types, ("right", "left")))
    if limit is not None:
        rows = rows[: int(limit)]
    acc = _Accumulator()
    pending: list[np.ndarray] = []
    no_root = 0

    def flush() -> None:
        if pending:
            crops = np.stack(pending).transpose(0, 3, 1, 2)
            acc.results.append(estimator(crops))
            pending.clear()

    for row in tqdm(rows, desc=f"eval-shpe {estimator.name}", disable=not progress):
        sample = dataset[int(row)]
        hand = sample.hand_type
        if not sample.joint_valid[HAND_SLICES[hand]][WRIST]:
            no_root += 1
            continue
        crop = crop_hand(sample, hand, size, box_scale)
        if crop is None:  # a valid wrist always gives a joints box
            raise AssertionError(f"{sample.image_path}: no box for the {hand} hand")
        acc.box_source[crop.box_source] += 1
        acc.hands.append(hand)
        acc.gt_2d.append(crop.joints_2d)
        acc.gt_3d.append(crop.joints_3d)
        acc.valid.append(crop.valid)
        pending.append(crop.image)
        if len(pending) >= batch_size:
            flush()
    flush()
    return _summary(acc, len(rows), no_root, size, box_scale)


def _summary(
    acc: _Accumulator, images: int, no_root: int, size: int, box_scale: float
) -> dict[str, Any]:
    n = len(acc.hands)
    result = HandPoseResult.concatenate(acc.results) if acc.results else HandPoseResult.empty(0)
    if n:
        gt_2d, gt_3d, valid = np.stack(acc.gt_2d), np.stack(acc.gt_3d), np.stack(acc.valid)
    else:
        gt_2d, gt_3d, valid = np.zeros((0, 21, 2)), np.zeros((0, 21, 3)), np.zeros((0, 21), bool)
    e = pose_errors(result.joints_2d, result.joints_3d, gt_2d, gt_3d, valid)
    bone_ok = valid[:, WRIST] & valid[:, MIDDLE_MCP]
    notes = []
    if acc.box_source["joints"]:
        notes.append(
            f"{acc.box_source['joints']} of {n} hands had no amodal mask (no masks/ files, or "
            "an empty mask): their crop box is the box of the valid 2D joints x2"
        )
    return {
        "mpjpe": _mean(e["mpjpe"], e["valid_scaled"]),
        "mpjpe_prior_scale": _mean(e["mpjpe_prior_scale"], e["valid_3d"]),
        "epe_2d": _mean(e["epe_2d"], e["valid_2d"]),
        "per_joint_mpjpe": _per_joint(e["mpjpe"], e["valid_scaled"]),
        "counts": {
            "images": int(images),
            "hands": n,
            "right": acc.hands.count("right"),
            "left": acc.hands.count("left"),
            "hands_without_root": int(no_root),
            "hands_without_reference_bone": int((~bone_ok).sum()),
            "not_found": int((~result.found).sum()),
            "joints_3d": int(e["valid_3d"].sum()),
            "joints_scaled": int(e["valid_scaled"].sum()),
            "joints_2d": int(e["valid_2d"].sum()),
        },
        "box_source": dict(acc.box_source),
        "crop": {"size": size, "box_scale": box_scale},
        "protocol": PROTOCOL,
        "notes": notes,
    }


__all__ = ["PROTOCOL", "evaluate_shpe", "pose_errors"]
