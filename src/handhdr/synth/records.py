"""One generated sample: its pixels, and its record (the per-image annotation part).

The record holds, for one index, exactly what the four InterHand2.6M annotation
files need (image entry, annotation, camera, frame with world joints, MANO fit) plus
what the generator knows about the scene (interaction type, occlusion ratios,
rejections). It is written as one small JSON file per index, *after* the image and
mask files, so a record on disk means a complete sample; finalising a split turns
the records into the big annotation files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from handhdr.camera import camera_to_world, project
from handhdr.datasets.interhand_format import (
    box_of_joints,
    hand_type_valid_rule,
    image_file_name,
)
from handhdr.joints import HAND_SLICES
from handhdr.synth.cameras import Camera

PARTS_PER_FOLDER = 10_000


@dataclass
class SynthSample:
    """Everything one index produces."""

    index: int
    image: np.ndarray  # (H, W, 3) uint8 RGB
    masks: np.ndarray  # (4, H, W) bool, MASK_NAMES order
    hdr_gt: dict[str, np.ndarray]  # per hand with a non-empty amodal mask
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        """The image path relative to ``images/{split}/``."""
        return str(self.record["image"]["file_name"])


def joint_validity(
    joints_cam: np.ndarray,
    present: dict[str, bool | np.ndarray],
    camera: Camera,
    width: int,
    height: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(42,) validity -- the hand is in the scene (per hand, or per joint for sources
    with their own validity), the joint is in front of the camera and projects inside
    the image, InterHand2.6M's rule -- and the (42, 2) projections."""
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = project(joints_cam, camera.focal, camera.princpt)
    inside = (
        (joints_cam[:, 2] > 0)
        & (uv[:, 0] >= 0)
        & (uv[:, 0] < width)
        & (uv[:, 1] >= 0)
        & (uv[:, 1] < height)
    )
    valid = np.zeros(42, bool)
    for hand, sl in HAND_SLICES.items():
        valid[sl] = np.asarray(present.get(hand, False), bool)
    return valid & inside, uv


def build_record(
    *,
    index: int,
    capture: int,
    seq_name: str,
    camera: Camera,
    width: int,
    height: int,
    joints_cam: np.ndarray,
    present: dict[str, bool | np.ndarray],
    hand_type: str,
    mano_world: dict[str, dict[str, Any] | None],
    synth: dict[str, Any],
) -> dict[str, Any]:
    """The JSON-ready record of one sample.

    ``joints_cam`` (42, 3) mm in the camera frame (absent hands: anything finite);
    ``mano_world`` per hand ``{"pose", "shape", "trans", "hand_model"}`` in the world
    frame, or None.
    """
    joints_cam = np.asarray(joints_cam, np.float64)
    valid, uv = joint_validity(joints_cam, present, camera, width, height)
    world = camera_to_world(joints_cam, camera.rotation, camera.campos)
    for hand, sl in HAND_SLICES.items():
        if not np.any(present.get(hand, False)):
            world[sl] = 0.0  # an absent hand: zeros, never valid
    file_name = image_file_name(capture, seq_name, camera.name, index)
    type_valid = hand_type_valid_rule(hand_type, valid)
    return {
        "index": int(index),
        "image": {
            "id": int(index),
            "file_name": file_name,
            "width": int(width),
            "height": int(height),
            "capture": int(capture),
            "subject": int(capture),
            "seq_name": seq_name,
            "camera": camera.name,
            "frame_idx": int(index),
        },
        "annotation": {
            "id": int(index),
            "image_id": int(index),
            "bbox": box_of_joints(uv, valid, width, height).tolist(),
            "joint_valid": valid.astype(int).tolist(),
            "hand_type": hand_type,
            "hand_type_valid": bool(type_valid),
        },
        "camera": {
            "name": camera.name,
            "campos": np.asarray(camera.campos, np.float64).tolist(),
            "camrot": np.asarray(camera.rotation, np.float64).tolist(),
            "focal": np.asarray(camera.focal, np.float64).tolist(),
            "princpt": np.asarray(camera.princpt, np.float64).tolist(),
        },
        "world_coord": world.tolist(),
        "mano": {hand: _mano_json(mano_world.get(hand)) for hand in ("right", "left")},
        "synth": synth,
    }


def _mano_json(params: dict[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    out: dict[str, Any] = {
        key: np.asarray(params[key], np.float64).reshape(-1).tolist()
        for key in ("pose", "shape", "trans")
    }
    out["hand_model"] = str(params["hand_model"])
    return out


def part_path(root: Path, split: str, index: int) -> Path:
    """Where the record of ``index`` lives (10,000 records per folder)."""
    folder = f"{index // PARTS_PER_FOLDER:04d}"
    return Path(root) / "synth" / split / "parts" / folder / f"{index:08d}.json"


def write_part(root: Path, split: str, record: dict[str, Any]) -> Path:
    """Write a record atomically (last step of a sample)."""
    from handhdr.io import atomic_write_json

    path = part_path(root, split, int(record["index"]))
    atomic_write_json(path, record, indent=None)
    return path


def read_part(path: Path) -> dict[str, Any]:
    """Read one record, with an error naming the file when it is not one."""
    try:
        record = json.loads(Path(path).read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable synth record ({exc})") from exc
    for key in ("index", "image", "annotation", "camera", "world_coord", "mano", "synth"):
        if key not in record:
            raise ValueError(f"{path}: synth record without the key {key!r}")
    return record


def existing_indices(root: Path, split: str) -> set[int]:
    """Indices whose record is on disk (temporary files of killed writes are ignored)."""
    parts = Path(root) / "synth" / split / "parts"
    if not parts.is_dir():
        return set()
    return {int(p.stem) for p in parts.glob("*/*.json") if p.stem.isdigit() and len(p.stem) == 8}
