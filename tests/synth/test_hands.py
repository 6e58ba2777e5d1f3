import numpy as np
import pytest
import torch

from handhdr.hand.pose import GESTURES
from handhdr.synth.hands import (
    HandKit,
    frame_from,
    matrix_to_rotvec,
    model_path,
    rotvec_to_matrix,
)


@pytest.fixture(scope="module")
def kit():
    return HandKit("builtin")


def test_rotvec_round_trip_including_near_pi():
    rng = np.random.default_rng(0)
    vectors = [rng.normal(size=3) for _ in range(20)]
    vectors += [np.array([np.pi - 1e-6, 0, 0]), np.array([0, 0, 1e-9]), np.zeros(3)]
    vectors += [np.array([0.0, 1.0, 1.0]) / np.sqrt(2) * np.pi]
    for v in vectors:
        m = rotvec_to_matrix(v)
        np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
        np.testing.assert_allclose(rotvec_to_matrix(matrix_to_rotvec(m)), m, atol=1e-8)


@pytest.mark.parametrize("side", ["right", "left"])
def test_palm_frame_points_out_of_the_palm(kit, side):
    fist = kit.articulate(side, GESTURES["fist"], np.zeros(kit.num_betas))
    forward, thumb, normal = fist.frame().T
    tips = fist.joints[[4, 8, 12, 16]] - fist.joints[[7, 11, 15, 19]]  # MCP -> curled tip
    assert np.all(tips @ normal > 0)  # fingers curl towards the palm
    assert (fist.joints[2] - fist.joints[11]) @ thumb > 0  # the thumb MCP is on the thumb side
    np.testing.assert_allclose(frame_from(forward, normal, side), fist.frame(), atol=1e-9)


def test_rigid_moves_keep_parameters_and_geometry_in_step(kit):
    rng = np.random.default_rng(1)
    hand = kit.articulate("left", GESTURES["pinch"], rng.normal(size=kit.num_betas))
    rotation = rotvec_to_matrix(rng.normal(size=3))
    moved = hand.moved(rotation, np.array([0.1, -0.2, 0.7])).shifted(np.array([0.0, 0.01, 0.0]))
    layer = kit.layers["left"]
    out = layer(
        torch.tensor(moved.pose[None], dtype=torch.float64),
        torch.tensor(moved.betas[None], dtype=torch.float64),
        torch.tensor(moved.transl[None], dtype=torch.float64),
    )
    np.testing.assert_allclose(out.joints[0].numpy(), moved.joints, atol=1e-5)
    np.testing.assert_allclose(out.vertices[0].numpy(), moved.vertices, atol=1e-5)


def test_mano_model_folder_is_resolved(tmp_path):
    assert model_path("builtin", "right") is None
    (tmp_path / "MANO_RIGHT.pkl").write_bytes(b"")
    (tmp_path / "MANO_LEFT.npz").write_bytes(b"")
    assert model_path(f"mano:{tmp_path}", "right") == tmp_path / "MANO_RIGHT.pkl"
    assert model_path(f"mano:{tmp_path}", "left") == tmp_path / "MANO_LEFT.npz"
    with pytest.raises(FileNotFoundError, match="MANO_RIGHT"):
        model_path(f"mano:{tmp_path / 'none'}", "right")
    with pytest.raises(ValueError, match="builtin"):
        model_path("smplx", "right")
