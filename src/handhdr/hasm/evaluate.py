"""``handhdr eval-seg``: IoU of the four masks over a dataset split.

Protocol: every image of the split, full frame, segmented with the same
coarse-to-fine inference as the pipeline (:class:`~handhdr.hasm.inference.HASMPredictor`,
threshold 0.5); per mask, total intersection over total union across the split
(:mod:`handhdr.hasm.metrics`); ``"miou"`` the mean of the four.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from torch.utils.data import DataLoader, Dataset

from handhdr.datasets.schema import MASK_NAMES, Sample
from handhdr.hasm.metrics import IoUAccumulator

Predict = Callable[[np.ndarray], np.ndarray]  # RGB uint8 image -> (4, H, W) bool masks


class _ImagesAndMasks(Dataset):
    """Reads image and masks of each sample (in DataLoader workers)."""

    def __init__(self, reader: Sequence[Sample]) -> None:
        self.reader = reader

    def __len__(self) -> int:
        return len(self.reader)

    def __getitem__(self, index: int) -> tuple[str, np.ndarray, np.ndarray]:
        from handhdr.io import read_image

        sample = self.reader[index]
        if sample.masks is None:
            raise ValueError(
                f"{sample.image_path}: no masks for this image; eval-seg needs the four "
                "ground-truth masks (masks/{split}/... beside the dataset)"
            )
        image = sample.image if sample.image is not None else read_image(sample.image_path)
        return sample.file_name, image, sample.masks


def evaluate_segmentation(
    reader: Sequence[Sample],
    predict: Predict,
    workers: int = 2,
    progress: bool = True,
) -> dict[str, Any]:
    """IoUs of ``predict`` over every sample of ``reader`` (see the module docstring).

    Returns the four IoUs (keys MASK_NAMES), ``"miou"``, ``"num_images"``, the
    summed ``"intersection"`` / ``"union"`` pixel counts per mask and the
    ``"diagnostics"`` of :meth:`~handhdr.hasm.metrics.IoUAccumulator.diagnostics`.
    """
    from tqdm import tqdm

    loader = DataLoader(
        _ImagesAndMasks(reader),
        batch_size=None,
        num_workers=workers,
        collate_fn=lambda item: item,
    )
    acc = IoUAccumulator()
    for file_name, image, masks in tqdm(loader, desc="eval-seg", unit="img", disable=not progress):
        pred = predict(image)
        if pred.shape != masks.shape:
            raise ValueError(f"{file_name}: prediction {pred.shape}, ground truth {masks.shape}")
        acc.update(pred, masks)
    return {
        **acc.compute(),
        "num_images": acc.count,
        "intersection": dict(zip(MASK_NAMES, acc.intersection.tolist(), strict=True)),
        "union": dict(zip(MASK_NAMES, acc.union.tolist(), strict=True)),
        "diagnostics": acc.diagnostics(),
    }


def write_metrics(out: str | os.PathLike[str], metrics: dict[str, Any]) -> str:
    """Write ``OUT/metrics.json`` (OUT may exist and hold other files); returns its path."""
    from pathlib import Path

    from handhdr.io import atomic_write_json

    path = Path(out) / "metrics.json"
    atomic_write_json(path, metrics)
    return str(path)
