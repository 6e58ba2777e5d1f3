"""Signed-distance primitives."""

import numpy as np
import pytest

from handhdr.hand.sdf import (
    ellipsoid,
    flattened_tube,
    polygon_distance_2d,
    smooth_max,
    smooth_min,
)


def test_smooth_min_rounds_only_near_the_seam():
    a = np.array([0.0, 0.0, 1.0])
    b = np.array([0.0, 5.0, -1.0])
    out = smooth_min(a, b, 0.5)
    assert out[0] == pytest.approx(-0.125)  # k / 4 below both at the seam
    np.testing.assert_allclose(out[1:], np.minimum(a, b)[1:])
    assert (out <= np.minimum(a, b)).all()
    np.testing.assert_allclose(smooth_min(a, b, 0.0), np.minimum(a, b))
    np.testing.assert_allclose(smooth_max(a, b, 0.5), -smooth_min(-a, -b, 0.5))


def test_polygon_distance_of_a_square():
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    points = np.array([[0.5, 0.5], [2.0, 0.5], [0.5, -0.25], [2.0, 2.0], [0.9, 0.5]])
    expected = [-0.5, 1.0, 0.25, np.sqrt(2.0), -0.1]
    np.testing.assert_allclose(polygon_distance_2d(points, square), expected, atol=1e-12)


def test_ellipsoid_surface_points():
    axes = np.eye(3)
    radii = (0.3, 0.2, 0.1)
    points = np.array([[0.3, 0, 0], [0, 0.2, 0], [0, 0, -0.1], [0, 0, 0], [0.6, 0, 0]])
    d = ellipsoid(points, np.zeros(3), axes, radii)
    np.testing.assert_allclose(d[:3], 0.0, atol=1e-12)
    assert d[3] < 0 and d[4] > 0


def test_flattened_tube_is_thinner_on_the_back_than_sideways():
    centres = np.array([[0.0, 0, 0], [1.0, 0, 0]])
    radii = np.array([0.2, 0.1])
    up = np.array([0.0, 1.0, 0.0])
    side = flattened_tube(np.array([[0.0, 0, 0.2]]), centres, radii, up, 0.5, 1.0, 0.0)
    back = flattened_tube(np.array([[0.0, 0.1, 0]]), centres, radii, up, 0.5, 1.0, 0.0)
    front = flattened_tube(np.array([[0.0, -0.2, 0]]), centres, radii, up, 0.5, 1.0, 0.0)
    taper = flattened_tube(np.array([[1.0, 0, 0.1]]), centres, radii, up, 0.5, 1.0, 0.0)
    np.testing.assert_allclose([side[0], back[0], front[0], taper[0]], 0.0, atol=1e-12)
