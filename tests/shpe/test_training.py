"""SHPE training: a few steps lower eq. (5); validation measures."""

from __future__ import annotations

import numpy as np
import torch

from handhdr.shpe.config import loss_weights
from handhdr.shpe.detnet import DetNet
from handhdr.shpe.targets import map_to_crop
from handhdr.shpe.training import training_loss, validation_errors
from handhdr.training.config import load_config


def _batch(n: int = 4, size: int = 32):
    rng = np.random.default_rng(0)
    image = torch.from_numpy(rng.integers(0, 256, (n, 3, size, size), dtype=np.uint8))
    joints_2d = torch.from_numpy(rng.uniform(2, size - 3, (n, 21, 2))).float()
    joints_3d = torch.from_numpy(rng.normal(0, 40, (n, 21, 3))).float()
    return {
        "image": image,
        "joints_2d": joints_2d,
        "joints_3d": joints_3d,
        "valid": torch.ones(n, 21, dtype=torch.bool),
    }


def test_a_few_steps_lower_the_loss(tiny_config):
    torch.manual_seed(0)
    model = DetNet(tiny_config).train()
    weights = loss_weights(load_config("shpe", "lite"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch = _batch()
    losses = []
    for _ in range(10):
        loss, terms = training_loss(model, batch, weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert set(terms) == {"heatmap", "delta", "location", "l2"}
    assert losses[-1] < 0.8 * losses[0]


def test_validation_errors_of_a_perfect_readout(tiny_config):
    """A DetNet forced to output the targets has zero validation errors (up to the cell)."""
    model = DetNet(tiny_config).eval()
    batch = _batch(2)
    m, stride = tiny_config.map_size, tiny_config.stride
    cells = torch.tensor([[3.0, 5.0]]).expand(2, 21, 2)
    batch["joints_2d"] = map_to_crop(cells, stride)  # on cell centres: exact readout
    rooted = batch["joints_3d"] - batch["joints_3d"][:, 20:21]
    bone = torch.linalg.vector_norm(rooted[:, 11], dim=-1)
    model.reference_bone_mm.fill_(float(bone[0]))
    heat = torch.zeros(2, 21, m, m)
    heat[:, :, 5, 3] = 1.0
    location = (rooted / bone[:, None, None])[..., None, None].expand(2, 21, 3, m, m)
    model.forward = lambda images: (heat, torch.zeros_like(location), location)  # type: ignore[method-assign]
    sums = validation_errors(model, batch)
    mpjpe, count = sums["mpjpe"]
    assert count == 2 * 21 and float(mpjpe) < 1e-3
    assert float(sums["epe_2d"][0]) < 1e-4
    prior, _ = sums["mpjpe_prior_scale"]  # exact for the first hand, off for the second
    assert float(prior) > 0
