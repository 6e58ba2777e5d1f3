"""Camera effects are the same on every image of a frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from handhdr.render.effects import (
    BLUR_SIGMA_RANGE,
    CameraEffects,
    apply_effects,
    blur_radius,
    footprint,
    sample_effects,
)


def _images():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    b = a.copy()
    b[10:20, 10:30] = 200  # differs from a in one region only
    return a, b


def test_no_effects_is_identity():
    a, b = _images()
    out = apply_effects([a, b], CameraEffects())
    np.testing.assert_array_equal(out[0], a)
    np.testing.assert_array_equal(out[1], b)


def test_effects_apply_identically():
    a, b = _images()
    flat = np.full((40, 60, 3), 128, np.uint8)
    noisy = CameraEffects(noise_sigma=5.0, noise_offset=(3, 9))
    out = apply_effects([flat, flat.copy()], noisy)
    np.testing.assert_array_equal(out[0], out[1])
    assert 3.5 < out[0].astype(float).std() < 6.5
    for effects in (
        CameraEffects(blur_sigma=1.0),
        CameraEffects(jpeg_quality=30),
        CameraEffects(noise_sigma=3.0, blur_sigma=0.7, jpeg_quality=50),
    ):
        x, y = apply_effects([a, b], effects)
        assert x.shape == a.shape and x.dtype == np.uint8 and not np.array_equal(x, a)
        # far from the region where the inputs differ, the outputs agree
        np.testing.assert_array_equal(x[32:, 40:], y[32:, 40:])
    blurred = apply_effects([a], CameraEffects(blur_sigma=1.5))[0]
    assert (
        np.abs(np.diff(blurred.astype(float), axis=1)).mean()
        < 0.5 * np.abs(np.diff(a.astype(float), axis=1)).mean()
    )


def test_noise_larger_than_the_tile_and_sampling():
    big = np.zeros((1100, 20, 3), np.uint8) + 100
    out = apply_effects([big], CameraEffects(noise_sigma=2.0, noise_offset=(500, 0)))[0]
    assert out.shape == big.shape and out.std() > 1
    effects = [sample_effects(np.random.default_rng(s)) for s in range(200)]
    assert any(e.jpeg_quality for e in effects) and any(e.blur_sigma for e in effects)
    assert any(e == CameraEffects(noise_offset=e.noise_offset) for e in effects)  # clean ones


@pytest.mark.parametrize(
    "effects",
    [
        CameraEffects(blur_sigma=BLUR_SIGMA_RANGE[1]),
        CameraEffects(jpeg_quality=35),
        CameraEffects(noise_sigma=4.0, blur_sigma=0.8, jpeg_quality=60),
        CameraEffects(noise_sigma=4.0),
    ],
)
def test_a_change_reaches_no_further_than_the_footprint(effects):
    rng = np.random.default_rng(4)
    reach = footprint(effects)
    for _ in range(40):
        a = rng.integers(0, 256, (72, 88, 3), dtype=np.uint8)
        b = a.copy()
        y, x = int(rng.integers(0, 72)), int(rng.integers(0, 88))
        b[y, x] = 255 - b[y, x]  # one pixel changed, anywhere on the block grid
        out_a, out_b = apply_effects([a, b], effects)
        rows, cols = np.nonzero((out_a != out_b).any(axis=2))
        assert rows.size
        assert np.maximum(abs(rows - y), abs(cols - x)).max() <= reach


def test_blur_radius_is_opencvs_own_kernel():
    image = np.random.default_rng(1).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    for sigma in np.linspace(*BLUR_SIGMA_RANGE, 21):
        effects = CameraEffects(blur_sigma=float(sigma))
        np.testing.assert_array_equal(
            apply_effects([image], effects)[0], cv2.GaussianBlur(image, (0, 0), float(sigma))
        )
        assert blur_radius(effects) <= 4 * sigma + 1
    assert blur_radius(CameraEffects()) == 0 and footprint(CameraEffects()) == 0
