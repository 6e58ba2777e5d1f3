"""Finalise a generated split: merge the per-sample records into the dataset files.

For the InterHand2.6M layout this writes the four annotation files
(``_data``, ``_camera``, ``_joint_3d``, ``_MANO_NeuralAnnot``) through
:mod:`handhdr.datasets.interhand_format`, each atomically. For every layout it writes
``synth/{split}/scenes.json`` (per image: interaction type, per-hand occlusion ratio)
and ``synth/{split}/stats.json`` (counts, rejections, the occlusion histogram).
Finalising needs the records of every index ``0 .. num-1``: shards generated
anywhere are merged by copying their folders together and finalising once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from handhdr.datasets.interhand_format import (
    InterHandCamera,
    InterHandFrame,
    InterHandImage,
    ManoParams,
    write_interhand_split,
)
from handhdr.io import atomic_write_json
from handhdr.synth.config import SynthConfig, load_config
from handhdr.synth.records import existing_indices, part_path, read_part

OCCLUSION_BINS = np.linspace(0.0, 1.0, 11)


class IncompleteSplitError(RuntimeError):
    """Some records of the split are missing; the message names them."""


@dataclass
class FinalizeResult:
    """What finalising wrote."""

    num: int
    paths: dict[str, Path]
    stats: dict[str, Any]


def config_path(root: Path, split: str) -> Path:
    """Where a split's generator config is stored."""
    return Path(root) / "synth" / split / "config.json"


def missing_indices(root: Path, split: str, num: int) -> list[int]:
    """Indices below ``num`` without a record."""
    present = existing_indices(root, split)
    return [i for i in range(num) if i not in present]


def _describe_missing(missing: list[int], num: int) -> str:
    head = ", ".join(str(i) for i in missing[:8]) + (" ..." if len(missing) > 8 else "")
    return f"{len(missing)} of {num} samples have no record yet (indices {head})"


def _mano(entry: dict[str, Any] | None) -> ManoParams | None:
    if entry is None:
        return None
    return ManoParams(
        pose=np.asarray(entry["pose"], np.float64),
        shape=np.asarray(entry["shape"], np.float64),
        trans=np.asarray(entry["trans"], np.float64),
        hand_model=entry.get("hand_model"),
    )


def _entries(record: dict[str, Any]) -> tuple[InterHandFrame, InterHandCamera, InterHandImage]:
    image, annotation, cam = record["image"], record["annotation"], record["camera"]
    valid = np.asarray(annotation["joint_valid"], bool)
    frame = InterHandFrame(
        capture=int(image["capture"]),
        frame_idx=int(image["frame_idx"]),
        world_coord=np.asarray(record["world_coord"], np.float64),
        joint_valid=valid,
        hand_type=annotation["hand_type"],
        hand_type_valid=bool(annotation["hand_type_valid"]),
        seq_name=image["seq_name"],
        subject=int(image["subject"]),
        mano={hand: _mano(record["mano"][hand]) for hand in ("right", "left")},
    )
    camera = InterHandCamera(
        capture=int(image["capture"]),
        name=str(cam["name"]),
        campos=np.asarray(cam["campos"], np.float64),
        camrot=np.asarray(cam["camrot"], np.float64),
        focal=np.asarray(cam["focal"], np.float64),
        princpt=np.asarray(cam["princpt"], np.float64),
        image_size=(int(image["width"]), int(image["height"])),
    )
    entry = InterHandImage(
        image_id=int(image["id"]),
        annot_id=int(annotation["id"]),
        capture=int(image["capture"]),
        seq_name=image["seq_name"],
        subject=int(image["subject"]),
        camera=str(image["camera"]),
        frame_idx=int(image["frame_idx"]),
        width=int(image["width"]),
        height=int(image["height"]),
        bbox=np.asarray(annotation["bbox"], np.float64),
        joint_valid=valid,
        hand_type=annotation["hand_type"],
        hand_type_valid=bool(annotation["hand_type_valid"]),
    )
    return frame, camera, entry


