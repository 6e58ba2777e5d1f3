"""A disk cache of HDRM training crops, built once per dataset split and mask source.

Cutting crops means decoding the image, the mask PNG and the ground-truth image of
every sample (and, for stage 2, running HASM on it); the cache does that once.

Layout of a cache folder::

    shard_00000/images.npy   (n, R, R, 3) uint8   the crops
    shard_00000/targets.npy  (n, R, R, 3) uint8   their ground truth
    shard_00000/masks.npy    (n, R, R) uint8      bits 0-3: target amodal, target
                                                   visible, distractor amodal, visible
    shard_00000/index.json   per crop: file_name, hand, box (cx, cy, side, flip)
    ...
    manifest.json            the spec and the shard list: written last

Shard ``k`` holds the crops of samples ``k * shard_size ...``; each shard folder
is written under a temporary name and renamed when complete, so a killed build
resumes at the first missing shard, and a reader only accepts a folder with a
``manifest.json``. Arrays are memory-mapped when read. Disk: about
``R * R * 7`` bytes per crop (113 KB at R = 128, 450 KB at R = 256).

A crop is kept when its hand has a ground-truth image, its amodal mask is not empty
and its erased region ``M_D ∪ M_R`` has at least ``min_erased`` pixels (a crop with
nothing to inpaint teaches nothing: HDRNet leaves it unchanged).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from handhdr.datasets.schema import Sample
from handhdr.hdrm.data import HANDS, crop_hand, crop_regions
from handhdr.io import atomic_write_json

CACHE_VERSION = 1
MaskSource = Callable[[Sample], np.ndarray]  # a sample -> (4, H, W) bool masks


@dataclass(frozen=True)
class CacheSpec:
    """Everything that decides a cache's content (its folder name hashes it)."""

    root: str  # dataset folder, absolute
    kind: str
    split: str
    resolution: int
    scale: float
    masks: str  # "gt", or "hasm:<sha256 prefix of the weights>"
    min_erased: int = 16
    max_samples: int | None = None  # evenly spaced samples of the split; None: all
    shard_size: int = 256

    def digest(self) -> str:
        text = json.dumps({"version": CACHE_VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def folder_name(self) -> str:
        masks = self.masks.split(":")[0]
        return f"{Path(self.root).name}-{self.split}-{masks}-r{self.resolution}-{self.digest()}"


def sample_indices(total: int, max_samples: int | None) -> np.ndarray:
    """All indices, or ``max_samples`` evenly spaced ones."""
    if max_samples is None or total <= max_samples:
        return np.arange(total)
    return np.unique(np.linspace(0, total - 1, int(max_samples)).round().astype(np.int64))


def pack_masks(masks: np.ndarray) -> np.ndarray:
    """``(..., 4, R, R)`` bool -> ``(..., R, R)`` uint8, one bit per mask."""
    bits = np.asarray(masks, dtype=np.uint8) << np.arange(4, dtype=np.uint8)[:, None, None]
    return bits.sum(axis=-3, dtype=np.uint8)


def unpack_masks(packed: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pack_masks`."""
    return ((packed[..., None, :, :] >> np.arange(4, dtype=np.uint8)[:, None, None]) & 1).astype(
        bool
    )


class _SampleCrops(Dataset):
    """Crops of the samples at ``indices`` (runs in DataLoader workers)."""

    def __init__(
        self,
        reader: Sequence[Sample],
        indices: np.ndarray,
        spec: CacheSpec,
        mask_source: MaskSource | None,
    ) -> None:
        self.reader = reader
        self.indices = indices
        self.spec = spec
        self.mask_source = mask_source

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> list[dict[str, Any]]:
        sample = self.reader[int(self.indices[i])]
        if sample.image is None:
            raise ValueError(f"{sample.image_path}: the reader did not load the image")
        if not sample.hdr_gt:
            return []
        masks = self.mask_source(sample) if self.mask_source is not None else sample.masks
        if masks is None:
            raise ValueError(
                f"{sample.image_path}: no masks (HDRM stage 1 trains on ground-truth masks: "
                "masks/{split}/ beside the dataset)"
            )
        out = []
        for hand in HANDS:
            if hand not in sample.hdr_gt:
                continue
            crop = crop_hand(
                sample.image,
                masks,
                hand,
                self.spec.resolution,
                self.spec.scale,
                target=sample.hdr_gt[hand],
            )
            if crop is None:
                continue
            m_d, m_r = crop_regions(crop.masks)
            if int((m_d | m_r).sum()) < self.spec.min_erased:
                continue
            b = crop.box
            out.append(
                {
                    "file_name": sample.file_name,
                    "hand": hand,
                    "box": [b.center[0], b.center[1], b.side, b.flip],
                    "image": crop.image,
                    "target": crop.target,
                    "masks": pack_masks(crop.masks),
                }
            )
        return out


def _as_is(crops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return crops


def _write_shard(folder: Path, name: str, crops: list[dict[str, Any]], resolution: int) -> int:
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=folder))
    try:
        r = resolution
        images = np.zeros((len(crops), r, r, 3), np.uint8)
        targets = np.zeros((len(crops), r, r, 3), np.uint8)
        masks = np.zeros((len(crops), r, r), np.uint8)
        for k, crop in enumerate(crops):
            images[k], targets[k], masks[k] = crop["image"], crop["target"], crop["masks"]
        np.save(tmp / "images.npy", images)
        np.save(tmp / "targets.npy", targets)
        np.save(tmp / "masks.npy", masks)
        index = [{k: c[k] for k in ("file_name", "hand", "box")} for c in crops]
        (tmp / "index.json").write_text(json.dumps(index))
        os.replace(tmp, folder / name)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return len(crops)


def build_crop_cache(
    reader: Sequence[Sample],
    folder: str | os.PathLike[str],
    spec: CacheSpec,
    mask_source: MaskSource | None = None,
    workers: int = 0,
    progress: bool = True,
) -> Path:
    """Build (or finish building) the cache of ``reader`` in ``folder``; returns it.

    ``mask_source`` replaces the ground-truth masks (stage 2: HASM's prediction); it
    runs in this process, so ``workers`` only applies without one.
    """
    from tqdm import tqdm

    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if manifest_path.is_file():
        _check_manifest(manifest_path, spec)
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / "spec.json", asdict(spec))
    indices = sample_indices(len(reader), spec.max_samples)
    size = spec.shard_size
    chunks = [indices[k : k + size] for k in range(0, len(indices), size)]
    workers = 0 if mask_source is not None else workers
    shards = []
    bar = tqdm(
        total=len(indices), desc=f"HDRM crops {spec.split}", unit="img", disable=not progress
    )
    for k, chunk in enumerate(chunks):
        name = f"shard_{k:05d}"
        if not (folder / name).is_dir():
            loader = DataLoader(
                _SampleCrops(reader, chunk, spec, mask_source),
                batch_size=None,
                num_workers=workers,
                collate_fn=_as_is,
            )
            crops = [crop for crops_of_sample in loader for crop in crops_of_sample]
            _write_shard(folder, name, crops, spec.resolution)
        count = len(json.loads((folder / name / "index.json").read_text()))
        shards.append({"name": name, "count": count})
        bar.update(len(chunk))
        bar.set_postfix(crops=sum(s["count"] for s in shards))
    bar.close()
    atomic_write_json(
        manifest_path,
        {
            "version": CACHE_VERSION,
            "spec": asdict(spec),
            "samples": len(indices),
            "count": sum(s["count"] for s in shards),
            "shards": shards,
        },
    )
    return folder


def _check_manifest(path: Path, spec: CacheSpec) -> dict[str, Any]:
    manifest = json.loads(path.read_text())
    if manifest.get("version") != CACHE_VERSION or manifest.get("spec") != asdict(spec):
        raise ValueError(
            f"{path}: this crop cache was built for another spec ({manifest.get('spec')}); "
            "delete the folder or use another data.cache_root"
        )
    return manifest


class CropCache(Dataset):
    """A finished cache as a Dataset of ``{"image", "target": (3, R, R) uint8,
    "masks": (4, R, R) uint8}`` tensors."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        path = self.folder / "manifest.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not a finished HDRM crop cache (build it first)")
        self.manifest = json.loads(path.read_text())
        self.resolution = int(self.manifest["spec"]["resolution"])
        self._shards: list[dict[str, np.ndarray]] = []
        starts = []
        total = 0
        for shard in self.manifest["shards"]:
            starts.append(total)
            total += int(shard["count"])
            self._shards.append({})
        self._starts = np.array(starts, dtype=np.int64)
        self._total = total

    def __len__(self) -> int:
        return self._total

    def _arrays(self, s: int) -> dict[str, np.ndarray]:
        if not self._shards[s]:  # opened lazily, so that DataLoader workers map their own
            base = self.folder / self.manifest["shards"][s]["name"]
            for key in ("images", "targets", "masks"):
                self._shards[s][key] = np.load(base / f"{key}.npy", mmap_mode="r")
        return self._shards[s]

    def locate(self, index: int) -> tuple[int, int]:
        """(shard, position in the shard) of a crop."""
        if not 0 <= index < self._total:
            raise IndexError(f"crop {index} out of range for {self._total} crops")
        s = int(np.searchsorted(self._starts, index, side="right") - 1)
        return s, index - int(self._starts[s])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        s, k = self.locate(int(index))
        arrays = self._arrays(s)
        return {
            "image": torch.from_numpy(np.ascontiguousarray(arrays["images"][k].transpose(2, 0, 1))),
            "target": torch.from_numpy(
                np.ascontiguousarray(arrays["targets"][k].transpose(2, 0, 1))
            ),
            "masks": torch.from_numpy(
                unpack_masks(np.asarray(arrays["masks"][k])).astype(np.uint8)
            ),
        }
