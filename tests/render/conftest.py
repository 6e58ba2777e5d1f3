"""Scenes for the renderer tests: the built-in hands posed and placed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from handhdr.hand import GESTURES, PoseSpace, load_hand_model
from handhdr.hand.layer import HandLayer
from handhdr.render.renderer import HandGeometry, PinholeCamera, Scene

SIZE = (96, 64)  # width, height
FOCAL = 110.0


def _frame(joints: np.ndarray, side: str) -> np.ndarray:
    """Columns: finger direction, thumb side, palm normal (out of the palm)."""
    forward = joints[11] - joints[20]
    forward /= np.linalg.norm(forward)
    thumb = joints[7] - joints[19]
    thumb -= (thumb @ forward) * forward
    thumb /= np.linalg.norm(thumb)
    normal = np.cross(thumb, forward) if side == "right" else np.cross(forward, thumb)
    return np.stack([forward, thumb, normal], axis=1)


def pose_hand(side: str, gesture: str, centre_mm, palm_to_camera: bool = True):
    """The built-in ``side`` hand in ``gesture``, fingers up in the image, palm (or back)
    towards the camera, its palm centre at ``centre_mm`` (camera frame)."""
    model = load_hand_model(side=side)
    angles = GESTURES[gesture][None]
    pose = PoseSpace.from_model(model).to_pose(angles)
    out = HandLayer(model)(torch.as_tensor(pose, dtype=torch.float32))
    v = out.vertices[0].double().numpy() * 1000.0
    j = out.joints[0].double().numpy() * 1000.0
    source = _frame(j, side)
    f, n = np.array([0.0, -1.0, 0.0]), np.array([0.0, 0.0, -1.0 if palm_to_camera else 1.0])
    t = np.cross(f, n) if side == "right" else np.cross(n, f)  # as _frame relates them
    rotation = np.stack([f, t, n], axis=1) @ source.T
    palm = j[[20, 7, 11, 15, 19]].mean(axis=0)
    shift = np.asarray(centre_mm, dtype=np.float64) - rotation @ palm
    return model, v @ rotation.T + shift, j @ rotation.T + shift


def make_camera(width: int = SIZE[0], height: int = SIZE[1]) -> PinholeCamera:
    k = np.array([[FOCAL, 0.0, (width - 1) / 2], [0.0, FOCAL, (height - 1) / 2], [0, 0, 1.0]])
    return PinholeCamera(k, width, height)


@pytest.fixture()
def camera() -> PinholeCamera:
    """The tests' tiny pinhole camera."""
    return make_camera()


@pytest.fixture(scope="session")
def two_hands() -> dict[str, HandGeometry]:
    """A right hand in front partly covering a left hand behind it."""
    hands = {}
    for side, gesture, centre in (
        ("right", "relaxed", (-12.0, 0.0, 420.0)),
        ("left", "spread", (18.0, 6.0, 470.0)),
    ):
        model, v, j = pose_hand(side, gesture, centre)
        hands[side] = HandGeometry.from_model(model, v, j)
    return hands


@pytest.fixture()
def two_hand_scene(two_hands) -> Scene:
    return Scene(make_camera(), [two_hands["right"], two_hands["left"]])