class _Summary:
    """Running counts over the records of a split."""

    def __init__(self) -> None:
        self.hand_types: Counter[str] = Counter()
        self.scenes: Counter[str] = Counter()
        self.counters: Counter[str] = Counter()
        self.occlusion: dict[str, list[float]] = {"sh": [], "ih": [], "ih_max": []}
        self.per_image: list[dict[str, Any]] = []

    def add(self, record: dict[str, Any]) -> None:
        synth = record["synth"]
        hand_type = record["annotation"]["hand_type"]
        self.hand_types[hand_type] += 1
        self.scenes[str(synth.get("scene", "unknown"))] += 1
        for key, value in synth.get("counters", {}).items():
            self.counters[key] += int(value)
        occlusion = synth.get("occlusion", {})
        group = "ih" if hand_type == "interacting" else "sh"
        values = [float(v) for v in occlusion.values() if v is not None]
        self.occlusion[group].extend(values)
        if group == "ih" and values:
            self.occlusion["ih_max"].append(max(values))
        self.per_image.append(
            {
                "id": int(record["image"]["id"]),
                "file_name": record["image"]["file_name"],
                "scene": synth.get("scene"),
                "occlusion": occlusion,
            }
        )

    def stats(self, config: SynthConfig, num: int) -> dict[str, Any]:
        histograms = {}
        for group, values in self.occlusion.items():
            counts, _ = np.histogram(np.asarray(values, np.float64), bins=OCCLUSION_BINS)
            histograms[group] = {
                "count": len(values),
                "mean": float(np.mean(values)) if values else None,
                "median": float(np.median(values)) if values else None,
                "histogram": counts.tolist(),
            }
        return {
            "num": num,
            "config": config.to_json(),
            "hand_types": dict(sorted(self.hand_types.items())),
            "scenes": dict(sorted(self.scenes.items())),
            "counters": dict(sorted(self.counters.items())),
            "occlusion_bins": OCCLUSION_BINS.tolist(),
            "occlusion": histograms,
        }


def finalize(
    root: Path, split: str, num: int | None = None, progress: bool = True
) -> FinalizeResult:
    """Merge the records ``0 .. num-1`` of ``split`` into the dataset's files.

    ``num`` defaults to one past the largest index on disk; any index below it
    without a record is an :class:`IncompleteSplitError` naming the missing ones.
    """
    root = Path(root)
    if not config_path(root, split).is_file():
        raise IncompleteSplitError(
            f"{root}: no generated {split} split here ({config_path(root, split)} is missing)"
        )
    config = load_config(config_path(root, split))
    if num is None:
        present = existing_indices(root, split)
        if not present:
            raise IncompleteSplitError(f"{root}: no generated {split} samples to finalise")
        num = max(present) + 1
    missing = missing_indices(root, split, num)
    if missing:
        raise IncompleteSplitError(f"{root} ({split}): {_describe_missing(missing, num)}")

    frames: list[InterHandFrame] = []
    cameras: dict[tuple[int, str], InterHandCamera] = {}
    images: list[InterHandImage] = []
    summary = _Summary()
    indices: Any = range(num)
    if progress:
        from tqdm import tqdm

        indices = tqdm(indices, desc=f"finalise {split}", unit="sample")
    for index in indices:
        record = read_part(part_path(root, split, index))
        summary.add(record)
        if config.format == "interhand":
            frame, camera, image = _entries(record)
            frames.append(frame)
            cameras.setdefault((camera.capture, camera.name), camera)
            images.append(image)

    paths: dict[str, Path] = {}
    if config.format == "interhand":
        paths.update(
            write_interhand_split(
                root, split, frames, list(cameras.values()), images, write_mano=True
            )
        )
    stats = summary.stats(config, num)
    synth_dir = root / "synth" / split
    atomic_write_json(synth_dir / "scenes.json", summary.per_image, indent=None)
    atomic_write_json(synth_dir / "stats.json", stats)
    paths["scenes"] = synth_dir / "scenes.json"
    paths["stats"] = synth_dir / "stats.json"
    return FinalizeResult(num=num, paths=paths, stats=stats)
