"""A tiny HDRM dataset in the real InterHand2.6M layout with ``masks/`` and ``hdr_gt/``.

:func:`write_hdr_dataset` writes an annotation set with
:func:`handhdr.datasets.interhand_format.make_fixture_dataset` (interacting frames
only) and replaces each image by a background with two overlapping textured blobs,
one per hand, the nearer on top; the four masks and both hands' de-occlusion/removal
ground truth are exact. For tests and quick trials of training and ``eval-hdr``.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from handhdr.datasets.interhand import InterHandDataset
from handhdr.datasets.interhand_format import make_fixture_dataset
from handhdr.datasets.masks import hdr_gt_path, mask_path, write_masks
from handhdr.io import write_image


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    base = rng.uniform(40, 200, size=3)
    tilt = rng.uniform(-0.8, 0.8, size=(3, 2))
    bg = base + xs[..., None] * tilt[:, 0] + ys[..., None] * tilt[:, 1]
    bg += 10 * np.sin(xs / rng.uniform(4, 9))[..., None]
    return np.clip(bg, 0, 255).astype(np.uint8)


def _hand_layer(
    rng: np.random.Generator, h: int, w: int, centre: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """A textured ellipse standing in for a hand: (mask, colour image)."""
    mask = np.zeros((h, w), np.uint8)
    axes = (int(rng.integers(w // 8, w // 5)), int(rng.integers(h // 6, h // 4)))
    cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    ys, xs = np.mgrid[0:h, 0:w]
    colour = rng.uniform(60, 230, size=3)
    stripes = 25 * np.sin((xs + ys) / rng.uniform(2, 5))
    layer = np.clip(colour + stripes[..., None], 0, 255).astype(np.uint8)
    return mask.astype(bool), layer


def write_hdr_dataset(
    root: str | os.PathLike[str],
    split: str = "train",
    seed: int = 0,
    num_frames: int = 3,
    size: tuple[int, int] = (96, 72),
) -> InterHandDataset:
    """An interacting-hand dataset in the real InterHand2.6M layout with ``masks/`` and
    ``hdr_gt/``, ``num_frames`` frames seen by two cameras; ``size`` = (width, height)."""
    root = Path(root)
    make_fixture_dataset(
        root,
        split,
        seed,
        num_captures=1,
        num_cameras=2,
        num_frames=num_frames,
        image_size=size,
        hand_types=("interacting",),
        invalid_joint_rate=0.0,
    )
    reader = InterHandDataset(root, split, load_images=False, load_masks=False, load_hdr_gt=False)
    rng = np.random.default_rng(seed)
    w, h = size
    for i in range(len(reader)):
        sample = reader[i]
        bg = _background(rng, h, w)
        cy = int(rng.integers(h // 3, 2 * h // 3))
        cx = int(rng.integers(w // 3, 2 * w // 3))
        right_mask, right_layer = _hand_layer(rng, h, w, (cx - int(rng.integers(3, 10)), cy))
        left_mask, left_layer = _hand_layer(rng, h, w, (cx + int(rng.integers(3, 10)), cy))
        right_on_top = bool(rng.random() < 0.5)
        gt = {
            "right": np.where(right_mask[..., None], right_layer, bg),
            "left": np.where(left_mask[..., None], left_layer, bg),
        }
        if right_on_top:
            image = np.where(right_mask[..., None], right_layer, gt["left"])
            visible = (right_mask, left_mask & ~right_mask)
        else:
            image = np.where(left_mask[..., None], left_layer, gt["right"])
            visible = (right_mask & ~left_mask, left_mask)
        masks = np.stack([right_mask, visible[0], left_mask, visible[1]])
        write_image(root / "images" / split / sample.file_name, image, jpeg_quality=95)
        write_masks(mask_path(root, split, sample.file_name), masks)
        for hand in ("right", "left"):
            write_image(hdr_gt_path(root, split, sample.file_name, hand), gt[hand])
    return InterHandDataset(root, split, load_hdr_gt=True)
