"""Procedural 3D value noise, evaluated on rest-pose (template) positions.

Texture computed from rest positions stays glued to the skin when the hand moves and
works for any mesh, the built-in hand model and official MANO alike. The lattice of
random values is made once per process from a fixed seed, so noise is a pure
function of its inputs; variety between hands comes from random offsets and scales.
"""

from __future__ import annotations

import functools

import numpy as np

LATTICE = 64  # lattice cells per period along each axis


@functools.lru_cache(maxsize=1)
def _lattice() -> np.ndarray:
    rng = np.random.default_rng(0x5EED)
    return rng.random(LATTICE**3, dtype=np.float32) * 2.0 - 1.0


def value_noise(points: np.ndarray) -> np.ndarray:
    """Smooth noise in [-1, 1] at ``(N, 3)`` points, one lattice cell per unit, periodic
    with period :data:`LATTICE`; ``(N,)`` float32."""
    p = np.asarray(points, dtype=np.float32)
    base = np.floor(p)
    f = p - base
    f = f * f * (3.0 - 2.0 * f)  # smoothstep: continuous derivatives at cell faces
    cell = base.astype(np.int64) % LATTICE
    lat = _lattice()
    ix, iy, iz = cell[:, 0], cell[:, 1], cell[:, 2]
    jx, jy, jz = (ix + 1) % LATTICE, (iy + 1) % LATTICE, (iz + 1) % LATTICE
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
    out = np.zeros(len(p), dtype=np.float32)
    for cx, wx in ((ix, 1.0 - fx), (jx, fx)):
        for cy, wy in ((iy, 1.0 - fy), (jy, fy)):
            row = (cx * LATTICE + cy) * LATTICE
            wxy = wx * wy
            out += wxy * ((1.0 - fz) * lat[row + iz] + fz * lat[row + jz])
    return out
