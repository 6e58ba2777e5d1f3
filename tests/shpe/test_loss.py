"""Equation (5): the terms, their weights, norms (not squared) and validity masks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from handhdr.shpe.loss import LossWeights, shpe_loss
from handhdr.shpe.targets import make_targets


def _batch(batch: int = 2, m: int = 8, stride: int = 4):
    rng = np.random.default_rng(0)
    joints_2d = torch.from_numpy(rng.uniform(0, m * stride - 1, (batch, 21, 2))).float()
    joints_3d = torch.from_numpy(rng.normal(0, 30, (batch, 21, 3))).float()
    valid = torch.ones(batch, 21, dtype=torch.bool)
    return make_targets(joints_2d, joints_3d, valid, m, stride)


def _perfect(t, m: int = 8):
    expand = (-1, -1, -1, m, m)
    return (
        t.heatmaps.clone(),
        t.delta[..., None, None].expand(*expand).clone(),
        t.location[..., None, None].expand(*expand).clone(),
    )


def test_perfect_prediction_costs_only_the_regulariser():
    t = _batch()
    weights = [torch.full((3, 3), 2.0)]
    total, terms = shpe_loss(_perfect(t), t, weights, LossWeights(l2=0.1))
    for name in ("heatmap", "delta", "location"):
        assert terms[name] < 1e-3
    assert terms["l2"] == pytest.approx(0.5 * 0.1 * 9 * 4.0)
    assert total == pytest.approx(float(terms["l2"]), abs=1e-2)


def test_terms_are_norms_weighted_as_the_reference():
    t = _batch()
    heat, delta, location = _perfect(t)
    heat = heat + 0.1  # every cell of every heatmap off by 0.1: norm 0.1 * 8
    location = location + 0.5  # off by 0.5 on each axis, gated by the target heatmap
    _, terms = shpe_loss((heat, delta, location), t, (), LossWeights(l2=0.0))
    assert terms["heatmap"] == pytest.approx(0.1 * 8, rel=1e-4)
    gate = torch.sqrt((t.heatmaps**2).sum(dim=(-2, -1)))  # ||H*_bj||_F
    expected_loc = (0.5 * math.sqrt(3) * gate).mean()
    assert terms["location"] == pytest.approx(float(expected_loc), rel=1e-4)
    total, _ = shpe_loss((heat, delta, location), t, (), LossWeights(l2=0.0))
    expected = terms["heatmap"] + terms["delta"] + 5 * terms["location"]
    assert total == pytest.approx(float(expected), rel=1e-5)
    # a norm, not a square: doubling the residual doubles the term
    _, doubled = shpe_loss((t.heatmaps + 0.2, delta, location), t, (), LossWeights(l2=0.0))
    assert doubled["heatmap"] == pytest.approx(2 * float(terms["heatmap"]), rel=1e-4)


def test_unannotated_joints_carry_no_loss():
    t = _batch()
    heat, delta, location = _perfect(t)
    heat[0, 7] += 5.0
    location[1, 9] += 5.0
    t.heatmap_weight[0, 7] = 0.0
    t.location_weight[1, 9] = 0.0
    _, terms = shpe_loss((heat, delta, location), t, (), LossWeights(l2=0.0))
    assert terms["heatmap"] < 1e-3 and terms["location"] < 1e-3


def test_gradients_are_finite_at_zero_residual():
    t = _batch()
    outputs = tuple(x.requires_grad_(True) for x in _perfect(t))
    total, _ = shpe_loss(outputs, t)
    total.backward()
    assert all(torch.isfinite(x.grad).all() for x in outputs)
