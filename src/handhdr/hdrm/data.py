"""Per-hand HDRM crops of a two-hand image: what HDRNet trains on and is scored on.

:func:`crop_hand` cuts the crop of one hand (the target) from an image and its four
masks: the box comes from the target's amodal mask (:mod:`handhdr.crop`), left
hands are mirrored, and the masks are reordered to (target amodal, target visible,
distractor amodal, distractor visible). The ground truth (the frame with only the
target, complete, on the background: ``Sample.hdr_gt[hand]``) is cut with the same
box when given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handhdr.crop import CropBox, box_from_mask, crop_image, crop_masks
from handhdr.hdrm.masks import TARGET_DISTRACTOR_ORDER

HANDS: tuple[str, str] = ("right", "left")


@dataclass
class HandCrop:
    """One target hand's crop, mirrored to a right hand when it is a left one."""

    hand: str  # the target: "right" or "left"
    box: CropBox
    image: np.ndarray  # (R, R, 3) uint8
    masks: np.ndarray  # (4, R, R) bool: target amodal, target visible, distractor amodal, visible
    target: np.ndarray | None = None  # (R, R, 3) uint8 ground truth, when known

    def regions(self) -> tuple[np.ndarray, np.ndarray]:
        """``M_D`` and ``M_R`` of equation (2), ``(R, R)`` bool."""
        return crop_regions(self.masks)


def crop_regions(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``M_D = M_ta (1 - M_tv)`` and ``M_R = (1 - M_ta) M_dv`` of ``(..., 4, R, R)`` bool
    crop masks (numpy twin of :func:`handhdr.hdrm.masks.deocclusion_removal_masks`)."""
    m_ta, m_tv, m_dv = masks[..., 0, :, :], masks[..., 1, :, :], masks[..., 3, :, :]
    return m_ta & ~m_tv, ~m_ta & m_dv


def crop_hand(
    image: np.ndarray,
    masks: np.ndarray,
    hand: str,
    resolution: int,
    scale: float = 2.0,
    target: np.ndarray | None = None,
) -> HandCrop | None:
    """The crop of ``hand`` from an ``H x W x 3`` image and ``(4, H, W)`` masks in
    MASK_NAMES order; ``None`` when the hand's amodal mask is empty (absent)."""
    if hand not in TARGET_DISTRACTOR_ORDER:
        raise ValueError(f"hand must be 'right' or 'left', got {hand!r}")
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 3 or masks.shape[0] != 4 or masks.shape[1:] != image.shape[:2]:
        raise ValueError(
            f"expected (4, H, W) masks for a {image.shape[:2]} image, got {masks.shape}"
        )
    order = list(TARGET_DISTRACTOR_ORDER[hand])
    box = box_from_mask(masks[order[0]], resolution, scale, flip=hand == "left")
    if box is None:
        return None
    return HandCrop(
        hand=hand,
        box=box,
        image=crop_image(image, box),
        masks=crop_masks(masks[order], box),
        target=None if target is None else crop_image(target, box),
    )
