"""The rasteriser against exact arithmetic: coverage, watertightness, depth, samples."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.render.mesh import uv_sphere
from handhdr.render.raster import SAMPLE_OFFSETS, SUBPIXEL_BITS, project_fixed, rasterize

W, H = 48, 32
F = 100.0  # focal length in pixels
K = np.array([[F, 0.0, 20.0], [0.0, F, 14.0], [0.0, 0.0, 1.0]])
ONE = 1 << SUBPIXEL_BITS


def _unproject(uv: np.ndarray, z: float) -> np.ndarray:
    """Pixel positions -> camera points at depth ``z`` (mm)."""
    uv = np.asarray(uv, dtype=np.float64)
    x = (uv[:, 0] - K[0, 2]) / F * z
    y = (uv[:, 1] - K[1, 2]) / F * z
    return np.stack([x, y, np.full(len(uv), z)], axis=1)


def _inside_exact(fixed: np.ndarray, px: int, py: int, du: int = 0, dv: int = 0) -> bool:
    """Brute force with Python integers: is the sample inside the snapped triangle?"""
    (x0, y0), (x1, y1), (x2, y2) = (tuple(int(c) for c in p) for p in fixed)
    sx, sy = px * ONE + du, py * ONE + dv
    area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    if area == 0:
        return False
    e = [
        (x2 - x1) * (sy - y1) - (y2 - y1) * (sx - x1),
        (x0 - x2) * (sy - y2) - (y0 - y2) * (sx - x2),
        (x1 - x0) * (sy - y0) - (y1 - y0) * (sx - x0),
    ]
    sign = 1 if area > 0 else -1
    return all(sign * v >= 0 for v in e)


@pytest.mark.parametrize("seed", range(6))
def test_triangle_coverage_is_exact(seed):
    rng = np.random.default_rng(seed)
    uv = rng.uniform([-5, -5], [W + 5, H + 5], size=(3, 2))
    verts = _unproject(uv, 200.0)
    for faces in (np.array([[0, 1, 2]]), np.array([[0, 2, 1]])):  # both windings
        frag = rasterize(verts, faces, K, W, H)
        fixed, _, _ = project_fixed(verts[faces[0]], K)
        expected = np.array(
            [[_inside_exact(fixed, i, j) for i in range(W)] for j in range(H)], dtype=bool
        )
        np.testing.assert_array_equal(frag.mask(), expected)
        # the sub-pixel sample count of every covered pixel, by brute force
        for pix, count in zip(frag.pixels, frag.samples, strict=True):
            j, i = divmod(int(pix), W)
            brute = sum(_inside_exact(fixed, i, j, du, dv) for du, dv in SAMPLE_OFFSETS[1:])
            assert count == brute


def test_back_faces_are_culled_only_when_asked():
    verts = _unproject([[5, 5], [30, 6], [12, 25]], 100.0)
    front = np.array([[0, 2, 1]])  # counter-clockwise seen from the camera: faces it
    back = front[:, ::-1]
    assert rasterize(verts, front, K, W, H, cull_back=True).pixels.size > 50
    assert rasterize(verts, back, K, W, H, cull_back=True).pixels.size == 0
    frag = rasterize(verts, back, K, W, H)
    assert frag.pixels.size > 50 and not frag.front.any()
    assert rasterize(verts, front, K, W, H).front.all()


def test_shared_edges_leave_no_gaps():
    # a fan around a centre; its rim a polygon whose pixel centres must all be covered
    rng = np.random.default_rng(3)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 9))
    centre = np.array([20.3, 14.7])
    rim = centre + np.stack([np.cos(angles) * 13, np.sin(angles) * 11], axis=1)
    verts = _unproject(np.concatenate([[centre], rim]), 150.0)
    faces = np.array([[0, 1 + k, 1 + (k + 1) % 9] for k in range(9)])
    mask = rasterize(verts, faces, K, W, H).mask()
    fixed, _, _ = project_fixed(verts, K)
    for j in range(H):
        for i in range(W):
            inside = any(_inside_exact(fixed[f], i, j) for f in faces)
            assert mask[j, i] == inside


def test_depth_of_a_plane_is_perspective_correct():
    # a tilted plane z = 300 + 2 x  (x in mm) seen through the camera
    uv = np.array([[-10, -10], [60, -10], [-10, 45], [60, 45]], dtype=np.float64)
    rays = np.stack([(uv[:, 0] - K[0, 2]) / F, (uv[:, 1] - K[1, 2]) / F], axis=1)
    z = 300.0 / (1.0 - 2.0 * rays[:, 0])  # z = 300 + 2 * (ray_x * z)
    verts = np.stack([rays[:, 0] * z, rays[:, 1] * z, z], axis=1)
    faces = np.array([[0, 2, 1], [1, 2, 3]])
    frag = rasterize(verts, faces, K, W, H)
    assert frag.pixels.size == W * H
    rows, cols = np.divmod(frag.pixels, W)
    ray_x = (cols - K[0, 2]) / F
    expected = 300.0 / (1.0 - 2.0 * ray_x)
    np.testing.assert_allclose(1.0 / frag.inv_depth, expected, rtol=1e-9)
    # barycentrics interpolate the corners to the point seen at the pixel centre
    corners = verts[faces[frag.faces]]  # (P, 3, 3)
    points = (frag.bary[:, :, None].astype(np.float64) * corners).sum(axis=1)
    np.testing.assert_allclose(points[:, 0] / points[:, 2] * F + K[0, 2], cols, atol=2e-3)
    np.testing.assert_allclose(points[:, 1] / points[:, 2] * F + K[1, 2], rows, atol=2e-3)
    np.testing.assert_allclose(frag.bary.sum(axis=1), 1.0, atol=1e-5)


def test_the_nearest_surface_wins():
    square = np.array([[5, 5], [30, 5], [5, 25], [30, 25]], dtype=np.float64)
    near = _unproject(square, 100.0)
    far = _unproject(square + 8, 200.0)
    verts = np.concatenate([far, near])
    faces = np.array([[0, 2, 1], [1, 2, 3], [4, 6, 5], [5, 6, 7]])
    frag = rasterize(verts, faces, K, W, H)
    near_only = rasterize(near, faces[:2], K, W, H)
    in_near = np.isin(frag.pixels, near_only.pixels)
    assert in_near.sum() == near_only.pixels.size
    assert (frag.faces[in_near] >= 2).all()  # the near square's faces
    np.testing.assert_allclose(1.0 / frag.inv_depth[in_near], 100.0)
    np.testing.assert_allclose(1.0 / frag.inv_depth[~in_near], 200.0)


def test_sub_pixel_samples_at_a_vertical_edge():
    # a wide rectangle whose right edge is at u = 10.2: pixel 10 has its centre and
    # the samples at -3/8 and -1/8 inside (9.625, 9.875, 10.0), those at +1/8 (10.125)
    # too, the one at +3/8 (10.375) outside
    uv = np.array([[-20, 2], [10.2, 2], [-20, 20], [10.2, 20]])
    verts = _unproject(uv, 100.0)
    frag = rasterize(verts, np.array([[0, 2, 1], [1, 2, 3]]), K, W, H)
    full = frag.full(frag.samples.astype(np.int64), fill=-1)
    assert (full[5:18, 0:10] == 4).all()
    assert (full[5:18, 10] == 3).all()
    assert (full[5:18, 11:] == -1).all()


@pytest.mark.parametrize("tilt", [0.0, 1.0, 1e-3])
def test_huge_triangles_cover_everything(tilt):
    # two triangles far larger than the image, with (nearly) horizontal edges
    uv = np.array([[-3000, -3000], [3000, -3000 + tilt], [-3000, 3000], [3000, 3000 + tilt]])
    frag = rasterize(_unproject(uv, 100.0), np.array([[0, 2, 1], [1, 2, 3]]), K, W, H)
    assert frag.pixels.size == W * H and (frag.samples == 4).all()


def test_near_plane_and_empty_input():
    verts = np.array([[0.0, 0.0, 100.0], [50.0, 0.0, 100.0], [0.0, 50.0, -5.0]])
    assert rasterize(verts, np.array([[0, 1, 2]]), K, W, H).pixels.size == 0
    assert rasterize(verts, np.zeros((0, 3), np.int64), K, W, H).pixels.size == 0


def test_sphere_area_depth_and_determinism():
    v, f = uv_sphere(30.0, 24, 48)
    verts = v + [0.0, 0.0, 400.0]
    frag = rasterize(verts, f, K, W, H, cull_back=True)
    again = rasterize(verts, f, K, W, H, cull_back=True)
    for name in ("pixels", "faces", "bary", "inv_depth", "front", "samples"):
        np.testing.assert_array_equal(getattr(frag, name), getattr(again, name))
    radius_px = F * 30.0 / np.sqrt(400.0**2 - 30.0**2)
    assert abs(frag.pixels.size - np.pi * radius_px**2) < 0.1 * np.pi * radius_px**2
    centre = int(round(K[1, 2])) * W + int(round(K[0, 2]))
    z_centre = 1.0 / frag.inv_depth[np.searchsorted(frag.pixels, centre)]
    assert abs(z_centre - 370.0) < 1.0  # the front of the sphere
