"""HASM training data: any mix of dataset folders -> batches of views and masks.

Each sample is read through its dataset's reader (:mod:`handhdr.training.sources`),
cut into one random view (:mod:`handhdr.hasm.augment`) in the DataLoader worker, and
sent as uint8 (the model converts to float), so that workers stay cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
from omegaconf import DictConfig
from torch.utils.data import ConcatDataset, Dataset, Subset

from handhdr.datasets.schema import MASK_NAMES, Sample
from handhdr.hasm.augment import SWAP_HANDS, ViewConfig, evaluation_view, training_view
from handhdr.hasm.chirality import mirror_cues, sample_cues
from handhdr.io import read_image
from handhdr.training.datamodule import StageDataModule

log = logging.getLogger(__name__)


def known_masks(sample: Sample) -> np.ndarray:
    """``(4,)`` bool: which of the sample's masks are annotated (``meta["unknown_masks"]``
    names those that are not)."""
    unknown = set(sample.meta.get("unknown_masks", ()))
    bad = unknown - set(MASK_NAMES)
    if bad:
        raise ValueError(f"{sample.image_path}: unknown_masks names {sorted(bad)}")
    return np.array([name not in unknown for name in MASK_NAMES])


class SegmentationViews(Dataset):
    """Views of a reader's samples: ``{"image": (3,S,S) uint8, "masks": (4,S,S) bool,
    "known": (4,) bool}``; random views when ``train``, else the fixed fine-pass view.
    Training views also carry the chirality cues of both hands (``"cues"`` (2, 2) and
    ``"cues_known"`` (2,), :mod:`handhdr.hasm.chirality`), mirrored with the view."""

    def __init__(
        self,
        reader: Sequence[Sample],
        view: ViewConfig,
        train: bool,
        eval_box_scale: float = 1.5,
    ) -> None:
        self.reader = reader
        self.view = view
        self.train = train
        self.eval_box_scale = eval_box_scale

    def __len__(self) -> int:
        return len(self.reader)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        sample = self.reader[index]
        image = sample.image if sample.image is not None else read_image(sample.image_path)
        if sample.masks is None:
            raise ValueError(
                f"{sample.image_path}: this sample has no masks; HASM trains on the four "
                "masks (masks/{split}/ beside an InterHand2.6M-layout dataset: generate "
                "them with handhdr synth, or render them from MANO annotations)"
            )
        known = known_masks(sample)
        extra: dict[str, np.ndarray] = {}
        if self.train:
            # drawn from torch's generator: seeded per worker and epoch by the DataLoader
            rng = np.random.default_rng(int(torch.randint(0, 2**62, ()).item()))
            view_image, view_masks, flipped = training_view(rng, image, sample.masks, self.view)
            cues, cues_known = sample_cues(sample)
            if flipped:
                known = known[list(SWAP_HANDS)]
                cues, cues_known = mirror_cues(cues, cues_known)
            extra = {"cues": cues, "cues_known": cues_known}
        else:
            view_image, view_masks = evaluation_view(
                image, sample.masks, self.view.size, self.eval_box_scale
            )
        return {
            "image": torch.from_numpy(np.ascontiguousarray(view_image.transpose(2, 0, 1))),
            "masks": torch.from_numpy(view_masks),
            "known": torch.from_numpy(known),
            **{key: torch.from_numpy(value) for key, value in extra.items()},
        }


def view_config(cfg: DictConfig) -> ViewConfig:
    """The :class:`ViewConfig` of a HASM training configuration."""
    a = cfg.aug
    return ViewConfig(
        size=int(cfg.input_size),
        scale_range=tuple(a.scale_range),
        hand_window_prob=float(a.hand_window_prob),
        hand_box_scale=tuple(a.hand_box_scale),
        hand_shift=float(a.hand_shift),
        flip_prob=float(a.flip_prob),
        photometric=bool(a.photometric),
    )


def _evenly(dataset: Dataset, limit: int | None) -> Dataset:
    n = len(dataset)  # type: ignore[arg-type]
    if limit is None or n <= limit:
        return dataset
    return Subset(dataset, np.linspace(0, n - 1, int(limit)).round().astype(int).tolist())


class HASMDataModule(StageDataModule):
    """Train and validation loaders over ``cfg.data.sources`` (mixed by concatenation)."""

    unit = "samples"

    def __init__(self, cfg: DictConfig) -> None:
        super().__init__(cfg)

    def setup(self, stage: str | None = None) -> None:
        from handhdr.training.sources import has_split, open_source

        d = self.cfg.data
        if not d.sources:
            raise ValueError("no training data: pass --data DIR (or set data.sources)")
        view = view_config(self.cfg)
        box_scale = float(self.cfg.inference.box_scale)
        train, val = [], []
        for source in d.sources:
            root, kind = str(source["root"]), str(source.get("kind", "auto"))
            reader = open_source(root, kind, d.train_split)
            train.append(SegmentationViews(reader, view, train=True))
            log.info("HASM data: %s (%s) %s: %d samples", root, kind, d.train_split, len(reader))
            if d.val_split and has_split(root, kind, d.val_split):
                val_reader = open_source(root, kind, d.val_split)
                views = SegmentationViews(val_reader, view, train=False, eval_box_scale=box_scale)
                val.append(_evenly(views, d.val_max_samples))
        self.train_set = ConcatDataset(train)
        self.val_set = ConcatDataset(val) if val else None
