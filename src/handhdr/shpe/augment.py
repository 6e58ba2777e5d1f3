"""Training views of a hand: scale, rotation, shift and colour jitter of its crop.

Views are cut from a *context crop*: the hand's crop box (``box_scale`` x the amodal
box) widened by ``context`` and sampled at ``context`` x the input size, so that the
unaugmented view is its centre at the same pixel density, and zooming out or rotating
finds real image content rather than black corners.

A view is a similarity transform of the context crop about its centre: rotation by
``angle`` (degrees, counter-clockwise as seen on screen), the hand box scaled by
``scale`` (``> 1`` zooms out), shifted by ``shift`` x the input size. Rotating the
image about the optical axis rotates the camera's x-y plane the same way, so the
wrist-relative 3D joints get the same 2 x 2 rotation on (x, y) and keep z. This is
exact when the crop centre is the principal point and a close approximation for a
crop away from it (the rotation axis is then the ray through the crop centre, a few
degrees off the optical axis for hands in InterHand2.6M-like frames).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the training augmentation (0 disables a term)."""

    scale_range: tuple[float, float] = (0.8, 1.25)
    rotation_deg: float = 30.0
    shift: float = 0.08  # fraction of the input size, per axis
    brightness: float = 0.3
    contrast: float = 0.3
    saturation: float = 0.3
    channel_gain: float = 0.1  # per-channel gain (colour balance, skin tones)
    noise_std: float = 3.0  # Gaussian pixel noise, 0-255 units (drawn up to this)


def view_matrix(
    source_size: int, size: int, angle_deg: float = 0.0, scale: float = 1.0,
    shift: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:  # fmt: skip
    """2x3 map from context-crop pixels to view pixels (see the module doc)."""
    a = np.deg2rad(angle_deg)
    # y points down, so a counter-clockwise turn on screen is R(-a) in (x, y)
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]) / scale
    c_src = (source_size - 1) / 2.0
    c_out = (size - 1) / 2.0 + np.asarray(shift, dtype=np.float64) * size
    return np.concatenate([rot, (c_out - rot @ np.array([c_src, c_src]))[:, None]], axis=1)


def rotate_joints_3d(joints_3d: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply the rotation of a view matrix to wrist-relative 3D joints (x, y; z kept)."""
    linear = np.asarray(matrix, np.float64)[:, :2]
    rot = linear / np.sqrt(abs(np.linalg.det(linear)))
    out = np.asarray(joints_3d, np.float64).copy()
    out[..., :2] = out[..., :2] @ rot.T
    return out


def warp_view(
    context: np.ndarray, joints_2d: np.ndarray, matrix: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Resample the context crop and its 2D joints into a ``size`` x ``size`` view."""
    view = cv2.warpAffine(
        np.ascontiguousarray(context),
        np.asarray(matrix, np.float64),
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0, 0),
    )
    points = np.asarray(joints_2d, np.float64) @ matrix[:, :2].T + matrix[:, 2]
    return view, points


def jitter_colour(rng: np.random.Generator, image: np.ndarray, cfg: AugmentConfig) -> np.ndarray:
    """Brightness, contrast, saturation, per-channel gain and noise on an RGB uint8 image."""
    x = image.astype(np.float32)
    gray = x @ np.array([0.299, 0.587, 0.114], np.float32)
    if cfg.saturation:
        s = rng.uniform(1 - cfg.saturation, 1 + cfg.saturation)
        x = gray[..., None] + s * (x - gray[..., None])
    if cfg.contrast:
        c = rng.uniform(1 - cfg.contrast, 1 + cfg.contrast)
        x = gray.mean() + c * (x - gray.mean())
    gain = np.ones(3, np.float32)
    if cfg.brightness:
        gain *= rng.uniform(1 - cfg.brightness, 1 + cfg.brightness)
    if cfg.channel_gain:
        gain *= rng.uniform(1 - cfg.channel_gain, 1 + cfg.channel_gain, 3).astype(np.float32)
    x = x * gain
    if cfg.noise_std:
        x = x + rng.normal(0.0, rng.uniform(0.0, cfg.noise_std), x.shape).astype(np.float32)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def random_view(
    rng: np.random.Generator,
    context: np.ndarray,
    joints_2d: np.ndarray,
    joints_3d: np.ndarray,
    size: int,
    cfg: AugmentConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random training view: image ``(size, size, 3)``, 2D joints in view pixels,
    wrist-relative 3D joints rotated with the image."""
    lo, hi = cfg.scale_range
    scale = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    angle = float(rng.uniform(-cfg.rotation_deg, cfg.rotation_deg))
    shift = tuple(rng.uniform(-cfg.shift, cfg.shift, 2)) if cfg.shift else (0.0, 0.0)
    matrix = view_matrix(context.shape[0], size, angle, scale, shift)
    view, points = warp_view(context, joints_2d, matrix, size)
    return jitter_colour(rng, view, cfg), points, rotate_joints_3d(joints_3d, matrix)


def centre_view(
    context: np.ndarray, joints_2d: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """The unaugmented view (evaluation): the centre ``size`` pixels of the context crop."""
    return warp_view(context, joints_2d, view_matrix(context.shape[0], size), size)


__all__ = [
    "AugmentConfig",
    "centre_view",
    "jitter_colour",
    "random_view",
    "rotate_joints_3d",
    "view_matrix",
]
