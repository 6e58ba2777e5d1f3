"""Anatomical joint limits, everyday gestures and random poses for MANO-style hands.

Joint angles. Each of the 15 finger joints (MANO order, joints 1-15) has a local frame
built from the model's rest pose, and its rotation (``full_pose_k = pose_k +
hands_mean_k``, axis-angle, see :mod:`handhdr.hand.layer`) is described by the
components of that axis-angle vector along three unit axes:

* ``twist`` -- about the bone (joint to child joint or fingertip); the right-hand rule
  about the bone for a right hand, mirrored for a left hand;
* ``spread`` -- about the bone's palm normal; positive turns the digit towards the
  thumb side (radial), for both hands;
* ``flex`` -- about ``bone x palm normal``; positive curls the digit towards the palm.

The palm normal is ``(index_1 - wrist) x (pinky_1 - wrist)`` (sign chosen to point out
of the palm), made perpendicular to the bone. For the thumb it is turned 60 degrees
about the thumb bone (the thumb pad faces the fingers, not the floor). The frames of a
left hand are the mirror images of a right hand's, so the same angles give mirrored
gestures. Angles are relative to the flat rest template (zero = template), not to
``hands_mean``. :class:`PoseSpace` converts between angles (``(..., 15, 3)``, in the
order twist, spread, flex) and layer poses (``(..., 48)``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from handhdr.hand.model_data import HandModelData

ANGLE_NAMES = ("twist", "spread", "flex")
NUM_FINGER_JOINTS = 15
THUMB_PAD_TURN = np.radians(60.0)
# MANO joint index of each digit's three joints, and of each joint's child joint
# (-1: the fingertip, which comes from the model's tip vertex)
DIGIT_JOINTS: dict[str, tuple[int, int, int]] = {
    "thumb": (13, 14, 15),
    "index": (1, 2, 3),
    "middle": (4, 5, 6),
    "ring": (10, 11, 12),
    "pinky": (7, 8, 9),
}
TIP_ORDER = ("thumb", "index", "middle", "ring", "pinky")  # HandModelData.tip_vertex_ids


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def joint_frames(joints: np.ndarray, tips: np.ndarray, side: str) -> np.ndarray:
    """Local frames of the 15 finger joints, ``(15, 3, 3)``; column ``i`` is the unit axis
    of angle ``ANGLE_NAMES[i]``. ``joints`` (16, 3) rest joints in MANO order, ``tips``
    (5, 3) rest fingertips (thumb, index, middle, ring, pinky), ``side`` "right"/"left"."""
    if side not in ("right", "left"):
        raise ValueError(f"side must be 'right' or 'left', got {side!r}")
    s = 1.0 if side == "right" else -1.0
    palm = s * _unit(np.cross(joints[1] - joints[0], joints[7] - joints[0]))
    frames = np.zeros((NUM_FINGER_JOINTS, 3, 3))
    for digit, chain in DIGIT_JOINTS.items():
        ends = [joints[chain[1]], joints[chain[2]], tips[TIP_ORDER.index(digit)]]
        for joint, end in zip(chain, ends, strict=True):
            bone = _unit(end - joints[joint])
            normal = palm - (palm @ bone) * bone
            normal = _unit(normal)
            if digit == "thumb":
                angle = -s * THUMB_PAD_TURN
                normal = np.cos(angle) * normal + np.sin(angle) * np.cross(bone, normal)
            flex = _unit(np.cross(bone, normal))
            frames[joint - 1] = np.stack([s * bone, -s * normal, flex], axis=1)
    return frames


class PoseSpace:
    """Converts joint angles to layer poses and back for one hand model."""

    def __init__(self, frames: np.ndarray, hands_mean: np.ndarray) -> None:
        self.frames = np.asarray(frames, dtype=np.float64)  # (15, 3, 3)
        self.hands_mean = np.asarray(hands_mean, dtype=np.float64).reshape(15, 3)

    @classmethod
    def from_model(cls, data: HandModelData) -> PoseSpace:
        """Frames from the model's rest joints and fingertips."""
        v = data.v_template.astype(np.float64)
        joints = data.j_regressor.astype(np.float64) @ v
        return cls(joint_frames(joints, v[data.tip_vertex_ids], data.side), data.hands_mean)

    def to_pose(self, angles: np.ndarray, global_orient: np.ndarray | None = None) -> np.ndarray:
        """Angles ``(..., 15, 3)`` -> layer pose ``(..., 48)`` (relative to hands_mean)."""
        angles = np.asarray(angles, dtype=np.float64)
        rotvec = np.einsum("kij,...kj->...ki", self.frames, angles) - self.hands_mean
        orient = np.zeros(angles.shape[:-2] + (3,))
        if global_orient is not None:
            orient = orient + global_orient
        return np.concatenate([orient, rotvec.reshape(angles.shape[:-2] + (45,))], axis=-1)

    def to_angles(self, pose: np.ndarray) -> np.ndarray:
        """Layer pose ``(..., 48)`` -> angles ``(..., 15, 3)``."""
        pose = np.asarray(pose, dtype=np.float64)
        rotvec = pose[..., 3:].reshape(pose.shape[:-1] + (15, 3)) + self.hands_mean
        return np.einsum("kij,...ki->...kj", self.frames, rotvec)


