"""Hands of InterHand2.6M-layout datasets as right-hand *context crops*, and their cache.

Which hands: every hand of the images whose ``hand_type`` is in ``hand_types``
(``right`` and ``left``: single-hand images, as the paper's SHPE; add ``interacting``
to also use both hands of two-hand images) whose wrist and middle MCP are annotated
and that have at least ``min_valid_joints`` annotated joints.

A context crop (:mod:`handhdr.shpe.augment`) is the hand's crop box (amodal mask box
x ``box_scale``, or the joints' box without masks) widened by ``context``, mirrored
for a left hand, with its 2D joints (context-crop pixels), wrist-relative right-hand
3D joints (mm) and validity. Training views are cut from it.

**Interacting hands** are cut from the frame as it is (``interacting_view="image"``:
the other hand occludes and distracts) or from their HDR ground truth
(``"hdr_gt"``: the frame with only that hand, complete, on the same background, as
:func:`handhdr.datasets.masks.hdr_gt_path` stores it). The second is what HDR hands
the estimator in the pipeline: de-occluded, the other hand removed.

**Cache**: the context crops of a split can be written once to a folder as ``.npy``
arrays (images ``(N, R, R, 3)`` uint8, ``joints_2d``, ``joints_3d``, ``valid``,
``rows``, ``hands``), so that training reads a memory map instead of decoding full
frames. Writing shows a progress bar and resumes after a kill (``progress.json``
counts the rows flushed to disk); ``meta.json``, written atomically last, marks a
complete cache, and nothing reads a cache without it. :func:`cache_key` names the
folder from the dataset folder, the split and every crop setting.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import DataLoader, Dataset, Subset

from handhdr.datasets.interhand import InterHandDataset
from handhdr.datasets.masks import hdr_gt_path
from handhdr.joints import HAND_SLICES, HANDS, MIDDLE_MCP, WRIST
from handhdr.shpe.hands import crop_hand

CACHE_VERSION = 1
INTERACTING_VIEWS = ("image", "hdr_gt")
_ARRAYS = ("images", "joints_2d", "joints_3d", "valid", "rows", "hands")


@dataclass(frozen=True)
class CropSettings:
    """How context crops are cut: view size, box scale, context factor."""

    input_size: int
    box_scale: float = 2.0
    context: float = 1.5

    @property
    def context_size(self) -> int:
        """Side of the context crop in pixels."""
        return int(round(self.input_size * self.context))

    @property
    def context_box_scale(self) -> float:
        """Box scale of the context crop (exactly ``box_scale`` x context_size / input)."""
        return self.box_scale * self.context_size / self.input_size


def hand_entries(
    reader: InterHandDataset, hand_types: Sequence[str], min_valid_joints: int = 10
) -> np.ndarray:
    """``(N, 2)`` int64 ``(row, hand)`` pairs (hand 0 right, 1 left) of the usable hands."""
    allowed = set(hand_types)
    bad = allowed - {"right", "left", "interacting"}
    if bad:
        raise ValueError(f"data.hand_types: unknown hand types {sorted(bad)}")
    types = reader.hand_types
    valid = reader.joint_valid
    out = []
    for h, hand in enumerate(HANDS):
        in_image = np.isin(types, [hand, "interacting"]) & np.isin(types, list(allowed))
        v = valid[:, HAND_SLICES[hand]]
        usable = v[:, WRIST] & v[:, MIDDLE_MCP] & (v.sum(axis=1) >= min_valid_joints)
        rows = np.flatnonzero(in_image & usable)
        out.append(np.stack([rows, np.full_like(rows, h)], axis=1))
    entries = np.concatenate(out).astype(np.int64)
    return entries[np.lexsort((entries[:, 1], entries[:, 0]))]


class ContextCrops(Dataset):
    """Context crops of a reader's hands, read from the full frames on the fly.

    Item: ``{"image": (R, R, 3) uint8, "joints_2d": (21, 2), "joints_3d": (21, 3),
    "valid": (21,), "row": int, "hand": int}`` (numpy). ``interacting_view``: where
    the hands of interacting images are cut from (module doc); ``"hdr_gt"`` needs a
    reader that loads the HDR ground truth.
    """

    def __init__(
        self,
        reader: InterHandDataset,
        entries: np.ndarray,
        settings: CropSettings,
        interacting_view: str = "image",
    ) -> None:
        if interacting_view not in INTERACTING_VIEWS:
            raise ValueError(
                f"interacting_view must be one of {INTERACTING_VIEWS}, got {interacting_view!r}"
            )
        if interacting_view == "hdr_gt" and not reader.load_hdr_gt:
            raise ValueError(
                f"{reader.root} ({reader.split}): interacting_view='hdr_gt' needs a reader "
                "opened with load_hdr_gt=True"
            )
        self.reader = reader
        self.entries = np.asarray(entries, dtype=np.int64).reshape(-1, 2)
        self.settings = settings
        self.interacting_view = interacting_view

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> dict[str, Any]:
        row, h = (int(v) for v in self.entries[index])
        sample = self.reader[row]
        s = self.settings
        picture = None
        if self.interacting_view == "hdr_gt" and sample.hand_type == "interacting":
            picture = sample.hdr_gt.get(HANDS[h])
            if picture is None:
                path = hdr_gt_path(self.reader.root, self.reader.split, sample.file_name, HANDS[h])
                raise FileNotFoundError(
                    f"{path}: no HDR ground truth for the {HANDS[h]} hand of interacting image "
                    f"{sample.file_name} (needed by interacting_view='hdr_gt'; handhdr synth "
                    "writes it, or use interacting_view='image')"
                )
        crop = crop_hand(sample, HANDS[h], s.context_size, s.context_box_scale, image=picture)
        if crop is None:  # cannot happen for hand_entries() rows: the wrist is valid
            raise ValueError(f"{sample.image_path}: the {HANDS[h]} hand has no box")
        return {
            "image": crop.image,
            "joints_2d": crop.joints_2d,
            "joints_3d": crop.joints_3d,
            "valid": crop.valid,
            "row": row,
            "hand": h,
        }


class CachedCrops(Dataset):
    """Context crops from a complete cache folder (memory-mapped, read-only)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        if not (self.folder / "meta.json").is_file():
            raise FileNotFoundError(f"{self.folder}: not a complete SHPE crops cache")
        self.meta = json.loads((self.folder / "meta.json").read_text())
        self._arrays: dict[str, np.ndarray] | None = None  # opened lazily, per worker

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        if self._arrays is None:
            self._arrays = {k: np.load(self.folder / f"{k}.npy", mmap_mode="r") for k in _ARRAYS}
        return self._arrays

    def __getstate__(self) -> dict[str, Any]:
        # worker processes open their own memory maps instead of receiving copies
        return {**self.__dict__, "_arrays": None}

    def __len__(self) -> int:
        return int(self.meta["count"])

    def __getitem__(self, index: int) -> dict[str, Any]:
        a = self.arrays
        return {
            "image": np.array(a["images"][index]),  # copies: writable, off the map
            "joints_2d": np.array(a["joints_2d"][index]),
            "joints_3d": np.array(a["joints_3d"][index]),
            "valid": np.array(a["valid"][index]),
            "row": int(a["rows"][index]),
            "hand": int(a["hands"][index]),
        }


