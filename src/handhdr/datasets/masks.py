"""Masks and de-occlusion/removal ground truth stored next to an InterHand2.6M layout.

Layout (written by our generators and by ``handhdr render-masks``, read by every
reader of that layout):

* ``masks/{split}/<file_name with its extension replaced by .png>``: one 8-bit
  single-channel PNG per image; bit 0 = right amodal, bit 1 = right visible,
  bit 2 = left amodal, bit 3 = left visible.
* ``hdr_gt/{split}/<file_name without extension>_right.png`` and ``_left.png``:
  the full frame with only that hand, complete, on the background; present for
  every hand whose amodal mask is not empty.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import cv2
import numpy as np

from handhdr.datasets.schema import MASK_NAMES


def encode_masks(masks: np.ndarray) -> np.ndarray:
    """``(4, H, W)`` bool (MASK_NAMES order) -> ``H x W`` uint8 with one bit per mask."""
    masks = np.asarray(masks)
    if masks.ndim != 3 or masks.shape[0] != len(MASK_NAMES):
        raise ValueError(f"expected masks of shape (4, H, W), got {masks.shape}")
    packed = np.zeros(masks.shape[1:], dtype=np.uint8)
    for bit in range(len(MASK_NAMES)):
        packed |= masks[bit].astype(bool).astype(np.uint8) << bit
    return packed


def decode_masks(packed: np.ndarray) -> np.ndarray:
    """Inverse of :func:`encode_masks`."""
    packed = np.asarray(packed)
    if packed.ndim != 2 or packed.dtype != np.uint8:
        raise ValueError(f"expected an H x W uint8 mask image, got {packed.shape} {packed.dtype}")
    return np.stack([(packed >> bit) & 1 for bit in range(len(MASK_NAMES))]).astype(bool)


def mask_path(root: Path, split: str, file_name: str) -> Path:
    """Where the packed mask PNG of ``file_name`` lives."""
    return Path(root) / "masks" / split / PurePosixPath(file_name).with_suffix(".png")


def hdr_gt_path(root: Path, split: str, file_name: str, hand: str) -> Path:
    """Where the de-occlusion/removal ground truth of one hand of ``file_name`` lives."""
    if hand not in ("right", "left"):
        raise ValueError(f"hand must be 'right' or 'left', got {hand!r}")
    stem = PurePosixPath(file_name).with_suffix("")
    return Path(root) / "hdr_gt" / split / f"{stem}_{hand}.png"


def read_masks(path: Path, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Read a packed mask PNG as ``(4, H, W)`` bool; checks the size when given."""
    packed = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if packed is None:
        raise ValueError(f"{path}: not a readable mask PNG")
    if packed.ndim != 2 or packed.dtype != np.uint8:
        raise ValueError(
            f"{path}: expected an 8-bit single-channel PNG, got shape {packed.shape} "
            f"dtype {packed.dtype}"
        )
    if packed.max(initial=0) > 15:
        raise ValueError(f"{path}: values above 15 (only bits 0-3 are defined)")
    if shape is not None and packed.shape != tuple(shape):
        raise ValueError(f"{path}: mask is {packed.shape}, the image is {tuple(shape)}")
    return decode_masks(packed)


def write_masks(path: Path, masks: np.ndarray) -> None:
    """Write ``(4, H, W)`` bool masks as a packed PNG, atomically."""
    from handhdr.io.images import write_image

    write_image(path, encode_masks(masks))
