import numpy as np
import torch

from handhdr import camera as C


def _rotation(rng):
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def test_world_to_camera_matches_definition():
    rng = np.random.default_rng(0)
    R, campos = _rotation(rng), rng.normal(size=3) * 100
    X = rng.normal(size=(5, 3)) * 100
    expected = np.stack([R @ (x - campos) for x in X])
    np.testing.assert_allclose(C.world_to_camera(X, R, campos), expected, atol=1e-9)
    np.testing.assert_allclose(C.camera_to_world(expected, R, campos), X, atol=1e-9)


def test_projection_by_hand():
    X = np.array([[100.0, -50.0, 1000.0]])
    uv = C.project(X, np.array([1200.0, 1100.0]), np.array([256.0, 167.0]))
    np.testing.assert_allclose(uv, [[1200 * 0.1 + 256, 1100 * -0.05 + 167]])


def test_batched_torch_equals_numpy():
    rng = np.random.default_rng(1)
    R = np.stack([_rotation(rng) for _ in range(4)])
    campos = rng.normal(size=(4, 3))
    X = rng.normal(size=(4, 7, 3)) + np.array([0, 0, 5.0])
    f, c = rng.uniform(500, 1500, size=(4, 2)), rng.uniform(100, 300, size=(4, 2))
    cam_np = C.world_to_camera(X, R, campos)
    uv_np = C.project(cam_np, f, c)
    t = [torch.from_numpy(a) for a in (X, R, campos, f, c)]
    cam_t = C.world_to_camera(t[0], t[1], t[2])
    uv_t = C.project(cam_t, t[3], t[4])
    np.testing.assert_allclose(cam_t.numpy(), cam_np, atol=1e-10)
    np.testing.assert_allclose(uv_t.numpy(), uv_np, atol=1e-8)
    depth = cam_np[..., 2]
    np.testing.assert_allclose(C.backproject(uv_np, depth, f, c), cam_np, atol=1e-8)
    np.testing.assert_allclose(
        C.backproject(torch.from_numpy(uv_np), torch.from_numpy(depth), t[3], t[4]).numpy(),
        cam_np,
        atol=1e-8,
    )


def test_intrinsics_round_trip():
    K = C.intrinsics_matrix(np.array([1000.0, 990.0]), np.array([255.5, 166.5]))
    assert K.dtype == np.float32 and K[0, 0] == 1000 and K[1, 2] == 166.5 and K[2, 2] == 1
    f, c = C.focal_princpt(K)
    np.testing.assert_array_equal(f, [1000, 990])
    np.testing.assert_array_equal(c, [255.5, 166.5])
