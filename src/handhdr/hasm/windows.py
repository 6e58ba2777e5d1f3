"""Square image windows: cropping them to the network size and pasting results back.

Training (random scale and crop) and inference (whole frame, then the two-hand region)
use the same functions, so the network sees at test time exactly the kind of input it
was trained on. Coordinates are continuous pixels: pixel ``(i, j)`` covers
``[j, j+1) x [i, i+1)``; a window may reach outside the image, which is padded with 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Window:
    """A square ``side x side`` window with top-left corner ``(x0, y0)`` (pixels)."""

    x0: float
    y0: float
    side: float

    @classmethod
    def around(cls, cx: float, cy: float, side: float) -> Window:
        """The window of ``side`` centred on ``(cx, cy)``."""
        return cls(cx - side / 2.0, cy - side / 2.0, side)

    @classmethod
    def whole_image(cls, height: int, width: int) -> Window:
        """The smallest window holding the whole image, centred on it (letterbox)."""
        side = float(max(height, width))
        return cls.around(width / 2.0, height / 2.0, side)

    def scaled(self, factor: float) -> Window:
        """The window with the same centre and ``factor`` times the side."""
        cx, cy = self.x0 + self.side / 2.0, self.y0 + self.side / 2.0
        return Window.around(cx, cy, self.side * factor)


def box_window(box: tuple[float, float, float, float], scale: float, min_side: float) -> Window:
    """Square window around ``box`` = (x0, y0, x1, y1): longest side x ``scale``."""
    x0, y0, x1, y1 = box
    side = max(max(x1 - x0, y1 - y0) * scale, min_side)
    return Window.around((x0 + x1) / 2.0, (y0 + y1) / 2.0, side)


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    """Bounding box ``(x0, y0, x1, y1)`` (continuous pixels) of a 2D mask, None if empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)


def _affine(window: Window, size: int, src_scale: tuple[float, float], flip: bool) -> np.ndarray:
    """Matrix mapping source pixel indices to output pixel indices (centre convention)."""
    s = size / window.side
    ax, ay = s / src_scale[0], s / src_scale[1]
    tx = 0.5 * ax - s * window.x0 - 0.5
    ty = 0.5 * ay - s * window.y0 - 0.5
    m = np.array([[ax, 0.0, tx], [0.0, ay, ty]], dtype=np.float64)
    if flip:  # j -> size - 1 - j
        m[0] = -m[0]
        m[0, 2] += size - 1
    return m


def crop(image: np.ndarray, window: Window, size: int, flip: bool = False) -> np.ndarray:
    """``window`` of ``image`` (H x W or H x W x C, C <= 4) resized to ``size x size``.

    Bilinear; when shrinking, the image is first area-averaged to the target scale so
    that thin fingers do not alias away. ``flip`` mirrors the result left-right.
    """
    h, w = image.shape[:2]
    s = size / window.side
    src = image
    src_scale = (1.0, 1.0)
    if s < 1.0:
        new_w, new_h = max(1, round(w * s)), max(1, round(h * s))
        src = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
        src_scale = (new_w / w, new_h / h)
    m = _affine(window, size, src_scale, flip)
    return cv2.warpAffine(
        src, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )


def crop_masks(masks: np.ndarray, window: Window, size: int, flip: bool = False) -> np.ndarray:
    """``(K, H, W)`` bool masks (K <= 4) cropped like :func:`crop`: a pixel is set when
    more than half of it is covered."""
    stacked = np.ascontiguousarray(np.moveaxis(masks.astype(np.uint8) * 255, 0, -1))
    out = crop(stacked, window, size, flip)
    if out.ndim == 2:
        out = out[:, :, None]
    return np.moveaxis(out, -1, 0) > 127


def paste(
    grid: np.ndarray,
    window: Window,
    size: int,
    stride: int,
    shape: tuple[int, int],
    fill: float = 0.0,
) -> np.ndarray:
    """Map a network output back into the image.

    ``grid``: ``(K, size/stride, size/stride)`` (K <= 4) computed on ``crop(image,
    window, size)``; returns ``(K, H, W)`` float32 bilinearly resampled at every image
    pixel (as SegFormer upsamples its logits), and ``fill`` outside the window.
    """
    h, w = shape
    g = size // stride
    if grid.ndim != 3 or grid.shape[0] > 4 or grid.shape[-2:] != (g, g):
        raise ValueError(
            f"grid must be (K <= 4, {g}, {g}) for size {size} / stride {stride}, got {grid.shape}"
        )
    # image pixel -> input pixel j (the crop's affine) -> grid coordinate (j + 0.5)/stride - 0.5
    m = _affine(window, size, (1.0, 1.0), flip=False) / stride
    m[:, 2] += 0.5 / stride - 0.5
    inverse = cv2.WARP_INVERSE_MAP
    inside = cv2.warpAffine(
        np.ones((g, g), np.uint8), m, (w, h), flags=cv2.INTER_NEAREST | inverse, borderValue=0
    ).astype(bool)
    hwc = np.ascontiguousarray(np.moveaxis(grid.astype(np.float32), 0, -1))
    out = cv2.warpAffine(
        hwc, m, (w, h), flags=cv2.INTER_LINEAR | inverse, borderMode=cv2.BORDER_REPLICATE
    )
    out = out.reshape(h, w, grid.shape[0])
    out[~inside] = fill
    return np.ascontiguousarray(np.moveaxis(out, -1, 0))
