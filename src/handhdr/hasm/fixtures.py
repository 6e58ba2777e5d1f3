"""Tiny segmentation datasets in the real InterHand2.6M + ``masks/`` layout, for tests.

:func:`make_mask_fixture` writes a fixture dataset with
:func:`handhdr.datasets.interhand_format.make_fixture_dataset` (its images show each
valid skeleton as coloured lines) and the four masks of every image as packed PNGs
(:mod:`handhdr.datasets.masks`): a hand's amodal mask is its skeleton drawn with
thick lines, the hand nearer the camera hides the other one where they overlap.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from handhdr.datasets.interhand import InterHandDataset
from handhdr.datasets.interhand_format import InterHandFixture, make_fixture_dataset
from handhdr.datasets.masks import mask_path, write_masks
from handhdr.joints import HAND_SLICES, INTERHAND42_PARENTS


def skeleton_masks(
    joints_img: np.ndarray,
    joints_cam: np.ndarray,
    joint_valid: np.ndarray,
    shape: tuple[int, int],
    thickness: int = 5,
) -> np.ndarray:
    """``(4, H, W)`` bool masks (MASK_NAMES order) of two skeletons drawn as thick lines."""
    amodal = {}
    depth = {}
    for side in ("right", "left"):
        canvas = np.zeros(shape, np.uint8)
        sl = HAND_SLICES[side]
        for child in range(sl.start, sl.stop):
            parent = INTERHAND42_PARENTS[child]
            if parent >= 0 and joint_valid[child] and joint_valid[parent]:
                a = tuple(int(round(v)) for v in joints_img[child])
                b = tuple(int(round(v)) for v in joints_img[parent])
                cv2.line(canvas, a, b, 1, thickness)
        amodal[side] = canvas.astype(bool)
        valid = joint_valid[sl]
        depth[side] = float(joints_cam[sl][valid, 2].mean()) if valid.any() else np.inf
    near, far = ("right", "left") if depth["right"] <= depth["left"] else ("left", "right")
    visible = {near: amodal[near], far: amodal[far] & ~amodal[near]}
    return np.stack([amodal["right"], visible["right"], amodal["left"], visible["left"]])


def make_mask_fixture(
    root: str | os.PathLike[str],
    split: str = "train",
    seed: int = 0,
    image_size: tuple[int, int] = (96, 64),
    num_captures: int = 2,
    num_cameras: int = 2,
    num_frames: int = 3,
) -> InterHandFixture:
    """Write a fixture dataset of ``split`` with masks; returns what was written."""
    fixture = make_fixture_dataset(
        root,
        split,
        seed,
        num_captures=num_captures,
        num_cameras=num_cameras,
        num_frames=num_frames,
        image_size=image_size,
        invalid_joint_rate=0.0,
    )
    reader = InterHandDataset(root, split, load_images=False, load_masks=False, load_hdr_gt=False)
    for i in range(len(reader)):
        sample = reader[i]
        shape = (int(sample.meta["height"]), int(sample.meta["width"]))
        masks = skeleton_masks(sample.joints_img, sample.joints_cam, sample.joint_valid, shape)
        write_masks(mask_path(Path(root), split, sample.file_name), masks)
    return fixture
