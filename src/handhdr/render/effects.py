"""Camera effects: sensor noise, blur and JPEG artefacts.

The same effects, with the same noise pattern, are applied to the image and to the
de-occlusion/removal ground truth images of a sample, so that a network learns to
recover hands, not to undo a camera.

Every effect is local: a pixel of the output depends only on the input pixels within
:func:`footprint` of it (Chebyshev distance). Noise is per pixel; the blur reaches its
kernel radius; a JPEG round trip (4:2:0, 16x16 blocks) reaches the rest of a pixel's
block and, through the decoder's chroma interpolation, one pixel into the next block.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

_TILE = 1024
_TILE_SIGMA = 24.0  # standard deviation stored in the int8 noise tile
BLUR_SIGMA_RANGE = (0.3, 1.3)  # what sample_effects draws, in pixels
JPEG_REACH = 16  # a 16x16 block, less its own pixel, plus 1 px of chroma interpolation


@dataclass(frozen=True)
class CameraEffects:
    """What the camera does to a frame; the defaults do nothing."""

    noise_sigma: float = 0.0  # Gaussian noise, in 0-255 units
    noise_offset: tuple[int, int] = (0, 0)  # where the noise pattern is cut from its tile
    blur_sigma: float = 0.0  # Gaussian blur in pixels (defocus, motion averaged)
    jpeg_quality: int | None = None  # JPEG round trip at this quality (None: none)


def sample_effects(rng: np.random.Generator) -> CameraEffects:
    """Random, mostly mild camera effects."""
    noise = float(rng.uniform(0.5, 6.0)) if rng.random() < 0.7 else 0.0
    offset = (int(rng.integers(0, _TILE // 2)), int(rng.integers(0, _TILE // 2)))
    blur = float(rng.uniform(*BLUR_SIGMA_RANGE)) if rng.random() < 0.35 else 0.0
    jpeg = int(rng.integers(35, 90)) if rng.random() < 0.3 else None
    return CameraEffects(noise, offset, blur, jpeg)


def blur_radius(effects: CameraEffects) -> int:
    """Radius in pixels of the Gaussian blur kernel (0: no blur); OpenCV's own choice
    for 8-bit images (size ``round(6 sigma + 1)``, made odd)."""
    if effects.blur_sigma <= 0:
        return 0
    return (int(np.rint(6.0 * effects.blur_sigma + 1.0)) | 1) // 2


def footprint(effects: CameraEffects) -> int:
    """How far (pixels, Chebyshev) a change of the input can change the output: the
    blur radius + 1 px when blurring (0 otherwise), plus :data:`JPEG_REACH` with JPEG."""
    reach = blur_radius(effects) + 1 if effects.blur_sigma > 0 else 0
    return reach + (JPEG_REACH if effects.jpeg_quality is not None else 0)


@functools.lru_cache(maxsize=1)
def _noise_tile() -> np.ndarray:
    rng = np.random.default_rng(0x7013E)
    tile = rng.normal(0.0, _TILE_SIGMA, size=(_TILE, _TILE, 3))
    return np.clip(np.rint(tile), -127, 127).astype(np.int8)


def _noise(shape: tuple[int, int], offset: tuple[int, int]) -> np.ndarray:
    """An ``H x W x 3`` int8 cut of the noise tile, repeated for frames larger than it."""
    h, w = shape
    tile = _noise_tile()
    if h > _TILE - offset[0] or w > _TILE - offset[1]:
        reps = (-(-(h + offset[0]) // _TILE), -(-(w + offset[1]) // _TILE), 1)
        tile = np.tile(tile, reps)
    return tile[offset[0] : offset[0] + h, offset[1] : offset[1] + w]


def apply_effects(images: list[np.ndarray], effects: CameraEffects) -> list[np.ndarray]:
    """Apply ``effects`` identically to every ``H x W x 3`` uint8 image of one frame."""
    if not images:
        return []
    out = list(images)
    if effects.blur_sigma > 0:
        size = 2 * blur_radius(effects) + 1
        out = [cv2.GaussianBlur(im, (size, size), effects.blur_sigma) for im in out]
    if effects.noise_sigma > 0:
        noise = _noise(out[0].shape[:2], effects.noise_offset).astype(np.float32)
        noise = np.rint(noise * (effects.noise_sigma / _TILE_SIGMA)).astype(np.int16)
        out = [np.clip(im + noise, 0, 255).astype(np.uint8) for im in out]
    if effects.jpeg_quality is not None:
        params = [cv2.IMWRITE_JPEG_QUALITY, int(effects.jpeg_quality)]
        decoded = []
        for im in out:
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(im, cv2.COLOR_RGB2BGR), params)
            if not ok:
                raise RuntimeError("OpenCV could not encode a JPEG")
            decoded.append(cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
        out = decoded
    return [np.ascontiguousarray(im) for im in out]
