"""DetNet behind the estimator interface: readout to millimetres, confidence, crops of
another size."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.joints import WRIST
from handhdr.shpe.estimator import DetNetEstimator, resize_crops


class FixedRunner:
    """A runner returning known readouts for any batch."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.uv = rng.uniform(0, 31, (21, 2)).astype(np.float32)
        self.units = rng.normal(0, 1, (21, 3)).astype(np.float32)
        self.peak = np.linspace(0.2, 1.0, 21, dtype=np.float32)
        self.shapes: list[tuple[int, ...]] = []

    def __call__(self, images):
        self.shapes.append(images.shape)
        b = len(images)
        tile = lambda a: np.repeat(a[None], b, axis=0)  # noqa: E731
        return tile(self.uv), tile(self.units), tile(self.peak)


def test_units_become_millimetres_with_the_prior_bone():
    runner = FixedRunner()
    estimator = DetNetEstimator(runner, input_size=32, reference_bone_mm=85.0, batch_size=2)
    result = estimator(np.zeros((5, 3, 32, 32), np.uint8))
    assert [s[0] for s in runner.shapes] == [2, 2, 1]  # batched
    expected = (runner.units - runner.units[WRIST]) * 85.0
    np.testing.assert_allclose(result.joints_3d, np.repeat(expected[None], 5, 0), rtol=1e-5)
    np.testing.assert_allclose(result.joints_2d[0], runner.uv, atol=1e-5)
    np.testing.assert_allclose(result.confidence, runner.peak.mean())
    assert "85.0 mm" in estimator.scale_rule


def test_crops_of_another_size_are_resized_and_2d_maps_back():
    runner = FixedRunner()
    estimator = DetNetEstimator(runner, input_size=32, reference_bone_mm=90.0)
    result = estimator(np.zeros((1, 3, 64, 64), np.float32))
    assert runner.shapes == [(1, 3, 32, 32)]
    np.testing.assert_allclose(result.joints_2d[0], (runner.uv + 0.5) * 2 - 0.5, rtol=1e-6)


def test_resize_keeps_pixel_centres():
    crops = np.zeros((1, 3, 16, 16), np.float32)
    crops[0, :, 4:8, 8:12] = 1.0  # a block centred at (u, v) = (9.5, 5.5)
    small = resize_crops(crops, 8)
    assert small.shape == (1, 3, 8, 8)
    rows, cols = np.nonzero(small[0, 0] > 0.99)
    assert (cols.mean(), rows.mean()) == pytest.approx(
        ((9.5 + 0.5) / 2 - 0.5, (5.5 + 0.5) / 2 - 0.5)
    )


def test_bad_prior_is_refused():
    with pytest.raises(ValueError, match="reference_bone_mm"):
        DetNetEstimator(FixedRunner(), 32, 0.0)
