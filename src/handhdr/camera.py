"""Pinhole camera exactly as InterHand2.6M defines it.

World to camera: ``X_cam = R (X_world - campos)``; projection:
``u = fx X / Z + cx``, ``v = fy Y / Z + cy``. Millimetres in 3D; pixels with x to
the right and y down. Every function is batched over leading axes and accepts numpy
arrays or torch tensors (the same type comes back).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

ArrayT = TypeVar("ArrayT")  # numpy array or torch tensor


def world_to_camera(points: ArrayT, rotation: ArrayT, campos: ArrayT) -> ArrayT:
    """``(..., N, 3)`` world points -> camera frame with ``rotation (..., 3, 3)`` and
    camera position ``campos (..., 3)``."""
    centred = points - campos[..., None, :]  # type: ignore[index,operator]
    return centred @ rotation.swapaxes(-1, -2)  # type: ignore[attr-defined,operator]


def camera_to_world(points: ArrayT, rotation: ArrayT, campos: ArrayT) -> ArrayT:
    """Inverse of :func:`world_to_camera`."""
    return points @ rotation + campos[..., None, :]  # type: ignore[operator,index]


def project(points: ArrayT, focal: ArrayT, princpt: ArrayT) -> ArrayT:
    """``(..., N, 3)`` camera points -> ``(..., N, 2)`` pixels.

    ``focal`` and ``princpt`` are ``(..., 2)`` (fx, fy) and (cx, cy).
    """
    xy = points[..., :2] / points[..., 2:3]  # type: ignore[index,operator]
    return xy * focal[..., None, :] + princpt[..., None, :]  # type: ignore[index,operator]


def backproject(pixels: ArrayT, depth: ArrayT, focal: ArrayT, princpt: ArrayT) -> ArrayT:
    """``(..., N, 2)`` pixels with ``(..., N)`` depths -> ``(..., N, 3)`` camera points."""
    xy = (pixels - princpt[..., None, :]) / focal[..., None, :]  # type: ignore[index,operator]
    z = depth[..., None]  # type: ignore[index]
    if isinstance(pixels, np.ndarray):
        return np.concatenate([xy * z, z], axis=-1)  # type: ignore[return-value]
    import torch

    return torch.cat([xy * z, z], dim=-1)  # type: ignore[return-value]


def intrinsics_matrix(focal: np.ndarray, princpt: np.ndarray) -> np.ndarray:
    """3x3 pinhole matrix ``K`` (float32) from (fx, fy) and (cx, cy)."""
    fx, fy = (float(v) for v in np.asarray(focal).reshape(2))
    cx, cy = (float(v) for v in np.asarray(princpt).reshape(2))
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]], dtype=np.float32)


def focal_princpt(intrinsics: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fx, fy) and (cx, cy) of a 3x3 ``K``."""
    k = np.asarray(intrinsics, dtype=np.float32)
    return np.array([k[0, 0], k[1, 1]], np.float32), np.array([k[0, 2], k[1, 2]], np.float32)
