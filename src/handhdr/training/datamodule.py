"""The data-module part every stage shares: loaders built from ``cfg.data``.

A stage subclasses :class:`StageDataModule`, fills ``train_set`` (and optionally
``val_set``) in ``setup``, and names what one item is (``unit``) for the error
raised when the training set is smaller than one batch.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as L
import torch
from omegaconf import DictConfig
from torch.utils.data import DataLoader, Dataset


class StageDataModule(L.LightningDataModule):
    """Train/val loaders from ``cfg.data.batch_size`` and ``cfg.data.num_workers``."""

    unit = "samples"

    def __init__(self, cfg: DictConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None

    def _loader(self, dataset: Dataset, shuffle: bool) -> DataLoader:
        workers = int(self.cfg.data.num_workers)
        return DataLoader(
            dataset,
            batch_size=int(self.cfg.data.batch_size),
            shuffle=shuffle,
            drop_last=shuffle,
            num_workers=workers,
            persistent_workers=workers > 0,
            pin_memory=torch.cuda.is_available(),
        )

    def train_dataloader(self) -> DataLoader:
        if self.train_set is None:
            raise RuntimeError("setup() has not built the training set")
        if len(self.train_set) < int(self.cfg.data.batch_size):  # type: ignore[arg-type]
            raise ValueError(
                f"{len(self.train_set)} training {self.unit}, fewer than one batch of "  # type: ignore[arg-type]
                f"{self.cfg.data.batch_size}: lower data.batch_size or add data"
            )
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> Any:
        return [] if self.val_set is None else self._loader(self.val_set, shuffle=False)
