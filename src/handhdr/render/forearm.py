"""Forearm stubs: a tapered, slightly flattened tube from each wrist along the arm.

Real hand images show forearms; they hide parts of the hands but belong to no hand
mask. The stub starts at the wrist joint, inside the hand's wrist skin, and widens
towards the elbow. It is closed at both ends, so its back faces can be culled.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

_SEGMENTS = 20  # around the tube
_RINGS = 12  # along the tube


@dataclass(frozen=True)
class ForearmStyle:
    """Random parts of a forearm's geometry and look."""

    length_mm: float  # beyond the end of the hand mesh
    flex_deg: float  # small wrist flexion: turns the arm towards the palm (+) or the back (-)
    deviation_deg: float  # small radial / ulnar deviation: turns it in the palm plane
    widening: float  # width of the muscles below the elbow over the width at the wrist
    sleeve_from_mm: float | None  # where a sleeve starts, from the hand (None: bare arm)
    sleeve_rgb: np.ndarray  # (3,) linear RGB of the sleeve


def sample_forearm_style(rng: np.random.Generator) -> ForearmStyle:
    """A random forearm, long enough to leave most frames, bare or in a sleeve."""
    sleeve = float(rng.uniform(15.0, 160.0)) if rng.random() < 0.35 else None
    return ForearmStyle(
        length_mm=float(rng.uniform(300.0, 650.0)),  # on to the elbow and beyond: off-frame
        flex_deg=float(rng.normal(0.0, 3.0)),
        deviation_deg=float(rng.normal(0.0, 3.0)),
        widening=float(rng.uniform(1.1, 1.3)),
        sleeve_from_mm=sleeve,
        sleeve_rgb=(rng.random(3) ** 2.2 * 0.8).astype(np.float32),
    )


@dataclass
class ForearmMesh:
    """A forearm in the camera frame (mm) with its texture coordinates."""

    vertices: np.ndarray  # (V, 3)
    faces: np.ndarray  # (F, 3), counter-clockwise seen from outside, closed
    rest_mm: np.ndarray  # (V, 3) texture coordinates: the tube in its own frame
    sleeve: np.ndarray  # (V,) bool: vertex lies on the sleeve
    ventral: np.ndarray  # (V,) in [0, 1]: the palm side of the forearm (lighter skin)


@functools.lru_cache(maxsize=8)
def _tube_faces(rings: int) -> np.ndarray:
    """Triangles of a tube of ``rings`` x ``_SEGMENTS`` vertices closed by two centre
    vertices (indices ``rings * _SEGMENTS`` and the next)."""
    n = rings * _SEGMENTS
    j = np.arange(_SEGMENTS)
    jn = (j + 1) % _SEGMENTS
    faces = []
    for r in range(rings - 1):
        a, b = r * _SEGMENTS + j, r * _SEGMENTS + jn
        faces += [
            np.stack([a, b, a + _SEGMENTS], 1),
            np.stack([b, b + _SEGMENTS, a + _SEGMENTS], 1),
        ]
    faces.append(np.stack([np.full(_SEGMENTS, n), jn, j], 1))
    last = (rings - 1) * _SEGMENTS
    faces.append(np.stack([np.full(_SEGMENTS, n + 1), last + j, last + jn], 1))
    out = np.concatenate(faces).astype(np.int64)
    out.setflags(write=False)
    return out


