"""Segmentation IoU of the four hand masks, accumulated over a whole split.

Protocol (``handhdr eval-seg``): for each mask, the total intersection over the total
union, both summed over all pixels of all images -- not a mean of per-image IoUs, so
that an image with a tiny or absent hand cannot swing the result. ``"miou"`` is the
mean of the four IoUs.
"""

from __future__ import annotations

import numpy as np

from handhdr.datasets.schema import MASK_NAMES


def intersection_union(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-mask pixel counts of ``pred & target`` and ``pred | target``.

    ``pred``, ``target``: bool ``(4, H, W)`` (or ``(N, 4, H, W)``) in MASK_NAMES order.
    """
    pred = np.asarray(pred, dtype=bool)
    target = np.asarray(target, dtype=bool)
    if pred.shape != target.shape:
        raise ValueError(f"prediction {pred.shape} and ground truth {target.shape} differ")
    axes = tuple(i for i in range(pred.ndim) if i != pred.ndim - 3)
    inter = np.logical_and(pred, target).sum(axis=axes, dtype=np.int64)
    union = np.logical_or(pred, target).sum(axis=axes, dtype=np.int64)
    return inter, union


def iou_from_totals(intersection: np.ndarray, union: np.ndarray) -> dict[str, float | None]:
    """IoU of each mask (keys MASK_NAMES) and their mean ``"miou"``.

    A mask whose union is 0 over the whole split (no hand of that kind anywhere, none
    predicted) has no IoU: ``None``, left out of the mean.
    """
    ious: dict[str, float | None] = {}
    for name, i, u in zip(MASK_NAMES, intersection, union, strict=True):
        ious[name] = float(i) / float(u) if u > 0 else None
    defined = [v for v in ious.values() if v is not None]
    ious["miou"] = float(np.mean(defined)) if defined else None
    return ious


class IoUAccumulator:
    """Sums intersections and unions image after image; :meth:`compute` gives the IoUs."""

    def __init__(self) -> None:
        self.intersection = np.zeros(len(MASK_NAMES), dtype=np.int64)
        self.union = np.zeros(len(MASK_NAMES), dtype=np.int64)
        self.count = 0

    def update(self, pred: np.ndarray, target: np.ndarray) -> None:
        """Add one image ``(4, H, W)`` or a batch ``(N, 4, H, W)``."""
        inter, union = intersection_union(pred, target)
        self.intersection += inter
        self.union += union
        self.count += 1 if np.ndim(pred) == 3 else int(np.shape(pred)[0])

    def compute(self) -> dict[str, float | None]:
        """The IoUs so far (see :func:`iou_from_totals`)."""
        return iou_from_totals(self.intersection, self.union)
