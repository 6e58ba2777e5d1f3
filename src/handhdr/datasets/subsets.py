"""InterHand2.6M validity and subset rules, shared by the readers and the evaluation.

* A joint counts only if it is valid *and* the root (wrist) of its hand is valid,
  because every metric is computed after aligning each hand on its own wrist.
* SH / IH split images by the ground-truth ``hand_type``: ``right``/``left`` are
  single-hand (SH), ``interacting`` is IH.
* IH26M-Inter (HDR paper): the IH images with more than 30 valid 3D joints, counted
  after the root rule.
"""

from __future__ import annotations

import numpy as np

from handhdr.joints import ROOT_INDEX

INTER_MIN_VALID_JOINTS = 30  # strictly more than this many valid joints
SUBSETS: tuple[str, ...] = ("ALL", "SH", "IH", "Inter")


def root_validated(joint_valid: np.ndarray) -> np.ndarray:
    """``(..., 42)`` validity with each hand's joints multiplied by its root's validity."""
    valid = np.asarray(joint_valid).astype(bool).copy()
    for hand, root in ROOT_INDEX.items():
        sl = slice(0, 21) if hand == "right" else slice(21, 42)
        valid[..., sl] &= valid[..., root : root + 1]
    return valid


def subset_mask(subset: str, hand_type: np.ndarray, joint_valid: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: which images belong to ``subset`` (ALL, SH, IH or Inter)."""
    hand_type = np.asarray(hand_type)
    if subset == "ALL":
        return np.ones(hand_type.shape[0], dtype=bool)
    if subset == "SH":
        return np.isin(hand_type, ("right", "left"))
    interacting = hand_type == "interacting"
    if subset == "IH":
        return interacting
    if subset == "Inter":
        counts = root_validated(joint_valid).sum(axis=-1)
        return interacting & (counts > INTER_MIN_VALID_JOINTS)
    raise ValueError(f"unknown subset {subset!r}; expected one of {SUBSETS}")
