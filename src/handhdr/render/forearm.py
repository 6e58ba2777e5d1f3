"""Forearm stubs: a tapered, slightly flattened tube from each wrist along the arm.

Real hand images show forearms; they hide parts of the hands but belong to no hand
mask. The stub starts at the wrist joint, inside the hand's wrist skin, and widens
towards the elbow. It is closed at both ends, so its back faces can be culled.
"""

from __future__ import annotations

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
    widening: float  # radius at the elbow end over the radius at the wrist
    sleeve_from_mm: float | None  # where a sleeve starts, from the hand (None: bare arm)
    sleeve_rgb: np.ndarray  # (3,) linear RGB of the sleeve


def sample_forearm_style(rng: np.random.Generator) -> ForearmStyle:
    """A random forearm, long enough to leave most frames, bare or in a sleeve."""
    sleeve = float(rng.uniform(15.0, 160.0)) if rng.random() < 0.35 else None
    return ForearmStyle(
        length_mm=float(rng.uniform(250.0, 450.0)),
        flex_deg=float(rng.normal(0.0, 3.0)),
        deviation_deg=float(rng.normal(0.0, 3.0)),
        widening=float(rng.uniform(1.1, 1.35)),
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


def _rotate(v: np.ndarray, axis: np.ndarray, deg: float) -> np.ndarray:
    a = np.radians(deg)
    return v * np.cos(a) + np.cross(axis, v) * np.sin(a) + axis * (axis @ v) * (1 - np.cos(a))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


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
    wrist, middle = joints[20], joints[11]
    arm = _unit(wrist - middle)  # from the knuckles through the wrist, along the arm
    lateral = joints[7] - joints[19]  # pinky -> index knuckle: towards the thumb side
    lateral = _unit(lateral - (lateral @ arm) * arm)
    palm = np.cross(arm, lateral) if side == "right" else np.cross(lateral, arm)
    rel = vertices - wrist
    along = rel @ arm
    end = float(along.max())  # where the hand mesh ends along the arm
    start = end - min(15.0, max(0.5 * end, 2.0))
    slab = np.abs(along - start) < 4.0
    if slab.sum() < 8:
        slab = np.argsort(np.abs(along - start))[:32]
    lat, dep = rel[slab] @ lateral, rel[slab] @ palm
    half_width = max(0.5 * float(np.ptp(lat)), 5.0)
    half_depth = max(0.5 * float(np.ptp(dep)), 4.0)
    origin = wrist + start * arm + 0.5 * (lat.max() + lat.min()) * lateral
    origin = origin + 0.5 * (dep.max() + dep.min()) * palm
    axis = _rotate(arm, lateral, style.flex_deg)
    axis = _rotate(axis, palm, style.deviation_deg)
    side_a = _unit(lateral - (lateral @ axis) * axis)
    side_b = np.cross(axis, side_a)
    inside = end - start
    total = inside + style.length_mm
    dist = np.linspace(0.0, total, _RINGS)
    extra = [inside]
    if style.sleeve_from_mm is not None:
        extra += [inside + style.sleeve_from_mm - 0.2, inside + style.sleeve_from_mm + 0.2]
    dist = np.unique(np.clip(np.concatenate([dist, extra]), 0.0, total))
    t = np.clip((dist - inside) / style.length_mm, 0.0, 1.0)
    scale = 0.96 * (1.0 + (style.widening - 1.0) * np.sqrt(t))
    phi = np.linspace(0.0, 2 * np.pi, _SEGMENTS, endpoint=False)
    ca, sb = np.cos(phi), np.sin(phi)
    local = np.stack(
        [
            np.repeat(dist, _SEGMENTS),
            (ca[None, :] * half_width * scale[:, None]).reshape(-1),
            (sb[None, :] * half_depth * scale[:, None]).reshape(-1),
        ],
        axis=1,
    )
    frame = np.stack([axis, side_a, side_b])  # local (along, a, b) -> camera
    rings = len(dist)
    verts = np.concatenate([origin + local @ frame, [origin], [origin + total * axis]])
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
    faces = np.concatenate(faces).astype(np.int64)
    # orient outwards: the first side face must point away from the axis
    v0, v1, v2 = verts[faces[0]]
    radial = v0 - origin - ((v0 - origin) @ axis) * axis
    if np.cross(v1 - v0, v2 - v0) @ radial < 0:
        faces = faces[:, ::-1].copy()
    rest = np.concatenate([local, [[0.0, 0.0, 0.0]], [[total, 0.0, 0.0]]]).astype(np.float32)
    sleeve = np.zeros(len(verts), dtype=bool)
    if style.sleeve_from_mm is not None:
        sleeve = rest[:, 0] >= inside + style.sleeve_from_mm
    return ForearmMesh(verts, faces, rest, sleeve)
