"""Lights and skin shading: hemisphere ambient, wrapped Lambert and Blinn-Phong specular.

Directions are in the camera frame (x right, y down, z forward) and point from the
surface towards the light. Shading is computed in linear light. Red light wraps
further around the terminator than green and blue, a cheap imitation of the
sub-surface scattering that keeps skin from looking like plastic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_WRAP = np.array([0.45, 0.25, 0.2], dtype=np.float32)  # per-channel diffuse wrap (R > G > B)
# white points of common light sources, from warm (tungsten) to cool (overcast daylight)
_TINTS = np.array(
    [[1.0, 0.71, 0.42], [1.0, 0.84, 0.66], [1.0, 0.95, 0.88], [0.95, 0.97, 1.0], [0.85, 0.92, 1.0]],
    dtype=np.float32,
)


@dataclass(frozen=True)
class Light:
    """A directional light: unit ``direction`` towards the light, linear RGB ``colour``."""

    direction: np.ndarray  # (3,)
    colour: np.ndarray  # (3,)


@dataclass(frozen=True)
class Lighting:
    """Everything that lights a scene."""

    sky: np.ndarray  # (3,) ambient light from above (-y)
    ground: np.ndarray  # (3,) ambient light from below (+y)
    lights: tuple[Light, ...]
    exposure: float


def _tint(rng: np.random.Generator) -> np.ndarray:
    t = rng.uniform(0.0, len(_TINTS) - 1)
    i = min(int(t), len(_TINTS) - 2)
    return _TINTS[i] * (1 - (t - i)) + _TINTS[i + 1] * (t - i)


def _direction(rng: np.random.Generator, front: bool) -> np.ndarray:
    # mostly from the camera side (z < 0) and from above (y < 0); sometimes a back light
    azimuth = rng.uniform(-np.pi, np.pi)
    elevation = rng.uniform(0.1, 1.2)
    d = np.array(
        [
            np.cos(elevation) * np.sin(azimuth),
            -np.sin(elevation),
            -np.cos(elevation) * np.cos(azimuth),
        ]
    )
    if front:
        d[2] = -abs(d[2]) - 0.3
    return (d / np.linalg.norm(d)).astype(np.float32)


def sample_lighting(rng: np.random.Generator) -> Lighting:
    """Random ambient plus one or two directional lights of random colour."""
    ambient = rng.uniform(0.18, 0.45)
    sky = _tint(rng) * ambient
    ground = _tint(rng) * ambient * rng.uniform(0.4, 0.8)
    key = Light(_direction(rng, front=True), _tint(rng) * rng.uniform(0.7, 1.25))
    lights = [key]
    if rng.random() < 0.6:
        lights.append(
            Light(_direction(rng, front=rng.random() < 0.6), _tint(rng) * rng.uniform(0.15, 0.55))
        )
    return Lighting(
        sky.astype(np.float32),
        ground.astype(np.float32),
        tuple(lights),
        float(rng.uniform(0.85, 1.2)),
    )


def shade(
    albedo: np.ndarray,
    normals: np.ndarray,
    view: np.ndarray,
    lighting: Lighting,
    specular: float,
    shininess: float,
    occlusion: np.ndarray | None = None,
) -> np.ndarray:
    """Linear RGB radiance ``(3, P)`` of ``P`` surface points.

    Channel-major float32 arrays ``(3, P)``: ``albedo`` linear RGB, ``normals`` and
    ``view`` (towards the camera) unit vectors; ``occlusion`` ``(P,)`` in [0, 1]
    scales the ambient light and the highlights.
    """
    nx, ny, nz = normals
    up = np.clip(0.5 - 0.5 * ny, 0.0, 1.0)
    diffuse = lighting.ground[:, None] + (lighting.sky - lighting.ground)[:, None] * up
    if occlusion is not None:
        diffuse = diffuse * occlusion
    spec = np.zeros(nx.shape, dtype=np.float32)
    spec_rgb = np.zeros_like(albedo)
    n_dot_v = np.clip(nx * view[0] + ny * view[1] + nz * view[2], 0.0, 1.0)
    fresnel = 1.0 + 2.0 * (1.0 - n_dot_v) ** 5
    for light in lighting.lights:
        lx, ly, lz = (float(c) for c in light.direction)
        ndl = nx * lx + ny * ly + nz * lz
        for c in range(3):
            wrap = float(_WRAP[c])
            diffuse[c] += np.clip((ndl + wrap) * (1.0 / (1.0 + wrap)), 0.0, 1.0) * float(
                light.colour[c]
            )
        hx, hy, hz = view[0] + lx, view[1] + ly, view[2] + lz
        inv = 1.0 / np.sqrt(np.maximum(hx * hx + hy * hy + hz * hz, 1e-12))
        ndh = np.clip((nx * hx + ny * hy + nz * hz) * inv, 1e-6, 1.0)
        lobe = np.exp(np.float32(shininess) * np.log(ndh))  # ndh ** shininess
        spec = lobe * np.clip(ndl * 4.0, 0.0, 1.0)  # no highlight on the unlit side
        spec_rgb += light.colour[:, None] * spec
    spec_rgb *= specular * fresnel
    if occlusion is not None:
        spec_rgb *= occlusion
    return ((albedo * diffuse + spec_rgb) * np.float32(lighting.exposure)).astype(np.float32)
