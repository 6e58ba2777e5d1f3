"""One hand of a sample as a right-hand crop, and the way back to the image.

Every estimator only sees right hands. A left hand's crop is mirrored horizontally
(:mod:`handhdr.crop`: ``CropBox(flip=True)``), its 2D joints follow the same mirror
(``CropBox.to_crop``) and its 3D joints are mirrored through the x = 0 plane of the
camera (:func:`handhdr.joints.mirror_x`), which turns a left hand into a right hand
seen by a mirrored camera. :func:`from_right_hand` undoes both.

Boxes: the square box of the hand's amodal mask, scaled by ``box_scale`` (2 in the
paper); without masks (or with an empty amodal mask) the box of its valid 2D joints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handhdr.crop import CropBox, box_from_joints, box_from_mask, crop_image
from handhdr.datasets.schema import Sample
from handhdr.joints import HAND_SLICES, HANDS, WRIST, mirror_x

BOX_SOURCES = ("amodal_mask", "joints")


@dataclass
class HandCrop:
    """A hand as a right hand: crop, its box in the image, joints in the crop."""

    image: np.ndarray  # (S, S, 3) uint8, mirrored for a left hand
    box: CropBox
    hand: str  # "right" or "left": the hand's true side
    joints_2d: np.ndarray  # (21, 2) float32, crop pixels
    joints_3d: np.ndarray  # (21, 3) float32, mm, wrist-relative, right-hand frame
    valid: np.ndarray  # (21,) bool
    box_source: str  # "amodal_mask" or "joints"


def _check_hand(hand: str) -> None:
    if hand not in HANDS:
        raise ValueError(f"hand must be 'right' or 'left', got {hand!r}")


def hand_box(
    sample: Sample, hand: str, resolution: int, box_scale: float = 2.0
) -> tuple[CropBox | None, str]:
    """The crop box of ``hand`` and where it came from (``amodal_mask`` or ``joints``).

    ``None`` when the hand has neither a non-empty amodal mask nor a valid 2D joint.
    """
    _check_hand(hand)
    flip = hand == "left"
    if sample.masks is not None:
        box = box_from_mask(sample.mask(f"{hand}_amodal"), resolution, box_scale, flip)
        if box is not None:
            return box, "amodal_mask"
    sl = HAND_SLICES[hand]
    box = box_from_joints(
        sample.joints_img[sl], resolution, box_scale, flip, valid=sample.joint_valid[sl]
    )
    return box, "joints"


def to_right_hand(
    joints_img: np.ndarray, joints_cam: np.ndarray, box: CropBox, hand: str
) -> tuple[np.ndarray, np.ndarray]:
    """A hand's image joints ``(21, 2)`` and camera joints ``(21, 3)`` -> crop pixels and
    wrist-relative millimetres of the right hand the crop shows."""
    _check_hand(hand)
    joints_2d = box.to_crop(np.asarray(joints_img, np.float64))
    rooted = np.asarray(joints_cam, np.float64) - np.asarray(joints_cam, np.float64)[WRIST]
    joints_3d = mirror_x(rooted) if hand == "left" else rooted
    return joints_2d.astype(np.float32), joints_3d.astype(np.float32)


def from_right_hand(
    joints_2d: np.ndarray, joints_3d: np.ndarray, box: CropBox, hand: str
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`to_right_hand` for predictions ``(..., 21, 2|3)``: crop pixels
    -> image pixels, right-hand frame -> the hand's own frame (wrist-relative mm)."""
    _check_hand(hand)
    image_2d = box.from_crop(np.asarray(joints_2d, np.float64))
    joints_3d = np.asarray(joints_3d, np.float64)
    own_3d = mirror_x(joints_3d) if hand == "left" else joints_3d
    return image_2d.astype(np.float32), own_3d.astype(np.float32)


def crop_hand(
    sample: Sample,
    hand: str,
    resolution: int,
    box_scale: float = 2.0,
    image: np.ndarray | None = None,
) -> HandCrop | None:
    """``hand`` of ``sample`` as a right-hand crop of ``resolution`` pixels (``None`` when
    the hand has no box). ``image`` defaults to ``sample.image``."""
    box, source = hand_box(sample, hand, resolution, box_scale)
    if box is None:
        return None
    picture = sample.image if image is None else image
    if picture is None:
        raise ValueError(f"{sample.image_path}: the sample's image is not loaded")
    sl = HAND_SLICES[hand]
    joints_2d, joints_3d = to_right_hand(sample.joints_img[sl], sample.joints_cam[sl], box, hand)
    return HandCrop(
        image=crop_image(picture, box),
        box=box,
        hand=hand,
        joints_2d=joints_2d,
        joints_3d=joints_3d,
        valid=np.asarray(sample.joint_valid[sl], dtype=bool).copy(),
        box_source=source,
    )


__all__ = [
    "BOX_SOURCES",
    "HandCrop",
    "crop_hand",
    "from_right_hand",
    "hand_box",
    "to_right_hand",
]
