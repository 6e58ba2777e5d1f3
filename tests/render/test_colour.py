"""Colour conversions against known values."""

from __future__ import annotations

import numpy as np

from handhdr.render.colour import lab_to_linear_rgb, linear_to_srgb, srgb_to_linear


def test_lab_white_grey_and_black():
    rgb = lab_to_linear_rgb(np.array([[100.0, 0, 0], [50.0, 0, 0], [0.0, 0, 0]]))
    np.testing.assert_allclose(rgb[0], 1.0, atol=1e-3)
    np.testing.assert_allclose(linear_to_srgb(rgb[1]), 119.0 / 255.0, atol=2e-3)  # sRGB 119
    np.testing.assert_allclose(rgb[2], 0.0, atol=1e-9)
    # positive a* is red, positive b* is yellow (more red+green than blue)
    red = lab_to_linear_rgb(np.array([50.0, 40.0, 0.0]))
    yellow = lab_to_linear_rgb(np.array([70.0, 0.0, 50.0]))
    assert red[0] > red[1] and yellow[2] < yellow[0]


def test_srgb_transfer_round_trip():
    x = np.linspace(0, 1, 101, dtype=np.float32)
    np.testing.assert_allclose(srgb_to_linear(linear_to_srgb(x)), x, atol=1e-5)
    assert linear_to_srgb(np.float32(0.5)) > 0.7  # encoded mid-grey is brighter
