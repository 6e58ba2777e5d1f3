"""DetNet targets and readout: they invert each other; row/column order; delta and
location definitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from handhdr.joints import INTERHAND_PARENTS, MIDDLE_MCP, WRIST
from handhdr.shpe.targets import (
    crop_to_map,
    delta_targets,
    gaussian_heatmaps,
    heatmap_sigma,
    location_targets,
    make_targets,
    map_to_crop,
    readout,
)


def _random_hands(rng: np.random.Generator, batch: int, size: int):
    joints_2d = torch.from_numpy(rng.uniform(0, size - 1, (batch, 21, 2))).float()
    joints_3d = torch.from_numpy(rng.normal(0, 40, (batch, 21, 3))).float()
    return joints_2d, joints_3d


@pytest.mark.parametrize("size,stride", [(128, 4), (256, 4), (64, 2)])
def test_targets_and_readout_invert(size, stride):
    rng = np.random.default_rng(size + stride)
    joints_2d, joints_3d = _random_hands(rng, 4, size)
    valid = torch.ones(4, 21, dtype=torch.bool)
    m = size // stride
    t = make_targets(joints_2d, joints_3d, valid, m, stride)
    location_maps = t.location[..., None, None].expand(-1, -1, -1, m, m)
    uv, units, peak = readout(t.heatmaps, location_maps, stride)
    # 2D: the nearest cell centre, so within half a cell on each axis
    assert (uv - joints_2d).abs().max() <= stride / 2 + 1e-4
    # 3D: units x the ground-truth bone = the wrist-relative joints, exactly
    rooted = joints_3d - joints_3d[:, WRIST : WRIST + 1]
    bone = torch.linalg.vector_norm(rooted[:, MIDDLE_MCP], dim=-1)
    torch.testing.assert_close(units * bone[:, None, None], rooted, atol=1e-4, rtol=1e-5)
    assert (peak > 0.85).all()  # the peak cell is within half a cell of the centre


def test_readout_row_column_order():
    """A joint far right and near the top must come back as (u large, v small)."""
    joints_2d = torch.tensor([[[100.0, 10.0]] * 21])
    heat = gaussian_heatmaps(joints_2d, 32, 4)
    row, col = divmod(int(heat[0, 0].argmax()), 32)
    assert (row, col) == (2, 25)  # v = 10 -> row 2; u = 100 -> column 25
    uv, _, _ = readout(heat, torch.zeros(1, 21, 3, 32, 32), 4)
    assert uv[0, 0].tolist() == [4 * 25.5 - 0.5, 4 * 2.5 - 0.5]


def test_gaussian_width_and_cell_convention():
    assert heatmap_sigma(64) == 2.5 and heatmap_sigma(32) == 1.25
    sigma = heatmap_sigma(16)
    # a joint exactly on the centre of cell (row 5, col 7)
    uv = map_to_crop(torch.tensor([[[7.0, 5.0]]]), 4)
    heat = gaussian_heatmaps(uv, 16, 4)[0, 0]
    assert heat[5, 7] == pytest.approx(1.0)
    assert heat[5, 7 + 1] == pytest.approx(np.exp(-1 / (2 * sigma**2)))
    torch.testing.assert_close(crop_to_map(map_to_crop(uv, 4), 4), uv)


def test_delta_targets_are_unit_bones_and_wrist_is_zero():
    rng = np.random.default_rng(1)
    joints = torch.from_numpy(rng.normal(0, 30, (2, 21, 3))).float()
    delta = delta_targets(joints)
    assert delta[:, WRIST].abs().max() == 0
    for j, parent in enumerate(INTERHAND_PARENTS):
        if parent < 0:
            continue
        bone = joints[:, j] - joints[:, parent]
        torch.testing.assert_close(delta[:, j], bone / bone.norm(dim=-1, keepdim=True))


def test_location_targets_are_in_reference_bone_units():
    rng = np.random.default_rng(2)
    joints = torch.from_numpy(rng.normal(0, 30, (3, 21, 3))).float() + 500.0
    units = location_targets(joints)
    assert units[:, WRIST].abs().max() == 0
    bone = torch.linalg.vector_norm(units[:, MIDDLE_MCP] - units[:, WRIST], dim=-1)
    torch.testing.assert_close(bone, torch.ones(3))
    scale = torch.linalg.vector_norm(joints[:, MIDDLE_MCP] - joints[:, WRIST], dim=-1)
    torch.testing.assert_close(units * scale[:, None, None], joints - joints[:, WRIST : WRIST + 1])


def test_target_weights_follow_validity():
    rng = np.random.default_rng(3)
    joints_2d, joints_3d = _random_hands(rng, 3, 64)
    valid = torch.ones(3, 21, dtype=torch.bool)
    valid[0, 5] = False  # one joint
    valid[1, WRIST] = False  # the root: no location targets at all
    valid[2, MIDDLE_MCP] = False  # the reference bone's far end: no location targets
    t = make_targets(joints_2d, joints_3d, valid, 16, 4)
    assert t.heatmap_weight.tolist() == valid.float().tolist()
    assert t.location_weight[0].sum() == 20 and t.location_weight[0, 5] == 0
    assert t.location_weight[1].sum() == 0 and t.location_weight[2].sum() == 0
    # delta: joint and parent annotated, never the wrist
    assert t.delta_weight[:, WRIST].sum() == 0
    assert t.delta_weight[0, 5] == 0 and t.delta_weight[0, 4] == 0  # 4's parent is 5
    assert t.delta_weight[1, 3] == 0  # thumb 1 hangs on the (invalid) wrist