def cache_key(root: str | os.PathLike[str], split: str, settings: CropSettings, extra: Any) -> str:
    """Folder name of the cache of ``split`` of ``root`` with these settings."""
    blob = json.dumps(
        {
            "version": CACHE_VERSION,
            "root": str(Path(root).resolve()),
            "split": split,
            "settings": vars(settings),
            "extra": extra,
        },
        sort_keys=True,
    )
    digest = hashlib.sha1(blob.encode()).hexdigest()[:12]
    return f"{Path(root).name}-{split}-{settings.input_size}-{digest}"


def _collate_numpy(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return items


def build_cache(
    crops: ContextCrops,
    folder: str | os.PathLike[str],
    num_workers: int = 0,
    chunk: int = 64,
    progress: bool = True,
) -> CachedCrops:
    """Write ``crops`` to ``folder`` (resuming a previous partial run), then open it."""
    from tqdm import tqdm

    from handhdr.io import atomic_write_json

    folder = Path(folder)
    if (folder / "meta.json").is_file():
        return CachedCrops(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n, r = len(crops), crops.settings.context_size
    shapes = {
        "images": ((n, r, r, 3), np.uint8),
        "joints_2d": ((n, 21, 2), np.float32),
        "joints_3d": ((n, 21, 3), np.float32),
        "valid": ((n, 21), np.bool_),
        "rows": ((n,), np.int64),
        "hands": ((n,), np.int8),
    }
    progress_file = folder / "progress.json"
    state = json.loads(progress_file.read_text()) if progress_file.is_file() else {}
    arrays: dict[str, np.ndarray] = {}
    if state.get("count") == n and state.get("size") == r:  # resume a partial cache
        for name, (shape, dtype) in shapes.items():
            path = folder / f"{name}.npy"
            if path.is_file():
                array = np.load(path, mmap_mode="r+")
                if array.shape == shape and array.dtype == dtype:
                    arrays[name] = array
    if len(arrays) == len(shapes):
        done = int(state["done"])
    else:
        done = 0
        arrays = {
            name: np.lib.format.open_memmap(folder / f"{name}.npy", "w+", dtype, shape)
            for name, (shape, dtype) in shapes.items()
        }
    todo = Subset(crops, range(done, n))
    loader = DataLoader(todo, batch_size=chunk, num_workers=num_workers, collate_fn=_collate_numpy)
    bar = tqdm(total=n, initial=done, desc=f"SHPE crops cache {folder.name}", disable=not progress)
    position = done
    for items in loader:
        for item in items:
            for name in ("joints_2d", "joints_3d", "valid"):
                arrays[name][position] = item[name]
            arrays["images"][position] = item["image"]
            arrays["rows"][position] = item["row"]
            arrays["hands"][position] = item["hand"]
            position += 1
        for array in arrays.values():
            array.flush()
        atomic_write_json(progress_file, {"count": n, "size": r, "done": position})
        bar.update(len(items))
    bar.close()
    del arrays
    atomic_write_json(
        folder / "meta.json",
        {"version": CACHE_VERSION, "count": n, "size": r, "settings": vars(crops.settings)},
    )
    progress_file.unlink(missing_ok=True)
    return CachedCrops(folder)


def mean_reference_bone(crops: Dataset) -> float | None:
    """Mean wrist-to-middle-MCP length (mm) over the hands of a crops dataset."""
    if isinstance(crops, CachedCrops):
        joints = np.asarray(crops.arrays["joints_3d"])
    elif isinstance(crops, ContextCrops):
        parts = []
        for start in range(0, len(crops.entries), 8192):
            rows, hands = crops.entries[start : start + 8192].T
            cam, _ = crops.reader.camera_joints(rows)
            right, left = cam[:, HAND_SLICES["right"]], cam[:, HAND_SLICES["left"]]
            parts.append(np.where((hands == 0)[:, None, None], right, left))
        joints = np.concatenate(parts) if parts else np.zeros((0, 21, 3), np.float32)
    else:
        raise TypeError(f"not a crops dataset: {type(crops).__name__}")
    if len(joints) == 0:
        return None
    bone = np.linalg.norm(joints[:, MIDDLE_MCP] - joints[:, WRIST], axis=-1)
    return float(bone.mean())


__all__ = [
    "CachedCrops",
    "ContextCrops",
    "CropSettings",
    "INTERACTING_VIEWS",
    "build_cache",
    "cache_key",
    "hand_entries",
    "mean_reference_bone",
]
