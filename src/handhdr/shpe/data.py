"""SHPE training data: right-hand views of InterHand2.6M-layout datasets, in batches.

Sources are InterHand2.6M-layout folders (InterHand2.6M itself, our synthetic data).
Each split's hands become context crops (:mod:`handhdr.shpe.crops`; written once to a
cache under ``data.cache_dir`` when ``data.cache`` is true), and the DataLoader
workers cut random training views (:mod:`handhdr.shpe.augment`) or the centre view
(validation) from them. Training takes the hands of ``data.hand_types`` (interacting
ones cut as ``data.interacting_view`` says); validation always takes those of the
single-hand images, the hands ``handhdr eval-shpe`` scores. The mean
wrist-to-middle-MCP length of the training hands is kept as ``reference_bone_mm`` for
the model's prior.

AIH folders carry no joint annotations (:mod:`handhdr.datasets.aih`): they cannot
train SHPE, and passing one is an error that says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig
from torch.utils.data import ConcatDataset, Dataset, Subset

from handhdr.datasets.interhand import InterHandDataset
from handhdr.shpe.augment import AugmentConfig, centre_view, random_view
from handhdr.shpe.config import augment_config, crop_settings
from handhdr.shpe.crops import (
    CachedCrops,
    ContextCrops,
    build_cache,
    cache_key,
    hand_entries,
    mean_reference_bone,
)
from handhdr.training.datamodule import StageDataModule

log = logging.getLogger(__name__)
VAL_HAND_TYPES = ("right", "left")  # the eval-shpe protocol's hands


class HandViews(Dataset):
    """Network inputs from context crops: random views when ``train``, else centre views.

    Item: ``{"image": (3, S, S) uint8, "joints_2d": (21, 2) float32 view pixels,
    "joints_3d": (21, 3) float32 wrist-relative mm, "valid": (21,) bool}``.
    """

    def __init__(
        self, crops: Dataset, size: int, train: bool, augment: AugmentConfig | None = None
    ) -> None:
        self.crops = crops
        self.size = size
        self.train = train
        self.augment = augment or AugmentConfig()

    def __len__(self) -> int:
        return len(self.crops)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = self.crops[index]
        if self.train:
            # drawn from torch's generator: seeded per worker and epoch by the DataLoader
            rng = np.random.default_rng(int(torch.randint(0, 2**62, ()).item()))
            image, joints_2d, joints_3d = random_view(
                rng, item["image"], item["joints_2d"], item["joints_3d"], self.size, self.augment
            )
        else:
            image, joints_2d = centre_view(item["image"], item["joints_2d"], self.size)
            joints_3d = item["joints_3d"]
        return {
            "image": torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))),
            "joints_2d": torch.from_numpy(np.asarray(joints_2d, np.float32)),
            "joints_3d": torch.from_numpy(np.asarray(joints_3d, np.float32)),
            "valid": torch.from_numpy(np.asarray(item["valid"], bool)),
        }


def open_interhand(root: str, kind: str, split: str, hdr_gt: bool = False) -> InterHandDataset:
    """The InterHand2.6M-layout reader of a source (with the HDR ground truth when
    ``hdr_gt``); other kinds have no joints."""
    from handhdr.training.sources import detect_kind

    resolved = detect_kind(root) if kind == "auto" else kind
    if resolved != "interhand":
        raise ValueError(
            f"{root}: a {resolved} folder has no joint annotations, so it cannot train SHPE; "
            "use InterHand2.6M-layout data (InterHand2.6M itself or handhdr synth output)"
        )
    return InterHandDataset(
        root, split=split, load_images=True, load_masks=True, load_hdr_gt=hdr_gt
    )


def _evenly(dataset: Dataset, limit: int | None) -> Dataset:
    n = len(dataset)  # type: ignore[arg-type]
    if limit is None or n <= limit:
        return dataset
    return Subset(dataset, np.linspace(0, n - 1, int(limit)).round().astype(int).tolist())


class SHPEDataModule(StageDataModule):
    """Train and validation loaders of right-hand views over ``cfg.data.sources``."""

    unit = "hands"

    def __init__(self, cfg: DictConfig) -> None:
        super().__init__(cfg)
        self.reference_bone_mm: float | None = None

    def _crops(self, root: str, kind: str, split: str, build: bool, train: bool) -> Dataset | None:
        d, settings = self.cfg.data, crop_settings(self.cfg)
        # validation scores the hands eval-shpe scores: those of single-hand images
        hand_types = list(d.hand_types) if train else list(VAL_HAND_TYPES)
        view = str(d.get("interacting_view", "image"))
        uses_view = "interacting" in hand_types
        reader = open_interhand(root, kind, split, hdr_gt=uses_view and view == "hdr_gt")
        entries = hand_entries(reader, hand_types, int(d.min_valid_joints))
        if len(entries) == 0 and not train:
            log.info("SHPE data: %s %s has no single-hand image to validate on", root, split)
            return None
        if len(entries) == 0:
            raise ValueError(
                f"{root} ({split}): no usable hand (hand types {hand_types}, wrist and "
                f"middle MCP annotated, at least {d.min_valid_joints} joints)"
            )
        crops = ContextCrops(reader, entries, settings, view if uses_view else "image")
        if not d.cache:
            return crops
        annotations = reader.files.data.stat()  # a regenerated dataset gets a new cache
        extra = {
            "hand_types": sorted(hand_types),
            "min_valid_joints": int(d.min_valid_joints),
            **({"interacting_view": view} if uses_view and view != "image" else {}),
            "annotations": [annotations.st_size, annotations.st_mtime_ns],
        }
        folder = Path(self.cache_dir) / cache_key(root, split, settings, extra)
        if build:
            return build_cache(crops, folder, num_workers=int(d.num_workers))
        return CachedCrops(folder)

    @property
    def cache_dir(self) -> Path:
        d = self.cfg.data
        return Path(d.cache_dir) if d.cache_dir else Path(self.cfg.run.root) / "cache" / "shpe"

    def _splits(self) -> list[tuple[str, str, str, bool]]:
        from handhdr.training.sources import has_split

        d = self.cfg.data
        if not d.sources:
            raise ValueError("no training data: pass --data DIR (or set data.sources)")
        out = []
        for source in d.sources:
            root, kind = str(source["root"]), str(source.get("kind", "auto"))
            out.append((root, kind, str(d.train_split), True))
            if d.val_split and has_split(root, kind, d.val_split):
                out.append((root, kind, str(d.val_split), False))
        return out

    def prepare_data(self) -> None:
        if self.cfg.data.cache:
            for root, kind, split, is_train in self._splits():
                self._crops(root, kind, split, build=True, train=is_train)

    def setup(self, stage: str | None = None) -> None:
        size, augment = int(self.cfg.input_size), augment_config(self.cfg)
        train, val, bones = [], [], []
        for root, kind, split, is_train in self._splits():
            crops = self._crops(root, kind, split, build=not self.cfg.data.cache, train=is_train)
            if crops is None:
                continue
            log.info("SHPE data: %s %s: %d hands", root, split, len(crops))  # type: ignore[arg-type]
            if is_train:
                train.append(HandViews(crops, size, train=True, augment=augment))
                bone = mean_reference_bone(crops)
                if bone is not None:
                    bones.append((bone, len(crops)))  # type: ignore[arg-type]
            else:
                val.append(
                    _evenly(HandViews(crops, size, train=False), self.cfg.data.val_max_samples)
                )
        if bones:
            total = sum(n for _, n in bones)
            self.reference_bone_mm = sum(b * n for b, n in bones) / total
        self.train_set = ConcatDataset(train)
        self.val_set = ConcatDataset(val) if val else None


__all__ = ["HandViews", "SHPEDataModule", "open_interhand"]
