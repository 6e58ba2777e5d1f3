"""The MediaPipe Hands adapter: landmark order, units, pixel convention, confidence;
the real MediaPipe only where the optional extra is installed."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from handhdr.joints import MEDIAPIPE_NAMES, WRIST, convert_joints, joint_names
from handhdr.shpe.interface import SingleHandEstimator
from handhdr.shpe.mediapipe_hands import MediaPipeEstimator, landmarks_to_pose


def _landmarks(rng: np.random.Generator):
    image = rng.uniform(0.2, 0.8, (21, 3))
    world = rng.normal(0, 0.03, (21, 3))  # metres, origin near the hand centre
    return image, world


def test_landmarks_map_to_interhand_order_in_mm_and_crop_pixels():
    rng = np.random.default_rng(0)
    image, world = _landmarks(rng)
    joints_2d, joints_3d, confidence = landmarks_to_pose(image, world, "Left", 0.9, 64)
    names = joint_names("interhand")
    for ours, name in enumerate(names):
        theirs = MEDIAPIPE_NAMES.index(name)
        np.testing.assert_allclose(joints_2d[ours], image[theirs, :2] * 64 - 0.5)
        np.testing.assert_allclose(
            joints_3d[ours], (world[theirs] - world[0]) * 1000.0, atol=1e-9
        )  # wrist-relative millimetres (MediaPipe's wrist is its landmark 0)
    assert names[WRIST] == "wrist" and np.abs(joints_3d[WRIST]).max() == 0
    np.testing.assert_allclose(
        convert_joints(joints_3d, "interhand", "mediapipe"), (world - world[0]) * 1000.0
    )
    assert confidence == pytest.approx(0.9)


def test_confidence_follows_mediapipes_mirrored_handedness():
    image, world = _landmarks(np.random.default_rng(1))
    # MediaPipe assumes a selfie image: our (unmirrored) right hand is its "Left"
    assert landmarks_to_pose(image, world, "Left", 0.8, 32)[2] == pytest.approx(0.8)
    assert landmarks_to_pose(image, world, "Right", 0.8, 32)[2] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="handedness"):
        landmarks_to_pose(image, world, "right", 0.8, 32)
    with pytest.raises(ValueError, match="21 landmarks"):
        landmarks_to_pose(image[:20], world, "Left", 0.8, 32)


class FakeHands:
    """Stands in for ``mediapipe.solutions.hands.Hands``: the structure of its results."""

    def __init__(self, detections):
        self.detections = list(detections)
        self.images = []

    def process(self, rgb):
        self.images.append(rgb)
        found = self.detections.pop(0)
        if found is None:
            return SimpleNamespace(
                multi_hand_landmarks=None, multi_hand_world_landmarks=None, multi_handedness=None
            )
        image, world, label, score = found

        def points(a):
            return SimpleNamespace(landmark=[SimpleNamespace(x=p[0], y=p[1], z=p[2]) for p in a])

        cls = SimpleNamespace(classification=[SimpleNamespace(label=label, score=score)])
        return SimpleNamespace(
            multi_hand_landmarks=[points(image)],
            multi_hand_world_landmarks=[points(world)],
            multi_handedness=[cls],
        )


def test_adapter_contract_with_a_stand_in_for_mediapipe():
    image, world = _landmarks(np.random.default_rng(2))
    fake = FakeHands([(image, world, "Left", 0.95), None])
    estimator = MediaPipeEstimator(input_size=48, hands=fake)
    assert isinstance(estimator, SingleHandEstimator)
    crops = np.random.default_rng(3).random((2, 3, 48, 48)).astype(np.float32)
    result = estimator(crops)
    assert fake.images[0].shape == (48, 48, 3) and fake.images[0].dtype == np.uint8
    expected_2d, expected_3d, _ = landmarks_to_pose(image, world, "Left", 0.95, 48)
    np.testing.assert_allclose(result.joints_2d[0], expected_2d, atol=1e-4)
    np.testing.assert_allclose(result.joints_3d[0], expected_3d, atol=1e-3)
    assert result.found.tolist() == [True, False]  # the second crop: no hand
    assert (result.joints_3d[1] == 0).all() and (result.joints_2d[1] == 23.5).all()


def test_without_the_extra_the_error_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_mediapipe(name, *args, **kwargs):
        if name == "mediapipe" or name.startswith("mediapipe."):
            raise ImportError("No module named 'mediapipe'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mediapipe)
    with pytest.raises(ImportError, match=r"handhdr\[mediapipe\]"):
        MediaPipeEstimator()


def test_real_mediapipe_returns_the_contract():
    pytest.importorskip("mediapipe")
    estimator = MediaPipeEstimator()
    try:
        result = estimator(np.zeros((1, 3, 256, 256), np.uint8))
    finally:
        estimator.close()
    assert result.joints_2d.shape == (1, 21, 2) and result.joints_3d.shape == (1, 21, 3)
    assert not result.found[0]  # a black crop has no hand
