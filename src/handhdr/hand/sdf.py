"""Signed-distance primitives (numpy, points ``(N, 3)`` in metres, negative inside).

The built-in hand is a smooth union of these shapes. Values are exact distances for
spheres and capsules and close approximations for the flattened tubes and slabs, which
is all the mesher needs (a smooth field whose zero level set is the skin).
"""

from __future__ import annotations

import numpy as np


def smooth_min(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Polynomial smooth minimum: a union whose seam is rounded over a width ``k``."""
    if k <= 0:
        return np.minimum(a, b)
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b + (a - b) * h - k * h * (1.0 - h)


def smooth_max(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Polynomial smooth maximum: an intersection with edges rounded over a width ``k``."""
    return -smooth_min(-a, -b, k)


def ellipsoid(points: np.ndarray, center: np.ndarray, axes: np.ndarray, radii) -> np.ndarray:
    """Approximate distance to an ellipsoid with orthonormal ``axes`` (3, 3) rows and ``radii``."""
    local = (points - center) @ np.asarray(axes).T
    radii = np.asarray(radii, dtype=np.float64)
    return (np.linalg.norm(local / radii, axis=1) - 1.0) * radii.min()


def polygon_distance_2d(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Signed distance from ``points`` (N, 2) to a closed simple polygon (M, 2)."""
    a = polygon
    b = np.roll(polygon, -1, axis=0)
    ab = b - a  # (M, 2)
    ap = points[:, None, :] - a[None]  # (N, M, 2)
    t = np.clip((ap * ab).sum(-1) / (ab * ab).sum(-1), 0.0, 1.0)
    dist = np.linalg.norm(ap - t[..., None] * ab, axis=-1).min(axis=1)
    # even-odd crossing test for inside
    y = points[:, 1:2]
    crosses = (a[None, :, 1] > y) != (b[None, :, 1] > y)
    x_cross = a[None, :, 0] + (y - a[None, :, 1]) * ab[None, :, 0] / np.where(
        ab[None, :, 1] == 0, 1e-30, ab[None, :, 1]
    )
    inside = (crosses & (points[:, 0:1] < x_cross)).sum(axis=1) % 2 == 1
    return np.where(inside, -dist, dist)


def flattened_tube(
    points: np.ndarray,
    centres: np.ndarray,
    radii: np.ndarray,
    dorsal: np.ndarray,
    dorsal_ratio: float,
    palmar_ratio: float,
    blend: float,
) -> np.ndarray:
    """Distance to a chain of tapered capsules through ``centres`` (K, 3) with ``radii`` (K,).

    The cross-section is an ellipse-like oval: along the unit vector ``dorsal`` its half
    thickness is ``dorsal_ratio`` (back side) or ``palmar_ratio`` (palm side) times the
    radius, so fingers are wider than thick and their pads fuller than their backs.
    Consecutive capsules are joined by a smooth union of width ``blend``.
    """
    result = None
    for k in range(len(centres) - 1):
        a, b = centres[k], centres[k + 1]
        axis = b - a
        length2 = float(axis @ axis)
        t = np.clip((points - a) @ axis / length2, 0.0, 1.0)
        q = points - (a + t[:, None] * axis)
        unit = axis / np.sqrt(length2)
        up = dorsal - (dorsal @ unit) * unit
        up /= np.linalg.norm(up)
        qd = q @ up
        q_rest = q - qd[:, None] * up
        scaled_d = qd / np.where(qd > 0, dorsal_ratio, palmar_ratio)
        dist = np.sqrt((q_rest**2).sum(1) + scaled_d**2)
        d = dist - (radii[k] + t * (radii[k + 1] - radii[k]))
        result = d if result is None else smooth_min(result, d, blend)
    assert result is not None
    return result
