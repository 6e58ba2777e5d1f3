"""Training views: rotation consistent in 2D and 3D, the centre view equals the plain
crop, colour jitter."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.camera import project
from handhdr.crop import CropBox, crop_image
from handhdr.shpe.augment import (
    AugmentConfig,
    centre_view,
    jitter_colour,
    random_view,
    rotate_joints_3d,
    view_matrix,
)


def test_rotation_rotates_2d_and_3d_consistently():
    """With the crop centred on the principal point, rotating the image about the crop
    centre equals projecting the 3D joints rotated about the optical axis (and, the
    rotation being linear, the wrist-relative joints of the rotated hand are the
    rotated wrist-relative joints)."""
    rng = np.random.default_rng(0)
    focal, size = np.array([500.0, 500.0]), 96
    princpt = np.array([(size - 1) / 2, (size - 1) / 2])
    joints = rng.normal(0, 30, (21, 3)) + [0.0, 0.0, 600.0]
    joints_2d = project(joints, focal, princpt)
    for angle in (-30.0, 17.0, 90.0):
        matrix = view_matrix(size, size, angle_deg=angle)
        rotated_2d = joints_2d @ matrix[:, :2].T + matrix[:, 2]
        rotated_3d = rotate_joints_3d(joints, matrix)
        np.testing.assert_allclose(project(rotated_3d, focal, princpt), rotated_2d, atol=1e-6)
        np.testing.assert_allclose(
            rotate_joints_3d(joints - joints[20], matrix), rotated_3d - rotated_3d[20], atol=1e-9
        )


def test_positive_angle_turns_counter_clockwise_on_screen():
    matrix = view_matrix(11, 11, angle_deg=90.0)
    right_of_centre = np.array([9.0, 5.0])  # 4 px right of the centre (5, 5)
    out = right_of_centre @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(out, [5.0, 1.0], atol=1e-9)  # now 4 px above it


def test_scale_zooms_out_and_keeps_3d():
    matrix = view_matrix(100, 50, scale=2.0)
    corner = np.array([0.0, 0.0]) @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(corner, [24.5 - 49.5 / 2, 24.5 - 49.5 / 2])
    joints = np.random.default_rng(1).normal(0, 10, (21, 3))
    np.testing.assert_allclose(rotate_joints_3d(joints, matrix), joints, atol=1e-12)


def test_centre_view_equals_the_plain_crop():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    box = CropBox((80.0, 60.0), 40.0, 32)
    context = CropBox(box.center, box.side * 1.5, 48)
    points = rng.uniform(40, 100, (21, 2))
    view, joints = centre_view(crop_image(image, context), context.to_crop(points), 32)
    np.testing.assert_array_equal(view, crop_image(image, box))
    np.testing.assert_allclose(joints, box.to_crop(points), atol=1e-9)


def test_random_view_and_colour_jitter():
    rng = np.random.default_rng(3)
    context = rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)
    joints_2d = rng.uniform(10, 38, (21, 2))
    joints_3d = rng.normal(0, 30, (21, 3))
    view, points, rotated = random_view(rng, context, joints_2d, joints_3d, 32, AugmentConfig())
    assert view.shape == (32, 32, 3) and view.dtype == np.uint8
    # the 3D rotation is a rotation about z: lengths and z are kept
    np.testing.assert_allclose(np.linalg.norm(rotated, axis=1), np.linalg.norm(joints_3d, axis=1))
    np.testing.assert_allclose(rotated[:, 2], joints_3d[:, 2])
    assert points.shape == (21, 2)
    off = AugmentConfig(brightness=0, contrast=0, saturation=0, channel_gain=0, noise_std=0)
    np.testing.assert_array_equal(jitter_colour(rng, context, off), context)
    darker = jitter_colour(np.random.default_rng(4), context, AugmentConfig(brightness=0.5,
        contrast=0, saturation=0, channel_gain=0, noise_std=0))  # fmt: skip
    assert darker.mean() != pytest.approx(context.mean(), abs=0.5)
