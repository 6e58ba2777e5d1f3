"""Shading: light where normals face the lights, highlights at the mirror direction."""

from __future__ import annotations

import numpy as np

from handhdr.render.lighting import Light, Lighting, sample_lighting, shade


def _one_light(direction) -> Lighting:
    d = np.asarray(direction, np.float32)
    d /= np.linalg.norm(d)
    black = np.zeros(3, np.float32)
    return Lighting(black, black, (Light(d, np.ones(3, np.float32)),), 1.0)


def _columns(*vectors) -> np.ndarray:
    v = np.asarray(vectors, np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).T


def test_diffuse_follows_the_angle_to_the_light():
    lighting = _one_light([0, 0, -1])  # from the camera
    normals = _columns([0, 0, -1], [0, 1, -1], [1, 0, 0], [0, 0, 1])
    view = _columns(*[[0, 0, -1]] * 4)
    albedo = np.full((3, 4), 0.5, np.float32)
    out = shade(albedo, normals, view, lighting, specular=0.0, shininess=10.0)
    assert out.shape == (3, 4)
    assert out[1, 0] > out[1, 1] > out[1, 2] >= out[1, 3] >= 0
    # wrapped lighting: red reaches further around the terminator than blue
    assert out[0, 2] > out[2, 2]


def test_highlight_peaks_at_the_half_vector_and_occlusion_darkens():
    lighting = _one_light([1, 0, -1])
    view = _columns(*[[0, 0, -1]] * 3)
    half = np.array([1, 0, -2.414], np.float32)  # between light and view
    normals = _columns(half, [0, 0, -1], [-1, 0, -1])
    albedo = np.zeros((3, 3), np.float32)
    spec = shade(albedo, normals, view, lighting, specular=1.0, shininess=30.0)[1]
    assert spec[0] > spec[1] > spec[2] >= 0
    occluded = shade(albedo, normals, view, lighting, 1.0, 30.0, np.full(3, 0.5, np.float32))
    np.testing.assert_allclose(occluded[1], spec * 0.5, rtol=1e-5)


def test_sampled_lighting_lights_the_camera_side():
    for seed in range(20):
        lighting = sample_lighting(np.random.default_rng(seed))
        key = lighting.lights[0]
        assert key.direction[2] < 0 and abs(np.linalg.norm(key.direction) - 1) < 1e-5
        assert (lighting.sky >= 0).all() and 1 <= len(lighting.lights) <= 2
