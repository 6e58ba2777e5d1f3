"""Shared SHPE test data: tiny InterHand2.6M-format datasets written by the tests,
with packed amodal/visible masks in the real ``masks/`` layout, and tiny DetNets."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from handhdr.datasets.interhand import InterHandDataset
from handhdr.datasets.interhand_format import make_fixture_dataset
from handhdr.datasets.masks import mask_path, write_masks
from handhdr.joints import HAND_SLICES
from handhdr.pipeline.fixtures import tiny_detnet_config
from handhdr.shpe.detnet import DetNetConfig


def write_hull_masks(root: Path, split: str) -> None:
    """Write, for every image, each annotated hand's amodal (= visible) mask: the filled
    convex hull of its valid 2D joints, dilated by 3 pixels."""
    dataset = InterHandDataset(root, split, load_images=False, load_masks=False)
    for i in range(len(dataset)):
        sample = dataset[i]
        h, w = sample.meta["height"], sample.meta["width"]
        masks = np.zeros((4, h, w), bool)
        for k, hand in enumerate(("right", "left")):
            sl = HAND_SLICES[hand]
            valid = sample.joint_valid[sl]
            if sample.hand_type not in (hand, "interacting") or valid.sum() < 3:
                continue
            points = np.round(sample.joints_img[sl][valid]).astype(np.int32)
            plane = np.zeros((h, w), np.uint8)
            cv2.fillConvexPoly(plane, cv2.convexHull(points), 1)
            plane = cv2.dilate(plane, np.ones((7, 7), np.uint8))
            masks[2 * k] = masks[2 * k + 1] = plane.astype(bool)
        write_masks(mask_path(root, split, sample.file_name), masks)


def make_single_hand_dataset(
    root: Path, split: str = "test", seed: int = 3, masks: bool = True, **kwargs
) -> InterHandDataset:
    """A small single-hand (right and left) InterHand2.6M-format split, optionally with masks."""
    options = {"num_captures": 2, "num_cameras": 2, "num_frames": 3}
    options.update(kwargs)
    make_fixture_dataset(
        root, split, seed=seed, hand_types=("right", "left"), invalid_joint_rate=0.05,
        image_size=(160, 120), **options,
    )  # fmt: skip
    if masks:
        write_hull_masks(root, split)
    return InterHandDataset(root, split)


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread) -> None:
    """Every test here runs tiny networks on one torch thread (tests/conftest.py)."""


@pytest.fixture(scope="session")
def single_hand_dataset():
    """The :func:`make_single_hand_dataset` factory (conftest modules are not importable)."""
    return make_single_hand_dataset


@pytest.fixture(scope="session")
def sh_root(tmp_path_factory) -> Path:
    """Train, val and test splits of single hands, with masks."""
    root = tmp_path_factory.mktemp("shpe_ih")
    for seed, split in enumerate(("train", "val", "test")):
        make_single_hand_dataset(root, split, seed=10 + seed)
    return root


@pytest.fixture
def tiny_config() -> DetNetConfig:
    """A DetNet small enough for unit tests: 32 px input, 8 x 8 maps."""
    return tiny_detnet_config()