# --- limits ------------------------------------------------------------------------
# (twist, spread, flex) ranges in radians, relative to the flat rest template.
_MCP = {"twist": (-0.20, 0.20), "flex": (-0.40, 1.65)}
_PIP = {"twist": (-0.06, 0.06), "spread": (-0.06, 0.06), "flex": (-0.08, 1.90)}
_DIP = {"twist": (-0.05, 0.05), "spread": (-0.05, 0.05), "flex": (-0.25, 1.40)}
_SPREAD = {"index": (-0.30, 0.30), "middle": (-0.25, 0.25), "ring": (-0.25, 0.25)}
_SPREAD["pinky"] = (-0.35, 0.40)
_THUMB = (
    {"twist": (-0.40, 0.90), "spread": (-0.50, 0.90), "flex": (-0.45, 1.00)},  # CMC
    {"twist": (-0.20, 0.20), "spread": (-0.15, 0.15), "flex": (-0.20, 1.00)},  # MCP
    {"twist": (-0.10, 0.10), "spread": (-0.08, 0.08), "flex": (-0.35, 1.40)},  # IP
)


def _build_limits() -> np.ndarray:
    limits = np.zeros((NUM_FINGER_JOINTS, 3, 2))
    for digit, chain in DIGIT_JOINTS.items():
        if digit == "thumb":
            specs = _THUMB
        else:
            specs = ({**_MCP, "spread": _SPREAD[digit]}, _PIP, _DIP)
        for joint, spec in zip(chain, specs, strict=True):
            for i, name in enumerate(ANGLE_NAMES):
                limits[joint - 1, i] = spec[name]
    return limits


JOINT_LIMITS: np.ndarray = _build_limits()
"""``(15, 3, 2)``: [min, max] of (twist, spread, flex) for each finger joint (MANO order
1-15), radians, relative to the rest template."""


def clip_to_limits(angles: np.ndarray, limits: np.ndarray = JOINT_LIMITS) -> np.ndarray:
    """Clamp angles ``(..., 15, 3)`` into the joint limits."""
    return np.clip(angles, limits[..., 0], limits[..., 1])


def within_limits(
    angles: np.ndarray, limits: np.ndarray = JOINT_LIMITS, tol: float = 1e-6
) -> np.ndarray:
    """Whether each pose's angles ``(..., 15, 3)`` lie inside the limits: ``(...,)`` bool."""
    ok = (angles >= limits[..., 0] - tol) & (angles <= limits[..., 1] + tol)
    return ok.all(axis=(-1, -2))


# --- gestures ----------------------------------------------------------------------
def gesture_angles(
    thumb: tuple[float, float, float, float, float] = (0.0, 0.0, 0.0, 0.0, 0.0),
    index: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    middle: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    ring: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    pinky: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
) -> np.ndarray:
    """Angles ``(15, 3)`` from per-digit values.

    thumb: (CMC twist, CMC spread, CMC flex, MCP flex, IP flex); each finger: (MCP flex,
    PIP flex, DIP flex, MCP spread).
    """
    angles = np.zeros((NUM_FINGER_JOINTS, 3))
    cmc, mcp, ip = DIGIT_JOINTS["thumb"]
    angles[cmc - 1] = thumb[:3]
    angles[mcp - 1, 2] = thumb[3]
    angles[ip - 1, 2] = thumb[4]
    for digit, values in (("index", index), ("middle", middle), ("ring", ring), ("pinky", pinky)):
        j1, j2, j3 = DIGIT_JOINTS[digit]
        angles[j1 - 1, 2], angles[j2 - 1, 2], angles[j3 - 1, 2] = values[:3]
        angles[j1 - 1, 1] = values[3]
    return angles


