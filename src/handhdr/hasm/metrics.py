"""Segmentation IoU of the four hand masks, accumulated over a whole split.

Protocol (``handhdr eval-seg``): for each mask, the total intersection over the total
union, both summed over all pixels of all images -- not a mean of per-image IoUs, so
that an image with a tiny or absent hand cannot swing the result. ``"miou"`` is the
mean of the four IoUs.

Diagnostics (same totals, ``IoUAccumulator.diagnostics``) separate finding the hands
from telling their sides: ``"hand_amodal_iou"`` / ``"hand_visible_iou"`` score the
union of both hands' amodal / visible masks (which pixels are hand, whichever side),
and ``"miou_swapped"`` is the mean IoU after exchanging the predicted right and left
masks. Near ``"miou"``, the sides are guessed; above it, they are swapped.
``"miou_matched"`` takes, image by image, whichever of the two (as predicted or
exchanged) has the higher mean IoU, then pools as ``"miou"``: the score of the masks
if a perfect oracle told each image's sides, i.e. of the separation of the two hands.
``"sides_overlap"`` is the IoU of the predicted right and left amodal masks with each
other (totals again), ``"sides_overlap_true"`` the same for the ground truth: far
above the true value, the network marks each hand as both hands rather than
separating them.
"""

from __future__ import annotations

import numpy as np

from handhdr.datasets.schema import MASK_NAMES
from handhdr.hasm.augment import SWAP_HANDS


def intersection_union(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-mask pixel counts of ``pred & target`` and ``pred | target``.

    ``pred``, ``target``: bool ``(4, H, W)`` (or ``(N, 4, H, W)``) in MASK_NAMES order,
    or any other number of masks ``(K, H, W)``: one count per mask.
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


def matched_assignment(intersection: np.ndarray, union: np.ndarray) -> np.ndarray:
    """Per image, 1 where the exchanged sides score better than the predicted ones.

    ``intersection``, ``union``: ``(N, 2, 4)`` per-image counts, as predicted (index 0)
    and with right and left exchanged (index 1). The score is the mean IoU over the
    masks with a non-empty union; ties keep the sides as predicted.
    """
    inter = np.asarray(intersection, dtype=np.float64)
    union = np.asarray(union, dtype=np.float64)
    defined = union > 0
    iou = np.where(defined, inter / np.maximum(union, 1.0), 0.0)
    score = iou.sum(-1) / np.maximum(defined.sum(-1), 1)
    return (score[:, 1] > score[:, 0]).astype(np.int64)


def either_hand(masks: np.ndarray) -> np.ndarray:
    """``(..., 2, H, W)``: amodal and visible masks of both hands together."""
    m = np.asarray(masks, dtype=bool)
    return np.stack([m[..., 0, :, :] | m[..., 2, :, :], m[..., 1, :, :] | m[..., 3, :, :]], -3)


def _ratio(i: int, u: int) -> float | None:
    return float(i) / float(u) if u > 0 else None


class IoUAccumulator:
    """Sums intersections and unions image after image; :meth:`compute` gives the IoUs,
    :meth:`diagnostics` the side-free and side-swapped ones (module doc)."""

    def __init__(self) -> None:
        self.intersection = np.zeros(len(MASK_NAMES), dtype=np.int64)
        self.union = np.zeros(len(MASK_NAMES), dtype=np.int64)
        self.swapped_intersection = np.zeros(len(MASK_NAMES), dtype=np.int64)
        self.swapped_union = np.zeros(len(MASK_NAMES), dtype=np.int64)
        self.matched_intersection = np.zeros(len(MASK_NAMES), dtype=np.int64)
        self.matched_union = np.zeros(len(MASK_NAMES), dtype=np.int64)
        self.hand_intersection = np.zeros(2, dtype=np.int64)  # amodal, visible
        self.hand_union = np.zeros(2, dtype=np.int64)
        self.overlap_intersection = np.zeros(2, dtype=np.int64)  # predicted, true
        self.overlap_union = np.zeros(2, dtype=np.int64)
        self.count = 0

    def update(self, pred: np.ndarray, target: np.ndarray) -> None:
        """Add one image ``(4, H, W)`` or a batch ``(N, 4, H, W)``."""
        pred = np.asarray(pred, dtype=bool)
        target = np.asarray(target, dtype=bool)
        if pred.shape != target.shape or pred.ndim not in (3, 4):
            raise ValueError(
                f"expected (4, H, W) or (N, 4, H, W) masks of one shape, got prediction "
                f"{pred.shape} and ground truth {target.shape}"
            )
        batch = (pred, target) if pred.ndim == 4 else (pred[None], target[None])
        pairs = np.stack([batch[0], batch[0][:, SWAP_HANDS]], 1)  # (N, 2, 4, H, W)
        inter = np.logical_and(pairs, batch[1][:, None]).sum((-2, -1), dtype=np.int64)
        union = np.logical_or(pairs, batch[1][:, None]).sum((-2, -1), dtype=np.int64)
        self.intersection += inter[:, 0].sum(0)
        self.union += union[:, 0].sum(0)
        self.swapped_intersection += inter[:, 1].sum(0)
        self.swapped_union += union[:, 1].sum(0)
        pick = matched_assignment(inter, union)
        rows = np.arange(len(pick))
        self.matched_intersection += inter[rows, pick].sum(0)
        self.matched_union += union[rows, pick].sum(0)
        inter, union = intersection_union(either_hand(pred), either_hand(target))
        self.hand_intersection += inter
        self.hand_union += union
        for k, masks in enumerate((pred, target)):
            m = np.asarray(masks, dtype=bool)
            right, left = m[..., 0, :, :], m[..., 2, :, :]
            self.overlap_intersection[k] += int(np.count_nonzero(right & left))
            self.overlap_union[k] += int(np.count_nonzero(right | left))
        self.count += 1 if np.ndim(pred) == 3 else int(np.shape(pred)[0])

    def compute(self) -> dict[str, float | None]:
        """The IoUs so far (see :func:`iou_from_totals`)."""
        return iou_from_totals(self.intersection, self.union)

    def diagnostics(self) -> dict[str, float | None]:
        """``hand_amodal_iou``, ``hand_visible_iou``, ``miou_swapped``, ``miou_matched``,
        ``sides_overlap`` and ``sides_overlap_true`` (module doc)."""
        return {
            "hand_amodal_iou": _ratio(self.hand_intersection[0], self.hand_union[0]),
            "hand_visible_iou": _ratio(self.hand_intersection[1], self.hand_union[1]),
            "miou_swapped": iou_from_totals(self.swapped_intersection, self.swapped_union)["miou"],
            "miou_matched": iou_from_totals(self.matched_intersection, self.matched_union)["miou"],
            "sides_overlap": _ratio(self.overlap_intersection[0], self.overlap_union[0]),
            "sides_overlap_true": _ratio(self.overlap_intersection[1], self.overlap_union[1]),
        }
