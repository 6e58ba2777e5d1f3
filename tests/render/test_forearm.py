"""Forearm stubs: closed, outward-facing tubes that continue the hand's wrist."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from handhdr.hand import load_hand_model
from handhdr.hand.layer import HandLayer
from handhdr.render.forearm import ForearmStyle, forearm_mesh, sample_forearm_style
from handhdr.render.mesh import face_normals, is_closed


@pytest.fixture(scope="module", params=["right", "left"])
def hand(request):
    model = load_hand_model(side=request.param)
    out = HandLayer(model)(torch.zeros(1, 48))
    v = out.vertices[0].double().numpy() * 1000.0
    j = out.joints[0].double().numpy() * 1000.0
    return request.param, v, j


def test_forearm_is_closed_outward_and_leaves_the_wrist(hand):
    side, v, j = hand
    style = dataclasses.replace(sample_forearm_style(np.random.default_rng(0)), flex_deg=0.0)
    arm = forearm_mesh(v, j, side, dataclasses.replace(style, deviation_deg=0.0))
    assert is_closed(arm.faces)
    fn = face_normals(arm.vertices, arm.faces)
    volume = (arm.vertices[arm.faces[:, 0]] * fn.T).sum() / 6.0
    assert volume > 0  # faces wind outwards
    direction = (j[20] - j[11]) / np.linalg.norm(j[20] - j[11])
    along = (arm.vertices - j[20]) @ direction
    hand_end = ((v - j[20]) @ direction).max()
    assert along.min() < hand_end < along.max()  # starts inside the hand, goes on
    assert along.max() > hand_end + style.length_mm - 1.0
    # its first ring lies inside the hand's cross-section there
    radial = np.linalg.norm(arm.vertices[:20] - j[20] - np.outer(along[:20], direction), axis=1)
    near = np.abs((v - j[20]) @ direction - along[0]) < 4.0
    hand_radial = np.linalg.norm(
        v[near] - j[20] - np.outer((v[near] - j[20]) @ direction, direction), axis=1
    )
    assert radial.max() < hand_radial.max() + 2.0


def test_sleeves_and_determinism(hand):
    side, v, j = hand
    style = ForearmStyle(200.0, 5.0, -3.0, 1.3, 60.0, np.array([0.1, 0.2, 0.3], np.float32))
    a, b = forearm_mesh(v, j, side, style), forearm_mesh(v, j, side, style)
    np.testing.assert_array_equal(a.vertices, b.vertices)
    assert 0 < a.sleeve.sum() < len(a.vertices)
    assert (a.rest_mm[a.sleeve, 0] > a.rest_mm[~a.sleeve, 0].min()).all()
    bare = forearm_mesh(v, j, side, dataclasses.replace(style, sleeve_from_mm=None))
    assert not bare.sleeve.any()