_CURLED = (1.50, 1.75, 0.95, 0.0)
_THUMB_OVER = (0.20, -0.10, 0.25, 0.95, 0.95)  # thumb folded over curled fingers

GESTURES: dict[str, np.ndarray] = {
    "flat": gesture_angles(),
    "spread": gesture_angles(
        (-0.1, 0.35, -0.25, 0.0, 0.0),
        (0.0, 0.0, 0.0, 0.25),
        (0.0, 0.0, 0.0, 0.05),
        (0.0, 0.0, 0.0, -0.15),
        (0.0, 0.0, 0.0, -0.3),
    ),
    "together": gesture_angles(
        (0.0, 0.0, 0.25, 0.0, 0.0),
        (0.0, 0.0, 0.0, -0.12),
        (0.0, 0.0, 0.0, 0.0),
        (0.0, 0.0, 0.0, 0.14),
        (0.0, 0.0, 0.0, 0.32),
    ),
    "relaxed": gesture_angles(
        (0.25, 0.20, 0.15, 0.20, 0.20),
        (0.20, 0.35, 0.20, 0.0),
        (0.28, 0.45, 0.25, 0.0),
        (0.34, 0.50, 0.28, 0.0),
        (0.40, 0.55, 0.30, 0.05),
    ),
    "fist": gesture_angles(_THUMB_OVER, _CURLED, _CURLED, _CURLED, (1.50, 1.70, 0.90, 0.1)),
    "point": gesture_angles(_THUMB_OVER, (0.0, 0.05, 0.0, 0.0), _CURLED, _CURLED, _CURLED),
    "pinch": gesture_angles(
        (0.15, 0.15, 0.65, 0.0, 0.05),
        (0.60, 0.75, 0.40, 0.0),
        (0.55, 0.70, 0.35, 0.0),
        (0.55, 0.70, 0.35, 0.0),
        (0.55, 0.70, 0.35, 0.0),
    ),
    "grasp": gesture_angles(
        (0.60, 0.65, 0.30, 0.25, 0.25),
        (0.85, 1.00, 0.55, 0.0),
        (0.90, 1.05, 0.60, 0.0),
        (0.95, 1.10, 0.60, 0.0),
        (1.00, 1.10, 0.60, 0.05),
    ),
    "claw": gesture_angles(
        (0.30, 0.40, 0.10, 0.30, 0.90),
        (-0.10, 1.30, 1.20, 0.10),
        (-0.10, 1.30, 1.20, 0.0),
        (-0.10, 1.30, 1.20, -0.10),
        (-0.10, 1.30, 1.20, -0.20),
    ),
    "ok": gesture_angles(
        (0.20, 0.20, 0.37, 0.20, 0.75),
        (0.75, 0.95, 0.55, 0.0),
        (0.15, 0.15, 0.10, 0.0),
        (0.20, 0.20, 0.10, -0.05),
        (0.25, 0.25, 0.10, -0.15),
    ),
    "thumbs_up": gesture_angles((0.0, 0.0, -0.2, 0.0, 0.0), _CURLED, _CURLED, _CURLED, _CURLED),
    "one": gesture_angles(_THUMB_OVER, (0.0, 0.0, 0.0, 0.0), _CURLED, _CURLED, _CURLED),
    "two": gesture_angles(
        _THUMB_OVER, (0.0, 0.0, 0.0, 0.12), (0.0, 0.0, 0.0, -0.1), _CURLED, _CURLED
    ),
    "three": gesture_angles(
        (0.6, 0.2, 0.85, 0.6, 0.5),
        (0.0, 0.0, 0.0, 0.1),
        (0.0, 0.0, 0.0, 0.0),
        (0.0, 0.0, 0.0, -0.1),
        _CURLED,
    ),
    "four": gesture_angles(
        (0.6, 0.2, 0.95, 0.55, 0.45),
        (0.0, 0.0, 0.0, 0.1),
        (0.0, 0.0, 0.0, 0.0),
        (0.0, 0.0, 0.0, -0.1),
        (0.0, 0.0, 0.0, -0.2),
    ),
    "five": gesture_angles(
        (-0.1, 0.3, -0.2, 0.0, 0.0),
        (0.0, 0.0, 0.0, 0.15),
        (0.0, 0.0, 0.0, 0.0),
        (0.0, 0.0, 0.0, -0.1),
        (0.0, 0.0, 0.0, -0.2),
    ),
}
"""Everyday hand shapes as joint angles ``(15, 3)``, all within :data:`JOINT_LIMITS`."""

