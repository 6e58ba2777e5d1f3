import numpy as np
import pytest

from handhdr.camera import project, world_to_camera
from handhdr.synth.cameras import (
    VIEW_SPECS,
    body_to_camera,
    camera_rig,
    capture_of,
    look_at,
    place_in_view,
)


def test_look_at_puts_the_target_on_the_axis_and_up_upwards():
    eye, target = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 0.0])
    rot = look_at(eye, target, np.array([0.0, 1.0, 0.0]))
    np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rot) == pytest.approx(1.0)
    in_cam = rot @ (target - eye)
    np.testing.assert_allclose(in_cam[:2], 0.0, atol=1e-12)
    assert in_cam[2] > 0
    above = rot @ (target + [0.0, 0.1, 0.0] - eye)
    assert above[1] < 0  # world up is image up (camera y points down)


@pytest.mark.parametrize("view", sorted(VIEW_SPECS))
def test_rig_cameras_are_calibrated_and_look_at_the_origin(view):
    rig = camera_rig(3, 2, view, 512, 334)
    assert rig == camera_rig(3, 2, view, 512, 334)
    assert len({cam.name for cam in rig}) == VIEW_SPECS[view].rig_cameras
    assert camera_rig(3, 3, view, 512, 334)[0].campos.tolist() != rig[0].campos.tolist()
    for cam in rig:
        np.testing.assert_allclose(cam.rotation @ cam.rotation.T, np.eye(3), atol=1e-9)
        origin = world_to_camera(np.zeros((1, 3)), cam.rotation, cam.campos)
        uv = project(origin, cam.focal, cam.princpt)[0]
        assert origin[0, 2] > 0 and np.all(np.abs(uv - [256, 167]) < 40)


def test_capture_blocks():
    assert [capture_of(i) for i in (0, 999, 1000, 2500)] == [0, 0, 1, 2]


def test_views_put_the_camera_where_they_say():
    rng = np.random.default_rng(0)
    for _ in range(200):
        studio = body_to_camera(rng, "studio")
        # the camera sits along -z_cam from the scene: in body axes that is -row 2
        # body frame: x right, y up, z towards the person
        assert -studio[2] @ [0.0, 0.0, 1.0] < 0.5 + 1e-9  # never from behind the body
        ego = body_to_camera(rng, "ego")
        assert -ego[2] @ [0.0, 1.0, 0.0] > 0.4  # above the hands
        assert (ego @ [0.0, 0.0, -1.0])[1] < 0  # forward (away from the body) is image up
        third = body_to_camera(rng, "third")
        assert -third[2] @ [0.0, 0.0, -1.0] > 0.6  # in front of the person


@pytest.mark.parametrize("view", sorted(VIEW_SPECS))
def test_placement_keeps_the_scene_in_the_frame(view):
    rng = np.random.default_rng(1)
    width, height = 512, 334
    cam = camera_rig(0, 0, view, width, height)[0]
    for _ in range(50):
        points = rng.normal(0.0, 0.04, size=(200, 3))  # a hand-sized cloud, metres
        shift = place_in_view(rng, points, cam, view, width, height)
        low, high = VIEW_SPECS[view].distance_m
        assert low - 1e-9 <= shift[2] <= high * 2.1
        uv = project((points + shift)[None] * 1000, cam.focal, cam.princpt)[0]
        assert np.all(uv >= -1) and np.all(uv[:, 0] <= width + 1) and np.all(uv[:, 1] <= height + 1)