# Everything below uses elementwise IEEE arithmetic and Python's scalar math (no BLAS,
# no vectorised transcendentals): forearms hide parts of hands, so their geometry
# enters the visible masks, which must be identical on every machine.


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product of ``(..., 3)`` arrays."""
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array(
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    )


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(math.sqrt(float(_dot(v, v))), 1e-9)


def _rotate(v: np.ndarray, axis: np.ndarray, deg: float) -> np.ndarray:
    """``v`` turned by ``deg`` about the unit ``axis`` (Rodrigues)."""
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return v * c + _cross(axis, v) * s + axis * (float(_dot(axis, v)) * (1.0 - c))


@functools.lru_cache(maxsize=1)
def _ring() -> tuple[np.ndarray, np.ndarray]:
    phi = [2.0 * math.pi * k / _SEGMENTS for k in range(_SEGMENTS)]
    return np.array([math.cos(p) for p in phi]), np.array([math.sin(p) for p in phi])


def forearm_mesh(
    vertices: np.ndarray, joints: np.ndarray, side: str, style: ForearmStyle
) -> ForearmMesh:
    """The forearm of a posed hand: ``vertices`` ``(V, 3)`` and ``joints`` ``(21, 3)`` in
    the camera frame (mm, InterHand2.6M per-hand joint order: wrist 20, index MCP 7,
    middle MCP 11, pinky MCP 19).

    The hand mesh ends somewhat beyond the wrist joint (MANO: an open wrist; the
    built-in model: a short capped stub). The forearm starts inside that end, a little
    thinner than the hand's cross-section there, so that it continues the hand's skin.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    joints = np.asarray(joints, dtype=np.float64)
    wrist, middle = joints[20], joints[11]
    arm = _unit(wrist - middle)  # from the knuckles through the wrist, along the arm
    lateral = joints[7] - joints[19]  # pinky -> index knuckle: towards the thumb side
    lateral = _unit(lateral - float(_dot(lateral, arm)) * arm)
    palm = _cross(arm, lateral) if side == "right" else _cross(lateral, arm)
    rel = vertices - wrist
    along = _dot(rel, arm)
    end = float(along.max())  # where the hand mesh ends along the arm
    start = end - min(15.0, max(0.5 * end, 2.0))
    slab = np.abs(along - start) < 4.0
    if slab.sum() < 8:
        slab = np.argsort(np.abs(along - start), kind="stable")[:32]
    lat, dep = _dot(rel[slab], lateral), _dot(rel[slab], palm)
    half_width = max(0.5 * float(np.ptp(lat)), 5.0)
    half_depth = max(0.5 * float(np.ptp(dep)), 4.0)
    origin = wrist + start * arm + 0.5 * float(lat.max() + lat.min()) * lateral
    origin = origin + 0.5 * float(dep.max() + dep.min()) * palm
    axis = _rotate(arm, lateral, style.flex_deg)
    axis = _rotate(axis, palm, style.deviation_deg)
    side_a = _unit(lateral - float(_dot(lateral, axis)) * axis)
    side_b = _cross(axis, side_a)
    inside = end - start
    total = inside + style.length_mm
    dist = [0.0, max(inside - 11.0, 0.0), max(inside - 1.0, 0.0)]
    dist += np.linspace(inside, total - 30.0, _RINGS).tolist() + [total - 15.0, total - 5.0]
    if style.sleeve_from_mm is not None:
        dist += [inside + style.sleeve_from_mm - 0.2, inside + style.sleeve_from_mm + 0.2]
    dist = np.unique(np.clip(np.array(dist), 0.0, total))
    # inside the hand a little thinner than its wrist; over the hand's last millimetres
    # a little wider (hiding the seam); then the forearm's muscles: wider and rounder
    # towards the elbow
    t = np.clip((dist - inside) / style.length_mm, 0.0, 1.0)
    belly = np.sin(0.5 * np.pi * np.minimum(t / 0.65, 1.0))
    ramp = np.clip((dist - (inside - 11.0)) / 10.0, 0.0, 1.0)
    seam = 0.97 + 0.05 * ramp
    # a rounded far end, for the frames where it shows
    end_round = np.sqrt(np.clip((total - dist) / 30.0, 0.0, 1.0)) * 0.55 + 0.45
    width_scale = seam * (1.0 + (style.widening - 1.0) * belly) * end_round
    depth_scale = seam * (1.0 + (1.3 * style.widening - 1.0) * belly) * end_round
    ca, sb = _ring()
    rings = len(dist)
    local = np.stack(
        [
            np.repeat(dist, _SEGMENTS),
            (ca[None, :] * half_width * width_scale[:, None]).reshape(-1),
            (sb[None, :] * half_depth * depth_scale[:, None]).reshape(-1),
        ],
        axis=1,
    )
    tube = origin + local[:, :1] * axis + local[:, 1:2] * side_a + local[:, 2:3] * side_b
    verts = np.concatenate([tube, [origin], [origin + total * axis]])
    # faces wind counter-clockwise seen from outside for a right-handed (axis, a, b)
    faces = _tube_faces(rings)
    rest = np.concatenate([local, [[0.0, 0.0, 0.0]], [[total, 0.0, 0.0]]]).astype(np.float32)
    sleeve = np.zeros(len(verts), dtype=bool)
    if style.sleeve_from_mm is not None:
        sleeve = rest[:, 0] >= inside + style.sleeve_from_mm
    # the palm side, where the skin is lighter, fading towards the elbow like the palm's
    # colour does; palm = (side_a, side_b) coordinates of the palm direction
    pa, pb = float(_dot(palm, side_a)), float(_dot(palm, side_b))
    ring_palm = np.clip(ca * pa + sb * pb, 0.0, 1.0)
    fade = 0.8 - 0.4 * t
    ventral = np.concatenate([(fade[:, None] * ring_palm[None, :]).reshape(-1), [0.4, 0.2]])
    return ForearmMesh(verts, faces, rest, sleeve, ventral.astype(np.float32))