RELAXED = "relaxed"  # the gesture the built-in model uses as hands_mean


def blend_angles(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Linear blend of two angle sets (``t = 0`` gives ``a``)."""
    t = np.asarray(t, dtype=np.float64)
    return (1.0 - t)[..., None, None] * a + t[..., None, None] * b


def sample_uniform_angles(
    rng: np.random.Generator, n: int, limits: np.ndarray = JOINT_LIMITS
) -> np.ndarray:
    """``n`` poses, each angle uniform within its limits: ``(n, 15, 3)``.

    Three couplings of real hands keep the poses plausible: the PIP and DIP flexions of a
    finger share a random part of their range; a flexed knuckle (MCP) cannot spread
    (its sideways range shrinks to a fifth at full flexion); and a thumb flexed across
    the palm is lifted off it (CMC spread at least ``0.6 flex - 0.2``).
    """
    u = rng.random((n, NUM_FINGER_JOINTS, 3))
    for chain in DIGIT_JOINTS.values():
        shared = rng.random(n)
        mix = 0.8 * rng.random(n)
        for joint in chain[1:]:
            u[:, joint - 1, 2] = (1.0 - mix) * u[:, joint - 1, 2] + mix * shared
    angles = limits[..., 0] + u * (limits[..., 1] - limits[..., 0])
    for digit, (mcp, _, _) in DIGIT_JOINTS.items():
        if digit == "thumb":
            lifted = np.maximum(angles[:, mcp - 1, 1], 0.6 * angles[:, mcp - 1, 2] - 0.2)
            angles[:, mcp - 1, 1] = lifted
        else:
            bent = np.clip(angles[:, mcp - 1, 2] / limits[mcp - 1, 2, 1], 0.0, 1.0)
            angles[:, mcp - 1, 1] *= 1.0 - 0.8 * bent
    return clip_to_limits(angles, limits)


def sample_gesture_angles(
    rng: np.random.Generator,
    n: int,
    gestures: Mapping[str, np.ndarray] | None = None,
    noise: float = 0.12,
    limits: np.ndarray = JOINT_LIMITS,
) -> np.ndarray:
    """``n`` poses near the gesture library: a random blend of two random gestures plus
    Gaussian noise (``noise`` radians, scaled down for the small twist and spread
    angles), clipped to the limits. ``(n, 15, 3)``."""
    library = np.stack(list((gestures or GESTURES).values()))
    a = library[rng.integers(len(library), size=n)]
    b = library[rng.integers(len(library), size=n)]
    t = rng.random(n)
    angles = blend_angles(a, b, t)
    scale = np.minimum(1.0, (limits[..., 1] - limits[..., 0]) / 1.5)
    angles = angles + rng.normal(size=angles.shape) * noise * scale
    return clip_to_limits(angles, limits)


def sample_angles(rng: np.random.Generator, n: int, uniform_fraction: float = 0.25) -> np.ndarray:
    """The default pose prior: a ``uniform_fraction`` of uniform random poses within the
    limits, the rest near everyday gestures. ``(n, 15, 3)``, always within limits."""
    uniform = rng.random(n) < uniform_fraction
    angles = sample_gesture_angles(rng, n)
    if uniform.any():
        angles[uniform] = sample_uniform_angles(rng, int(uniform.sum()))
    return angles


def random_global_orient(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` rotations uniform over SO(3), as axis-angle vectors ``(n, 3)``."""
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q[q[:, 0] < 0] *= -1  # w >= 0: angle in [0, pi]
    angle = 2.0 * np.arccos(np.clip(q[:, 0], -1.0, 1.0))
    sin_half = np.sqrt(np.maximum(1.0 - q[:, 0] ** 2, 0.0))
    axis = q[:, 1:] / np.maximum(sin_half, 1e-12)[:, None]
    return axis * angle[:, None]


def sample_pose(
    rng: np.random.Generator,
    n: int,
    space: PoseSpace,
    global_orient: bool = False,
    uniform_fraction: float = 0.25,
) -> np.ndarray:
    """``n`` layer poses ``(n, 48)`` from :func:`sample_angles` for the model of ``space``;
    global orientation zero, or uniform random with ``global_orient=True``."""
    angles = sample_angles(rng, n, uniform_fraction)
    orient = random_global_orient(rng, n) if global_orient else None
    return space.to_pose(angles, orient)
