"""The one sample schema that every dataset reader returns.

Every reader (InterHand2.6M, our synthetic sets, AIH_Syn, AIH_Render, Tzionas)
yields :class:`Sample` objects with these fields and conventions:

* ``image``: ``H x W x 3`` uint8 RGB (``None`` until loaded, see ``load_images``).
* ``masks``: ``(4, H, W)`` bool in :data:`MASK_NAMES` order -- right amodal, right
  visible, left amodal, left visible -- or ``None`` when the dataset has none.
  *Amodal* = the whole hand, hidden parts included; *visible* = what is seen.
* ``hdr_gt``: per hand (``"right"``/``"left"``) the de-occlusion/removal ground
  truth, the frame with only that hand, complete, on the background; only for the
  hands that have one.
* ``joints_cam``: ``(42, 3)`` float32, camera frame, millimetres; ``joints_img``:
  ``(42, 2)`` float32 pixels; ``joint_valid``: ``(42,)`` bool. Right hand 0-20,
  left hand 21-41, InterHand2.6M per-hand order (:mod:`handhdr.joints`).
* ``hand_type``: ``"right"``, ``"left"`` or ``"interacting"``.
* ``intrinsics``: 3x3 float32 ``K``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MASK_NAMES: tuple[str, str, str, str] = (
    "right_amodal",
    "right_visible",
    "left_amodal",
    "left_visible",
)
HAND_TYPES: tuple[str, str, str] = ("right", "left", "interacting")


@dataclass
class Sample:
    """One image of a two-hand dataset with everything we know about it."""

    file_name: str  # POSIX path relative to the dataset's image folder
    image_path: Path
    hand_type: str
    joints_cam: np.ndarray  # (42, 3) float32 mm
    joints_img: np.ndarray  # (42, 2) float32 px
    joint_valid: np.ndarray  # (42,) bool
    intrinsics: np.ndarray  # (3, 3) float32
    hand_type_valid: bool = True
    image: np.ndarray | None = None
    masks: np.ndarray | None = None
    hdr_gt: dict[str, np.ndarray] = field(default_factory=dict)
    bbox: np.ndarray | None = None  # (4,) x, y, w, h of the annotation box, pixels
    image_id: int | None = None
    capture: int | None = None
    camera: str | None = None
    frame_idx: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def mask(self, name: str) -> np.ndarray:
        """One mask by name (e.g. ``"left_visible"``)."""
        if self.masks is None:
            raise KeyError(f"{self.file_name}: this sample has no masks")
        return self.masks[MASK_NAMES.index(name)]

    def hand_valid(self, hand: str) -> bool:
        """Whether any joint of ``hand`` (``"right"``/``"left"``) is valid."""
        sl = slice(0, 21) if hand == "right" else slice(21, 42)
        return bool(self.joint_valid[sl].any())


@dataclass
class GroundTruthTable:
    """The annotations of a whole split as arrays (no images): what evaluation needs.

    Row ``i`` describes ``file_names[i]``. Arrays follow the :class:`Sample`
    conventions; ``hand_type`` holds ``"right"``, ``"left"`` or ``"interacting"``.
    """

    file_names: list[str]
    joints_cam: np.ndarray  # (N, 42, 3) float32 mm
    joints_img: np.ndarray  # (N, 42, 2) float32 px
    joint_valid: np.ndarray  # (N, 42) bool
    hand_type: np.ndarray  # (N,) str
    intrinsics: np.ndarray  # (N, 3, 3) float32

    def __len__(self) -> int:
        return len(self.file_names)

    def index(self) -> dict[str, int]:
        """Row of each file name."""
        return {name: i for i, name in enumerate(self.file_names)}
