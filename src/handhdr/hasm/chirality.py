"""Chirality cues: the two features whose parity is the side of a hand.

For a hand with 3D joints (camera space) and their image projections:

* *facing*: the palm normal, from the wrist, index MCP and pinky MCP (mirrored for a
  left hand so that it points out of the palm for both sides), points to the camera;
* *orientation*: the image triangle wrist -> index MCP -> pinky MCP turns clockwise
  (image y down).

A hand is a right hand exactly when ``facing XOR orientation`` (checked on every
training and validation hand of our data by ``experiments/chirality_probe.py``). A
horizontal mirror flips the orientation and the side but not the facing. The side is
thus the parity of two features, which gives a from-scratch network no first-order
gradient until it has both (docs/training.md, "The side of a hand is a parity"). HASM
can learn the two features as first-order, training-only targets (``loss.cue_weight``);
they are not part of the paper's method, and the head that predicts them is dropped
when the weights are exported.

Beside the two binary cues, the targets hold two image *directions* (unit vectors):
*forward*, wrist -> middle MCP, and *across*, pinky MCP -> index MCP. Their 2D cross
product is negative exactly when the orientation is 1, so they spell the orientation
out as a smooth layout a network can regress, which the binary cue is not: on the
probe of ``experiments/chirality_probe.py`` they let the side leave chance about
twice as early (docs/training.md, fifth round).
"""

from __future__ import annotations

import numpy as np

from handhdr.datasets.schema import Sample
from handhdr.joints import HAND_SLICES, HANDS, INTERHAND_NAMES, MIDDLE_MCP, WRIST

INDEX_MCP = INTERHAND_NAMES.index("index_1")
PINKY_MCP = INTERHAND_NAMES.index("pinky_1")
BINARY_CUES = ("facing", "orientation")  # 0/1: binary cross-entropy
DIRECTION_CUES = ("forward_x", "forward_y", "across_x", "across_y")  # unit vectors: MSE
CUE_NAMES = BINARY_CUES + DIRECTION_CUES
_PALM = (WRIST, INDEX_MCP, PINKY_MCP)
_MIRROR_NEGATES = [CUE_NAMES.index(name) for name in ("forward_x", "across_x")]


def facing_and_orientation(
    joints_cam: np.ndarray, joints_img: np.ndarray, left: bool
) -> tuple[int, int]:
    """``(facing, orientation)`` as 0/1 of one hand's 21 joints (camera mm, image px)."""
    w, i, p = (np.asarray(joints_cam[j], np.float64) for j in _PALM)
    normal = np.cross(i - w, p - w) * (-1.0 if left else 1.0)
    facing = int(normal @ (-w) > 0)
    a = np.asarray(joints_img[INDEX_MCP], np.float64) - joints_img[WRIST]
    b = np.asarray(joints_img[PINKY_MCP], np.float64) - joints_img[WRIST]
    return facing, int(a[0] * b[1] - a[1] * b[0] > 0)


def directions(joints_img: np.ndarray) -> np.ndarray:
    """``(4,)`` float32, DIRECTION_CUES: the image unit vectors wrist -> middle MCP and
    pinky MCP -> index MCP of one hand's 21 joints (a crop's scale and shift keep them)."""
    j = np.asarray(joints_img, np.float64)
    pair = (j[MIDDLE_MCP] - j[WRIST], j[INDEX_MCP] - j[PINKY_MCP])
    return np.concatenate([v / max(float(np.linalg.norm(v)), 1e-6) for v in pair]).astype(
        np.float32
    )


def sample_cues(sample: Sample) -> tuple[np.ndarray, np.ndarray]:
    """Cues of both hands: ``(2, 6)`` float32 (hand in HANDS order x CUE_NAMES) and
    ``(2,)`` bool, False for a hand whose wrist, index, middle or pinky MCP is not valid."""
    cues = np.zeros((len(HANDS), len(CUE_NAMES)), np.float32)
    known = np.zeros(len(HANDS), bool)
    for k, hand in enumerate(HANDS):
        sl = HAND_SLICES[hand]
        if not all(sample.joint_valid[sl][j] for j in (*_PALM, MIDDLE_MCP)):
            continue
        cues[k, : len(BINARY_CUES)] = facing_and_orientation(
            sample.joints_cam[sl], sample.joints_img[sl], left=hand == "left"
        )
        cues[k, len(BINARY_CUES) :] = directions(sample.joints_img[sl])
        known[k] = True
    return cues, known


def mirror_cues(cues: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cues of the horizontally mirrored image: the hands swap sides, the
    orientation flips and the directions' x components change sign; the facing does
    not change."""
    out = cues[::-1].copy()
    out[:, CUE_NAMES.index("orientation")] = 1.0 - out[:, CUE_NAMES.index("orientation")]
    out[:, _MIRROR_NEGATES] = -out[:, _MIRROR_NEGATES]
    return out, known[::-1].copy()
