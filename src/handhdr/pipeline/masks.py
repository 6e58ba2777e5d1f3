"""From HASM's four masks to the hands the pipeline reports.

Rules (documented in docs/pipeline.md):

* **One hand per side.** HASM has one right and one left head, so it can never
  report more than two hands; with more than two people's hands in view the masks
  hold whatever the network assigns to each side. Each amodal mask keeps only its
  **largest 8-connected component** (a hand is one connected region; smaller blobs
  are other hands or noise), and the visible mask is clipped to it (visible is a
  part of amodal by definition; it may itself be several blobs, split by the other
  hand, so it is not filtered further).
* **Absent, not invented.** A hand whose kept amodal component has fewer than
  ``min_pixels`` pixels (:data:`MIN_MASK_PIXELS` by default) is absent: its two masks
  are cleared and nothing is reported for it.
* **Box**: the tight bounding box of the kept amodal mask, ``(x, y, w, h)`` with pixel
  ``i`` covering ``[i, i + 1)`` (as InterHand2.6M and COCO boxes).
* **Joint visibility**: a joint is visible when the pixel it falls on (rounded) is in
  the hand's visible mask; joints outside the image are not visible.
"""

from __future__ import annotations

import cv2
import numpy as np

from handhdr.joints import HANDS

MIN_MASK_PIXELS = 32  # smaller amodal masks are noise, not a hand


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected component of a 2D bool mask (empty stays empty)."""
    mask = np.asarray(mask, dtype=bool)
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return np.zeros_like(mask)
    cols = np.flatnonzero(mask.any(axis=0))
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    window = np.ascontiguousarray(mask[r0:r1, c0:c1], dtype=np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(window, connectivity=8)
    out = np.zeros_like(mask)
    if count <= 2:  # background and one component
        out[r0:r1, c0:c1] = window.astype(bool)
        return out
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    out[r0:r1, c0:c1] = labels == biggest
    return out


def clean_masks(masks: np.ndarray, min_pixels: int = MIN_MASK_PIXELS) -> np.ndarray:
    """``(4, H, W)`` bool masks (MASK_NAMES order) after the rules of the module doc."""
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 3 or masks.shape[0] != 4:
        raise ValueError(f"expected (4, H, W) masks, got shape {masks.shape}")
    if min_pixels < 1:
        raise ValueError(f"min_pixels must be at least 1, got {min_pixels}")
    out = np.zeros_like(masks)
    for k in range(len(HANDS)):
        amodal = largest_component(masks[2 * k])
        if int(amodal.sum()) < min_pixels:
            continue
        out[2 * k] = amodal
        out[2 * k + 1] = masks[2 * k + 1] & amodal
    return out


def present_hands(masks: np.ndarray) -> tuple[str, ...]:
    """The hands (``right`` first) whose amodal mask in cleaned masks is not empty."""
    return tuple(hand for k, hand in enumerate(HANDS) if masks[2 * k].any())


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float]:
    """Tight ``(x, y, w, h)`` of a non-empty 2D mask (pixel ``i`` covers ``[i, i+1)``)."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError("an empty mask has no box")
    return (
        float(cols[0]),
        float(rows[0]),
        float(cols[-1] - cols[0] + 1),
        float(rows[-1] - rows[0] + 1),
    )


def mask_score(probabilities: np.ndarray, mask: np.ndarray) -> float:
    """Mean foreground probability over the pixels of ``mask`` (0 when it is empty)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return 0.0
    return float(np.clip(np.asarray(probabilities)[mask].mean(), 0.0, 1.0))


def joint_visibility(joints_2d: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """``(J,)`` bool: whether each image point ``(J, 2)`` falls on the ``visible`` mask."""
    points = np.asarray(joints_2d, dtype=np.float64)
    h, w = visible.shape
    out = np.zeros(points.shape[0], dtype=bool)
    finite = np.isfinite(points).all(axis=1)
    idx = np.zeros_like(points, dtype=np.int64)
    idx[finite] = np.round(points[finite]).astype(np.int64)
    inside = finite & (idx[:, 0] >= 0) & (idx[:, 0] < w) & (idx[:, 1] >= 0) & (idx[:, 1] < h)
    out[inside] = visible[idx[inside, 1], idx[inside, 0]]
    return out


__all__ = [
    "MIN_MASK_PIXELS",
    "clean_masks",
    "joint_visibility",
    "largest_component",
    "mask_box",
    "mask_score",
    "present_hands",
]
