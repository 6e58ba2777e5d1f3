"""Shared pipeline test parts: tiny random-weight stage files, a HASM stand-in that
returns chosen masks, and spies that record what HDRM and SHPE were given."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from handhdr.hasm.inference import Segmentation
from handhdr.hasm.windows import Window
from handhdr.hdrm.weights import HDRM
from handhdr.pipeline.fixtures import write_tiny_weights
from handhdr.shpe.interface import HandPoseResult

H, W = 96, 128


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread) -> None:
    """Every test here runs tiny networks on one torch thread (tests/conftest.py)."""


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> dict[str, Path]:
    """Tiny HASM (forced to find both hands), HDRNet (+ a no_transformer variant), DetNet."""
    folder = tmp_path_factory.mktemp("tiny_weights")
    return write_tiny_weights(folder, seed=0, variants=("no_transformer",))


def ellipse(centre: tuple[int, int], axes: tuple[int, int], shape=(H, W)) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.ellipse(mask, centre, axes, 0.0, 0, 360, 1, -1)
    return mask.astype(bool)


def two_hand_masks(hands=("right", "left"), shape=(H, W)) -> np.ndarray:
    """Overlapping right (on top) and left blobs; masks of hands not asked for are empty."""
    right = ellipse((52, 48), (18, 26), shape)
    left = ellipse((76, 48), (18, 26), shape)
    masks = np.zeros((4, *shape), bool)
    if "right" in hands:
        masks[0] = masks[1] = right
    if "left" in hands:
        masks[2] = left
        masks[3] = left & ~masks[0]
    return masks


class FakeHASM:
    """Returns fixed masks for every image and counts its calls."""

    def __init__(self, masks: np.ndarray) -> None:
        self.masks = masks
        self.calls: list[dict | None] = []

    def segment(self, image, boxes=None) -> Segmentation:
        self.calls.append(None if boxes is None else dict(boxes))
        masks = self.masks[:, : image.shape[0], : image.shape[1]]
        logits = np.where(masks, 3.0, -3.0).astype(np.float32)
        region = Window(0.0, 0.0, float(max(image.shape[:2]))) if masks.any() else None
        return Segmentation(masks=masks.copy(), logits=logits, region=region)


class SpyHDRM:
    """A real HDRM that records every call (images, masks, switches)."""

    def __init__(self, inner: HDRM) -> None:
        self.inner = inner
        self.resolution = inner.resolution
        self.crop = inner.crop
        self.calls: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def __call__(self, images, masks, switches=None):
        self.calls.append((images.copy(), masks.copy(), np.asarray(switches).copy()))
        return self.inner(images, masks, switches)


class FixedPose:
    """An estimator that answers every crop with the same known joints and counts crops."""

    name, scale_rule = "fixed", "fixed"

    def __init__(self, input_size: int = 32, confidence: float = 0.8) -> None:
        self.input_size = input_size
        self.confidence = confidence
        rng = np.random.default_rng(5)
        self.joints_2d = rng.uniform(0, input_size - 1, (21, 2)).astype(np.float32)
        self.joints_3d = rng.normal(0, 30, (21, 3)).astype(np.float32)
        self.joints_3d -= self.joints_3d[20]
        self.crops: list[np.ndarray] = []

    def __call__(self, crops) -> HandPoseResult:
        crops = np.asarray(crops)
        self.crops.extend(crops)
        b, size = len(crops), crops.shape[-1]
        scale = size / self.input_size
        return HandPoseResult(
            np.repeat(self.joints_2d[None] * scale, b, 0),
            np.repeat(self.joints_3d[None], b, 0),
            np.full(b, self.confidence),
        )


@pytest.fixture
def scene_image() -> np.ndarray:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    return cv2.GaussianBlur(image, (5, 5), 0)


# conftest modules are not importable (importlib mode): hand the helpers out as fixtures
@pytest.fixture
def fake_hasm():
    return FakeHASM


@pytest.fixture
def spy_hdrm():
    return SpyHDRM


@pytest.fixture
def fixed_pose():
    return FixedPose


@pytest.fixture
def masks_for():
    return two_hand_masks
