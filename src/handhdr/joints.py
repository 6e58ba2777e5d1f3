"""Joint sets of the hand-pose world and the conversions between them.

Three per-hand orders meet in this project:

* ``interhand`` -- InterHand2.6M: thumb tip, thumb 3, thumb 2, thumb 1, then index,
  middle, ring and pinky the same way (tip first), then the wrist (index 20).
  Every file, metric and predictions line in handhdr uses this order.
* ``mano`` -- MANO's 16 kinematic joints (wrist, index 1-3, middle 1-3, pinky 1-3,
  ring 1-3, thumb 1-3) followed by our five fingertip vertices in the order
  thumb, index, middle, ring, pinky (21 joints).
* ``mediapipe`` -- MediaPipe Hands and MinimalHand: wrist, then thumb, index,
  middle, ring, pinky, each from base to tip.

Two-hand arrays have 42 joints: right hand 0-20 (wrist 20), left hand 21-41
(wrist 41), both in the InterHand2.6M order. Conversions happen at model boundaries
(hand model output, estimator adapters), never inside the dataset layer.
"""

from __future__ import annotations

from typing import Literal, TypeVar

import numpy as np

ArrayT = TypeVar("ArrayT")  # numpy array or torch tensor

JointSet = Literal["interhand", "mano", "mediapipe"]
HANDS: tuple[str, str] = ("right", "left")
NUM_HAND_JOINTS = 21
NUM_JOINTS = 42

FINGERS = ("thumb", "index", "middle", "ring", "pinky")

# --- InterHand2.6M per-hand order -------------------------------------------------
INTERHAND_NAMES: tuple[str, ...] = tuple(
    f"{finger}_{k}" for finger in FINGERS for k in (4, 3, 2, 1)
) + ("wrist",)
WRIST = 20
MIDDLE_MCP = 11  # "middle_1": the far end of the reference bone wrist -> middle MCP
# parent of each joint (wrist is the root, -1): joint k of a finger hangs on k-1.
INTERHAND_PARENTS: tuple[int, ...] = tuple((WRIST if i % 4 == 3 else i + 1) for i in range(20)) + (
    -1,
)

# --- the 42-joint two-hand layout ------------------------------------------------
HAND_SLICES: dict[str, slice] = {"right": slice(0, 21), "left": slice(21, 42)}
ROOT_INDEX: dict[str, int] = {"right": WRIST, "left": WRIST + 21}  # 20, 41
MIDDLE_MCP_INDEX: dict[str, int] = {"right": MIDDLE_MCP, "left": MIDDLE_MCP + 21}  # 11, 32
INTERHAND42_NAMES: tuple[str, ...] = tuple(f"r_{n}" for n in INTERHAND_NAMES) + tuple(
    f"l_{n}" for n in INTERHAND_NAMES
)
INTERHAND42_PARENTS: tuple[int, ...] = INTERHAND_PARENTS + tuple(
    (p + 21 if p >= 0 else -1) for p in INTERHAND_PARENTS
)

# --- MANO order ------------------------------------------------------------------
MANO_NAMES: tuple[str, ...] = (
    "wrist",
    "index_1", "index_2", "index_3",
    "middle_1", "middle_2", "middle_3",
    "pinky_1", "pinky_2", "pinky_3",
    "ring_1", "ring_2", "ring_3",
    "thumb_1", "thumb_2", "thumb_3",
    # fingertip vertices appended by the hand model, in this order:
    "thumb_4", "index_4", "middle_4", "ring_4", "pinky_4",
)  # fmt: skip
MANO_PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14)
NUM_MANO_JOINTS = 16

# --- MediaPipe / MinimalHand order ------------------------------------------------
MEDIAPIPE_NAMES: tuple[str, ...] = ("wrist",) + tuple(
    f"{finger}_{k}" for finger in FINGERS for k in (1, 2, 3, 4)
)

_NAMES: dict[str, tuple[str, ...]] = {
    "interhand": INTERHAND_NAMES,
    "mano": MANO_NAMES,
    "mediapipe": MEDIAPIPE_NAMES,
}


def joint_names(joint_set: JointSet) -> tuple[str, ...]:
    """Names of the 21 joints of one hand in ``joint_set`` order."""
    try:
        return _NAMES[joint_set]
    except KeyError:
        raise ValueError(
            f"unknown joint set {joint_set!r}; expected one of {sorted(_NAMES)}"
        ) from None


def conversion_index(src: JointSet, dst: JointSet) -> np.ndarray:
    """Index ``idx`` such that ``joints_dst = joints_src[..., idx, :]``."""
    src_names, dst_names = joint_names(src), joint_names(dst)
    position = {name: i for i, name in enumerate(src_names)}
    return np.array([position[name] for name in dst_names], dtype=np.int64)


def convert_joints(joints: ArrayT, src: JointSet, dst: JointSet) -> ArrayT:
    """Reorder per-hand joints (``(..., 21, D)``, numpy or torch) from ``src`` to ``dst``."""
    if joints.shape[-2] != NUM_HAND_JOINTS:  # type: ignore[attr-defined]
        raise ValueError(
            f"expected {NUM_HAND_JOINTS} joints on axis -2, got shape {tuple(joints.shape)}"  # type: ignore[attr-defined]
        )
    return joints[..., conversion_index(src, dst).tolist(), :]  # type: ignore[index]


def split_hands(joints42: ArrayT) -> tuple[ArrayT, ArrayT]:
    """``(..., 42, D)`` -> (right ``(..., 21, D)``, left ``(..., 21, D)``)."""
    if joints42.shape[-2] != NUM_JOINTS:  # type: ignore[attr-defined]
        raise ValueError(f"expected 42 joints on axis -2, got {tuple(joints42.shape)}")  # type: ignore[attr-defined]
    return joints42[..., :21, :], joints42[..., 21:, :]  # type: ignore[index]


def join_hands(right: np.ndarray, left: np.ndarray) -> np.ndarray:
    """Inverse of :func:`split_hands` for numpy arrays."""
    return np.concatenate([right, left], axis=-2)


def root_relative(joints: ArrayT, root: int = WRIST) -> ArrayT:
    """Subtract the root joint (default: the wrist of one hand) from ``(..., J, 3)``."""
    return joints - joints[..., root : root + 1, :]  # type: ignore[index,operator]


def mirror_x(joints: ArrayT) -> ArrayT:
    """Mirror joints through the x = 0 plane (left hand <-> right hand in 3D)."""
    sign = np.array([-1.0, 1.0, 1.0][: joints.shape[-1]], dtype=np.float32)  # type: ignore[attr-defined]
    if isinstance(joints, np.ndarray):
        return joints * sign.astype(joints.dtype)
    return joints * joints.new_tensor(sign)  # type: ignore[attr-defined]
