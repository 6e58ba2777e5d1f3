"""Procedural value noise: deterministic, bounded, smooth, periodic."""

from __future__ import annotations

import numpy as np

from handhdr.render.noise import LATTICE, value_noise


def test_noise_is_a_smooth_bounded_function_of_position():
    rng = np.random.default_rng(0)
    p = rng.uniform(-50, 50, size=(4000, 3)).astype(np.float32)
    n = value_noise(p)
    assert n.dtype == np.float32 and n.shape == (4000,)
    np.testing.assert_array_equal(n, value_noise(p.copy()))
    assert -1.0 <= n.min() and n.max() <= 1.0 and n.std() > 0.2
    step = value_noise(p + np.float32(1e-3))
    assert np.abs(step - n).max() < 0.02  # continuous
    np.testing.assert_allclose(value_noise(p + LATTICE), n, atol=2e-4)  # periodic
    # lattice points take the lattice values: whole numbers away from each other differ
    assert np.unique(np.round(value_noise(np.arange(30.0)[:, None].repeat(3, 1)), 4)).size > 20
