"""HASM training views: random scale and crop, photometric jitter, and a left-right flip.

A view is one square window of the frame resized to the network size (one affine warp
of the image and one of the masks, see :mod:`handhdr.hasm.windows`). Two kinds of
window, matching the two passes of coarse-to-fine inference:

* *frame* windows, the reference recipe: the whole frame fitted to the network size,
  zoomed by a random factor in ``scale_range`` (0.5-2) and randomly placed;
* *hand* windows: the union box of the two amodal masks, enlarged by a random factor
  around the inference margin, and jittered.

The horizontal flip mirrors the image and **swaps the left and right labels**: a
mirrored right hand looks like a left hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from handhdr.hasm.windows import Window, box_window, crop, crop_masks, mask_box

# MASK_NAMES order: right amodal, right visible, left amodal, left visible
SWAP_HANDS = (2, 3, 0, 1)


def swap_hands(masks: np.ndarray) -> np.ndarray:
    """Exchange the right and left masks of ``(4, ...)`` masks (MASK_NAMES order)."""
    return masks[list(SWAP_HANDS)]


def hflip(image: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror an ``H x W x 3`` image and its ``(4, H, W)`` masks; left and right swap."""
    return np.ascontiguousarray(image[:, ::-1]), np.ascontiguousarray(swap_hands(masks)[:, :, ::-1])


def amodal_union_box(masks: np.ndarray) -> tuple[float, float, float, float] | None:
    """Box of the union of both amodal masks (``masks[0] | masks[2]``), None if empty."""
    return mask_box(masks[0] | masks[2])


@dataclass
class ViewConfig:
    """How training views are drawn (the ``aug`` block of the HASM config)."""

    size: int = 256
    scale_range: tuple[float, float] = (0.5, 2.0)
    hand_window_prob: float = 0.5
    hand_box_scale: tuple[float, float] = (1.2, 2.2)
    hand_shift: float = 0.15
    flip_prob: float = 0.5
    photometric: bool = True
    brightness: float = 32.0
    contrast: tuple[float, float] = (0.5, 1.5)
    saturation: tuple[float, float] = (0.5, 1.5)
    hue: float = 18.0


def frame_window(rng: np.random.Generator, height: int, width: int, cfg: ViewConfig) -> Window:
    """Reference recipe: frame fitted to the network size, zoomed 0.5-2x, random place."""
    zoom = rng.uniform(*cfg.scale_range)
    side = max(height, width) / zoom
    # place the window so that it overlaps the image as much as it can, at random
    x0 = rng.uniform(min(0.0, width - side), max(0.0, width - side))
    y0 = rng.uniform(min(0.0, height - side), max(0.0, height - side))
    return Window(x0, y0, side)


def hand_window(
    rng: np.random.Generator, box: tuple[float, float, float, float], cfg: ViewConfig
) -> Window:
    """Window around the two-hand box, enlarged and shifted at random."""
    window = box_window(box, rng.uniform(*cfg.hand_box_scale), min_side=8.0)
    shift = rng.uniform(-cfg.hand_shift, cfg.hand_shift, size=2) * window.side
    return Window(window.x0 + shift[0], window.y0 + shift[1], window.side)


def photometric_jitter(rng: np.random.Generator, image: np.ndarray, cfg: ViewConfig) -> np.ndarray:
    """Brightness, contrast, saturation and hue jitter of an RGB uint8 image (each on
    with probability 1/2, as the reference's photometric distortion)."""
    out = image.astype(np.float32)
    if rng.random() < 0.5:
        out += rng.uniform(-cfg.brightness, cfg.brightness)
    contrast_first = rng.random() < 0.5
    if contrast_first and rng.random() < 0.5:
        out *= rng.uniform(*cfg.contrast)
    change_saturation, change_hue = rng.random() < 0.5, rng.random() < 0.5
    if change_saturation or change_hue:
        rgb = np.clip(out, 0, 255).astype(np.uint8)
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).astype(np.float32)
        if change_saturation:
            hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(*cfg.saturation), 0, 255)
        if change_hue:  # OpenCV's 8-bit hue is 0..179 (degrees / 2)
            hsv[..., 0] = (hsv[..., 0] + rng.uniform(-cfg.hue, cfg.hue) / 2.0) % 180
        out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    if not contrast_first and rng.random() < 0.5:
        out *= rng.uniform(*cfg.contrast)
    return np.clip(out, 0, 255).astype(np.uint8)


def training_view(
    rng: np.random.Generator, image: np.ndarray, masks: np.ndarray, cfg: ViewConfig
) -> tuple[np.ndarray, np.ndarray, bool]:
    """One random training view: ``(size, size, 3)`` uint8 image, ``(4, size, size)``
    bool masks (left and right already swapped if flipped), and whether it was flipped."""
    h, w = image.shape[:2]
    box = amodal_union_box(masks)
    if box is not None and rng.random() < cfg.hand_window_prob:
        window = hand_window(rng, box, cfg)
    else:
        window = frame_window(rng, h, w, cfg)
    flip = bool(rng.random() < cfg.flip_prob)
    view = crop(image, window, cfg.size, flip=flip)
    view_masks = crop_masks(masks, window, cfg.size, flip=flip)
    if flip:
        view_masks = swap_hands(view_masks)
    if cfg.photometric:
        view = photometric_jitter(rng, view, cfg)
    return view, view_masks, flip


def evaluation_view(
    image: np.ndarray, masks: np.ndarray, size: int, box_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """The fine-pass view used for validation during training: the ground-truth
    two-hand box x ``box_scale``, or the whole frame when there is no hand."""
    box = amodal_union_box(masks)
    h, w = image.shape[:2]
    window = Window.whole_image(h, w) if box is None else box_window(box, box_scale, 8.0)
    return crop(image, window, size), crop_masks(masks, window, size)
