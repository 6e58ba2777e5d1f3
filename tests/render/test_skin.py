"""Skin tones, anatomical regions and per-vertex albedo."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from handhdr.hand import load_hand_model
from handhdr.render.colour import lab_to_linear_rgb
from handhdr.render.skin import (
    NUM_PATTERNS,
    hand_regions,
    noise_patterns,
    plain_regions,
    sample_skin,
    vertex_albedo,
)


def test_tones_span_the_human_range():
    skins = [sample_skin(np.random.default_rng(s)) for s in range(300)]
    lightness = np.array([s.dorsal_lab[0] for s in skins])
    ita = np.degrees(np.arctan2(lightness - 50.0, [s.dorsal_lab[2] for s in skins]))
    assert lightness.min() < 32 and lightness.max() > 72  # Fitzpatrick VI to I
    assert (ita < -30).mean() > 0.1 and (ita > 55).mean() > 0.05
    for s in skins:  # palms are lighter than the back of the hand, nails lighter still
        assert s.palm_lab[0] > s.dorsal_lab[0] and s.nail_lab[0] > s.palm_lab[0] - 1e-9
    dark = [s for s in skins if s.dorsal_lab[0] < 40]
    light = [s for s in skins if s.dorsal_lab[0] > 65]
    lift = [np.mean([s.palm_lab[0] - s.dorsal_lab[0] for s in group]) for group in (dark, light)]
    assert lift[0] > lift[1]  # darker skin: a larger palm contrast


@pytest.fixture(scope="module")
def model():
    return load_hand_model(side="right")


def _palm_normal(model) -> np.ndarray:
    rest = model.v_template.astype(np.float64)
    j = model.j_regressor @ rest
    lateral, distal = j[1] - j[7], j[4] - j[0]
    n = np.cross(lateral, distal)
    return n / np.linalg.norm(n)


@pytest.mark.parametrize("shipped", [True, False])
def test_regions_sit_where_the_anatomy_is(model, shipped):
    if not shipped:  # as for official MANO: every region derived from the template
        model = dataclasses.replace(model, regions=None, region_names=())
    regions = hand_regions(model)
    assert hand_regions(model) is regions  # cached per model
    rest = regions.rest_mm.astype(np.float64)
    tips = rest[model.tip_vertex_ids]
    wrist = (model.j_regressor @ rest)[0]
    nails = regions.nail > 0.5
    assert 20 < nails.sum() < 0.1 * len(rest)
    to_tip = np.linalg.norm(rest[nails][:, None] - tips[None], axis=2).min(axis=1)
    assert np.median(to_tip) < 15.0  # millimetres from a fingertip
    assert (np.linalg.norm(rest[nails] - wrist, axis=1) > 80).all()
    # palm and nails face opposite ways
    normal = _palm_normal(model)
    offsets = rest - rest.mean(axis=0)
    palm_side = (offsets[regions.palm > 0.8] @ normal).mean()
    nail_side = (offsets[nails] @ normal).mean()
    assert palm_side > nail_side
    for field in ("palm", "nail", "crease", "knuckle", "pad"):
        values = getattr(regions, field)
        assert values.shape == (len(rest),) and 0 <= values.min() and values.max() <= 1
        assert values.max() > 0.5
    assert regions.patterns.shape == (2 * NUM_PATTERNS, len(rest))


def test_mirrored_model_gets_mirrored_regions(model):
    left = load_hand_model(side="left")
    right_regions, left_regions = hand_regions(model), hand_regions(left)
    np.testing.assert_allclose(left_regions.nail, right_regions.nail, atol=1e-5)
    np.testing.assert_allclose(left_regions.palm, right_regions.palm, atol=1e-5)


def test_albedo_follows_the_skin_and_is_glued_to_the_template(model):
    regions = hand_regions(model)
    skins = [sample_skin(np.random.default_rng(s)) for s in range(40)]
    darkest = min(skins, key=lambda s: s.dorsal_lab[0])
    lightest = max(skins, key=lambda s: s.dorsal_lab[0])
    dark, light = vertex_albedo(darkest, regions), vertex_albedo(lightest, regions)
    assert dark.shape == (len(regions.rest_mm), 3) and dark.dtype == np.float32
    assert 0 <= dark.min() and light.max() <= 1
    assert dark.mean() < 0.5 * light.mean()
    back = (regions.palm < 0.1) & (regions.nail < 0.1) & (regions.knuckle < 0.1)
    expected = lab_to_linear_rgb(darkest.dorsal_lab)
    np.testing.assert_allclose(np.median(dark[back], axis=0), expected, rtol=0.15)
    # the same skin on the same template gives the same texture, vertex by vertex
    np.testing.assert_array_equal(dark, vertex_albedo(darkest, regions))
    other = dataclasses.replace(
        darkest, patterns=((darkest.patterns[0] + 1) % NUM_PATTERNS,) + darkest.patterns[1:]
    )
    assert not np.array_equal(dark, vertex_albedo(other, regions))


def test_plain_meshes_and_patterns():
    rest = np.random.default_rng(1).uniform(0, 100, (200, 3)).astype(np.float32)
    regions = plain_regions(rest)
    assert regions.patterns is None and not regions.nail.any()
    skin = sample_skin(np.random.default_rng(2))
    albedo = vertex_albedo(skin, regions)
    assert albedo.shape == (200, 3) and albedo.std(axis=0).max() > 0
    all_patterns = noise_patterns(rest)
    np.testing.assert_allclose(noise_patterns(rest, (3, 20)), all_patterns[[3, 20]], atol=1e-6)
    assert 0.7 < all_patterns.std() < 1.3
