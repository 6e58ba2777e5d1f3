"""Colour conversions against known values."""

from __future__ import annotations

import numpy as np

from handhdr.render.colour import lab_to_linear_rgb, linear_to_srgb


def test_lab_white_grey_and_black():
    rgb = lab_to_linear_rgb(np.array([[100.0, 0, 0], [50.0, 0, 0], [0.0, 0, 0]]))
    np.testing.assert_allclose(rgb[0], 1.0, atol=1e-3)
    np.testing.assert_allclose(linear_to_srgb(rgb[1]), 119.0 / 255.0, atol=2e-3)  # sRGB 119
    np.testing.assert_allclose(rgb[2], 0.0, atol=1e-9)
    # positive a* is red, positive b* is yellow (more red+green than blue)
    red = lab_to_linear_rgb(np.array([50.0, 40.0, 0.0]))
    yellow = lab_to_linear_rgb(np.array([70.0, 0.0, 50.0]))
    assert red[0] > red[1] and yellow[2] < yellow[0]


def test_srgb_transfer_function():
    x = np.array([-0.1, 0.0, 0.002, 0.0031308, 0.18, 0.5, 1.0, 1.5], dtype=np.float32)
    expected = [0.0, 0.0, 0.02584, 0.04045, 0.46135, 0.73536, 1.0, 1.0]  # clipped to [0, 1]
    np.testing.assert_allclose(linear_to_srgb(x), expected, atol=1e-4)
    assert (np.diff(linear_to_srgb(np.linspace(0, 1, 200))) > 0).all()
