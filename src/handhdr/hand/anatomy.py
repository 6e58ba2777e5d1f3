"""Skeleton and skin shape of the built-in right hand, as an implicit surface.

Frame (MANO's rest frame for a right hand): metres, wrist joint at the origin, fingers
pointing along -x, the back of the hand towards +y (the palm faces -y), the thumb on
the +z side. The rest pose is a flat hand with slightly spread fingers, like MANO's
template. Proportions follow adult anthropometry (hand length, wrist to middle
fingertip, 18.4 cm; breadth at the knuckles 8.5 cm; phalanx lengths after published
bone measurements), rounded to the millimetre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handhdr.hand.sdf import (
    ellipsoid,
    flattened_tube,
    polygon_distance_2d,
    smooth_max,
    smooth_min,
)

DIGITS = ("thumb", "index", "middle", "ring", "pinky")
# MANO joint index of each digit's three joints (handhdr.joints.MANO_NAMES)
DIGIT_JOINTS = {
    "index": (1, 2, 3),
    "middle": (4, 5, 6),
    "pinky": (7, 8, 9),
    "ring": (10, 11, 12),
    "thumb": (13, 14, 15),
}
PART_NAMES = ("palm",) + DIGITS  # skin parts used to keep skinning weights on their digit


def direction(spread_deg: float, lift_deg: float) -> np.ndarray:
    """Unit vector pointing distally (-x), turned ``spread_deg`` towards the thumb side
    (+z) and ``lift_deg`` towards the back of the hand (+y)."""
    a, t = np.radians(spread_deg), np.radians(lift_deg)
    return np.array([-np.cos(a) * np.cos(t), np.sin(t), np.sin(a) * np.cos(t)])


@dataclass(frozen=True)
class Digit:
    """One digit: its joint centres, fingertip, and the tube that forms its skin."""

    name: str
    joints: np.ndarray  # (3, 3) MCP (CMC for the thumb), PIP (MCP), DIP (IP)
    tip: np.ndarray  # (3,) fingertip: the far end of the skin along the digit
    centres: np.ndarray  # (K, 3) tube centre line, from the base joint to before the tip
    radii: np.ndarray  # (K,) tube radius at each centre
    dorsal: np.ndarray  # (3,) unit vector towards the nail side
    dorsal_ratio: float
    palmar_ratio: float


def _chain(base: np.ndarray, segments: list[tuple[float, np.ndarray]]) -> np.ndarray:
    points = [base]
    for length, unit in segments:
        points.append(points[-1] + length * unit)
    return np.stack(points)


def _finger(
    name: str,
    mcp: tuple[float, float, float],
    lengths: tuple[float, float, float],
    spread: float,
    radii: tuple[float, float, float, float],
) -> Digit:
    """A long finger: straight, spread ``spread`` degrees, radii at MCP/PIP/DIP/pad."""
    unit = direction(spread, 0.0)
    points = _chain(np.array(mcp), [(length, unit) for length in lengths])
    r_mcp, r_pip, r_dip, r_pad = radii
    tip_centre = points[3] - r_pad * 0.92 * unit
    mid_pp = 0.5 * (points[0] + points[1])
    mid_mp = 0.5 * (points[1] + points[2])
    mid_dp = 0.55 * points[2] + 0.45 * tip_centre
    centres = np.stack([points[0], mid_pp, points[1], mid_mp, points[2], mid_dp, tip_centre])
    # knuckles (PIP, DIP) slightly wider than the shafts on either side
    tube = np.array(
        [
            r_mcp,
            0.5 * (r_mcp + r_pip) - 0.0006,
            r_pip,
            0.5 * (r_pip + r_dip) - 0.0005,
            r_dip,
            r_pad * 1.02,
            r_pad,
        ]
    )
    return Digit(
        name=name,
        joints=points[:3],
        tip=points[3],
        centres=centres,
        radii=tube,
        dorsal=np.array([0.0, 1.0, 0.0]),
        dorsal_ratio=0.80,
        palmar_ratio=0.92,
    )


def _thumb() -> Digit:
    cmc = np.array([-0.026, -0.011, 0.022])
    dirs = [direction(38.0, -8.0), direction(30.0, -3.0), direction(24.0, -1.0)]
    points = _chain(cmc, [(0.044, dirs[0]), (0.031, dirs[1]), (0.027, dirs[2])])
    r_pad = 0.0092
    tip_centre = points[3] - r_pad * 0.92 * dirs[2]
    centres = np.stack(
        [
            points[0],
            0.5 * (points[0] + points[1]),
            points[1],
            0.5 * (points[1] + points[2]),
            points[2],
            0.5 * (points[2] + tip_centre),
            tip_centre,
        ]
    )
    radii = np.array([0.0115, 0.0108, 0.0106, 0.0098, 0.0100, 0.0096, r_pad])
    # the thumb nail faces sideways: the palm's back direction turned 60 degrees
    # about the thumb towards its radial (outer) side
    axis = dirs[1]
    radial = np.cross(axis, np.array([0.0, 1.0, 0.0]))
    radial /= np.linalg.norm(radial)
    if radial[2] < 0:
        radial = -radial
    angle = np.radians(60.0)
    dorsal = np.cos(angle) * np.array([0.0, 1.0, 0.0]) + np.sin(angle) * radial
    return Digit(
        name="thumb",
        joints=points[:3],
        tip=points[3],
        centres=centres,
        radii=radii,
        dorsal=dorsal / np.linalg.norm(dorsal),
        dorsal_ratio=0.82,
        palmar_ratio=0.92,
    )


def right_hand_digits() -> dict[str, Digit]:
    """The five digits of the built-in right hand in its rest pose."""
    return {
        "thumb": _thumb(),
        "index": _finger(
            "index", (-0.086, -0.001, 0.022), (0.040, 0.024, 0.021), 5.0,
            (0.0096, 0.0088, 0.0079, 0.0074),
        ),
        "middle": _finger(
            "middle", (-0.089, 0.001, 0.001), (0.045, 0.028, 0.022), 0.0,
            (0.0098, 0.0090, 0.0081, 0.0076),
        ),
        "ring": _finger(
            "ring", (-0.085, -0.001, -0.019), (0.042, 0.027, 0.022), -7.0,
            (0.0092, 0.0085, 0.0076, 0.0071),
        ),
        "pinky": _finger(
            "pinky", (-0.077, -0.004, -0.036), (0.033, 0.020, 0.019), -16.0,
            (0.0080, 0.0073, 0.0067, 0.0063),
        ),
    }  # fmt: skip


WRIST = np.zeros(3)

# palm outline seen from the back of the hand (x, z), inset by PALM_ROUNDING
_PALM_OUTLINE = np.array(
    [
        [0.022, 0.016],
        [-0.012, 0.017],
        [-0.040, 0.024],
        [-0.078, 0.022],
        [-0.086, 0.014],
        [-0.089, 0.001],
        [-0.085, -0.017],
        [-0.077, -0.030],
        [-0.068, -0.034],
        [-0.035, -0.035],
        [-0.016, -0.023],
        [0.022, -0.018],
    ]
)
PALM_ROUNDING = 0.010


def _palm(points: np.ndarray) -> np.ndarray:
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    outline = polygon_distance_2d(points[:, [0, 2]], _PALM_OUTLINE) - PALM_ROUNDING
    toward_wrist = np.clip((x + 0.07) / 0.06, 0.0, 1.0)
    toward_wrist = toward_wrist * toward_wrist * (3.0 - 2.0 * toward_wrist)
    back = 0.0105 - (2.0 + 6.0 * toward_wrist) * z**2 + 0.0045 * toward_wrist
    hollow = 0.0025 * np.exp(-(((x + 0.045) / 0.022) ** 2) - (z / 0.016) ** 2)
    front = -0.0130 - 0.004 * toward_wrist + 4.0 * toward_wrist * z**2 + hollow
    slab = np.maximum(y - back, front - y)
    return smooth_max(outline, slab, 0.009)


def skin_components(points: np.ndarray) -> dict[str, np.ndarray]:
    """Signed distance of each skin part (palm with the wrist stub and pads, each digit)."""
    digits = right_hand_digits()
    palm = _palm(points)
    eye = np.eye(3)
    for name in ("index", "middle", "ring", "pinky"):
        mcp = digits[name].joints[0]
        size = 0.0088 if name in ("index", "middle") else 0.0080
        head = np.linalg.norm(points - (mcp + np.array([0.004, 0.0042, 0.0])), axis=1) - size
        palm = smooth_min(palm, head, 0.005)
    hypothenar = ellipsoid(points, np.array([-0.040, -0.006, -0.031]), eye, (0.030, 0.011, 0.012))
    palm = smooth_min(palm, hypothenar, 0.008)
    parts = {"palm": palm}
    for name, digit in digits.items():
        parts[name] = flattened_tube(
            points,
            digit.centres,
            digit.radii,
            digit.dorsal,
            digit.dorsal_ratio,
            digit.palmar_ratio,
            blend=0.002,
        )
    # thenar eminence: the muscle pad over the thumb metacarpal, part of the thumb
    thumb = digits["thumb"]
    axis0 = thumb.joints[1] - thumb.joints[0]
    axis0 /= np.linalg.norm(axis0)
    side = np.cross(axis0, np.array([0.0, 1.0, 0.0]))
    side /= np.linalg.norm(side)
    up = np.cross(side, axis0)
    centre = thumb.joints[0] + 0.42 * (thumb.joints[1] - thumb.joints[0]) - 0.006 * up
    centre -= 0.006 * side
    thenar = ellipsoid(points, centre, np.stack([axis0, up, side]), (0.026, 0.012, 0.016))
    parts["thumb"] = smooth_min(parts["thumb"], thenar, 0.008)
    return parts


# smooth-union width between the palm and each digit (wide for the thumb web)
DIGIT_BLEND = {"thumb": 0.013, "index": 0.006, "middle": 0.006, "ring": 0.006, "pinky": 0.006}


def hand_sdf(points: np.ndarray) -> np.ndarray:
    """Signed distance to the skin of the built-in right hand (negative inside)."""
    parts = skin_components(points)
    value = parts["palm"]
    for name in ("index", "middle", "ring", "pinky", "thumb"):
        value = smooth_min(value, parts[name], DIGIT_BLEND[name])
    return value


def nearest_part(points: np.ndarray) -> np.ndarray:
    """Index into :data:`PART_NAMES` of the skin part closest to each point."""
    parts = skin_components(points)
    return np.argmin(np.stack([parts[name] for name in PART_NAMES], axis=1), axis=1)
