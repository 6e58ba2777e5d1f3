"""A cheap interpenetration test between two hands: capsules around the bones.

Each hand is approximated by capsules (a segment with a radius) along its finger
bones and across its palm, built from its 21 joints; each radius is the median
distance of the hand's own surface vertices to that bone, shrunk a little so that
two hands whose skins touch do not count as intersecting. A vertex of one hand that
lies inside a capsule of the other hand is a penetration. Resolving moves one hand
rigidly along a direction (the contact normal) until no vertex penetrates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handhdr.joints import INTERHAND_PARENTS

# palm segments across the metacarpals: index MCP - middle MCP - ring MCP - pinky MCP
_PALM_CROSS = ((7, 11), (11, 15), (15, 19))
_BONES: tuple[tuple[int, int], ...] = (
    tuple((j, INTERHAND_PARENTS[j]) for j in range(20) if INTERHAND_PARENTS[j] >= 0) + _PALM_CROSS
)
SHRINK = 0.85  # capsule radius = SHRINK x the median skin distance of the bone
MIN_RADIUS_M = 0.004
FALLBACK_RADIUS_M = 0.008


@dataclass(frozen=True)
class Capsules:
    """Segments ``start[i]``-``end[i]`` with radius ``radius[i]`` (metres)."""

    start: np.ndarray  # (C, 3)
    end: np.ndarray  # (C, 3)
    radius: np.ndarray  # (C,)

    def translated(self, shift: np.ndarray) -> Capsules:
        """The same capsules moved by ``shift``."""
        return Capsules(self.start + shift, self.end + shift, self.radius)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned box around all capsules."""
        r = self.radius.max()
        points = np.concatenate([self.start, self.end])
        return points.min(axis=0) - r, points.max(axis=0) + r


def segment_distances(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``(N, C)`` distances of ``points (N, 3)`` to the segments ``start``-``end`` ``(C, 3)``.

    Written with matrix products only (no ``(N, C, 3)`` temporaries): this is the
    inner loop of scene generation.
    """
    points = np.asarray(points, np.float64)
    seg = end - start
    length2 = np.maximum(np.einsum("ij,ij->i", seg, seg), 1e-12)
    p_seg = points @ seg.T - np.einsum("ij,ij->i", start, seg)  # rel . seg
    t = np.clip(p_seg / length2, 0.0, 1.0)
    rel2 = (
        np.einsum("ij,ij->i", points, points)[:, None]
        - 2.0 * points @ start.T
        + np.einsum("ij,ij->i", start, start)
    )  # |p - start|^2
    dist2 = rel2 - 2.0 * t * p_seg + t * t * length2
    return np.sqrt(np.maximum(dist2, 0.0))


def hand_capsules(joints: np.ndarray, vertices: np.ndarray, shrink: float = SHRINK) -> Capsules:
    """Capsules of one hand from its 21 joints (InterHand order) and its skin vertices."""
    joints = np.asarray(joints, np.float64)
    start = joints[[a for a, _ in _BONES]]
    end = joints[[b for _, b in _BONES]]
    distances = segment_distances(np.asarray(vertices, np.float64), start, end)
    nearest = distances.argmin(axis=1)
    radius = np.full(len(_BONES), FALLBACK_RADIUS_M)
    for c in range(len(_BONES)):
        own = distances[nearest == c, c]
        if own.size >= 3:
            radius[c] = float(np.median(own))
    return Capsules(start, end, np.maximum(radius * shrink, MIN_RADIUS_M))


def penetration_depth(vertices: np.ndarray, capsules: Capsules) -> float:
    """How deep (metres, >= 0) the deepest of ``vertices`` is inside ``capsules``."""
    low, high = capsules.bounds()
    near = vertices[np.all((vertices >= low) & (vertices <= high), axis=1)]
    if near.shape[0] == 0:
        return 0.0
    signed = segment_distances(near, capsules.start, capsules.end) - capsules.radius[None]
    return float(max(0.0, -signed.min()))


def clearance(vertices: np.ndarray, capsules: Capsules) -> float:
    """Smallest signed distance of ``vertices`` to ``capsules`` (negative = inside)."""
    signed = segment_distances(vertices, capsules.start, capsules.end) - capsules.radius[None]
    return float(signed.min())


def mutual_penetration(
    verts_a: np.ndarray, caps_a: Capsules, verts_b: np.ndarray, caps_b: Capsules
) -> float:
    """Deepest penetration of either hand into the other (metres, >= 0)."""
    return max(penetration_depth(verts_a, caps_b), penetration_depth(verts_b, caps_a))


def separate(
    verts_a: np.ndarray,
    caps_a: Capsules,
    verts_b: np.ndarray,
    caps_b: Capsules,
    direction: np.ndarray,
    gap_m: float = 0.0,
    max_push_m: float = 0.08,
    tolerance_m: float = 0.001,
) -> np.ndarray | None:
    """Smallest shift of hand B along ``direction`` that removes the interpenetration.

    With ``gap_m > 0`` the hands are pushed until the skins are at least that far
    apart. A few steps of "push by the current depth" settle shallow contacts; deep
    overlaps are bracketed and bisected to ``tolerance_m``. Returns ``None`` when more
    than ``max_push_m`` would be needed (the caller then rejects the scene).
    """
    direction = np.asarray(direction, np.float64)
    direction = direction / max(np.linalg.norm(direction), 1e-12)

    def need(push: float) -> float:
        shift = push * direction
        moved_v, moved_c = verts_b + shift, caps_b.translated(shift)
        if gap_m > 0:
            return gap_m - min(clearance(verts_a, moved_c), clearance(moved_v, caps_a))
        return mutual_penetration(verts_a, caps_a, moved_v, moved_c)

    push, deficit = 0.0, need(0.0)
    if gap_m > 0 and deficit > 1e-5:  # a gap is far from the start: bisect at once
        low, high = 0.0, max_push_m
        if need(high) > 1e-5:
            return None
        while high - low > tolerance_m:
            middle = 0.5 * (low + high)
            if need(middle) > 1e-5:
                low = middle
            else:
                high = middle
        return high * direction
    for _ in range(4):
        if deficit <= 1e-5:
            return push * direction
        push += deficit + tolerance_m
        if push > max_push_m:
            return None
        deficit = need(push)
    if deficit <= 1e-5:
        return push * direction
    low, high = push, push
    while deficit > 1e-5:  # bracket: double the push until the hands are apart
        low, high = high, min(2.0 * high, max_push_m)
        deficit = need(high)
        if deficit > 1e-5 and high >= max_push_m:
            return None
    while high - low > tolerance_m:
        middle = 0.5 * (low + high)
        if need(middle) > 1e-5:
            low = middle
        else:
            high = middle
    return high * direction
