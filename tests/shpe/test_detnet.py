"""DetNet architecture: the truncated, dilated ResNet-50 of the paper config, outputs,
coordinate channels, config round trip."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from handhdr.shpe.config import model_config
from handhdr.shpe.detnet import (
    Bottleneck,
    DetNet,
    DetNetConfig,
    Subsample,
    coordinate_grid,
    regularized_parameters,
)
from handhdr.training.config import load_config


def test_paper_trunk_is_resnet50_up_to_conv4():
    cfg = model_config(load_config("shpe", "paper"))
    assert cfg.input_size == 256 and cfg.stride == 4 and cfg.map_size == 64
    model = DetNet(cfg)
    stem_and_trunk = sum(p.numel() for p in [*model.stem.parameters(), *model.trunk.parameters()])
    # torchvision's ResNet-50 conv1 + bn1 + layer1..layer3 (the same convolutions and BNs)
    assert stem_and_trunk == 8_543_296
    units = list(model.trunk)
    assert [u.body[1].stride[0] for u in units[:3]] == [1, 1, 2]  # block1: last unit /2
    assert {u.body[1].dilation[0] for u in units[3:7]} == {2}
    assert {u.body[1].dilation[0] for u in units[7:]} == {4}
    assert len(units) == 13
    assert not any(isinstance(m, nn.MaxPool2d) for m in model.modules())
    assert model.stem[0].kernel_size == (7, 7) and model.stem[0].stride == (2, 2)
    assert model.squeeze[0].out_channels == 256 and model.squeeze[0].kernel_size == (3, 3)


def test_paper_outputs_at_a_small_input():
    cfg = model_config(load_config("shpe", "paper"))
    cfg.input_size = 64
    model = DetNet(cfg).eval()
    with torch.no_grad():
        heat, delta, loc = model(torch.rand(1, 3, 64, 64))
    assert heat.shape == (1, 21, 16, 16)
    assert delta.shape == loc.shape == (1, 21, 3, 16, 16)


def test_lite_outputs_and_heads(tiny_config):
    lite = model_config(load_config("shpe", "lite"))
    assert lite.input_size == 128 and lite.map_size == 32
    model = DetNet(tiny_config).eval()
    with torch.no_grad():
        heat, delta, loc = model(torch.rand(3, 3, 32, 32))
    assert heat.shape == (3, 21, 8, 8) and delta.shape == loc.shape == (3, 21, 3, 8, 8)
    assert heat.min() >= 0 and heat.max() <= 1  # sigmoid heatmaps
    c = tiny_config.squeeze_channels + 2  # features + the coordinate grid
    assert model.heatmap_head.project[0].in_channels == c
    assert model.delta_head.project[0].in_channels == c + 21  # + heatmaps
    assert model.location_head.project[0].in_channels == c + 21 + 63  # + delta maps


def test_coordinate_grid_x_along_columns():
    grid = coordinate_grid(torch.zeros(2, 5, 3, 4))
    assert grid.shape == (2, 2, 3, 4)
    torch.testing.assert_close(grid[0, 0, 1], torch.linspace(-1, 1, 4))  # x varies by column
    torch.testing.assert_close(grid[0, 1, :, 2], torch.linspace(-1, 1, 3))  # y by row


def test_bottleneck_shortcut_only_when_needed():
    assert isinstance(Bottleneck(16, 4, 16, 1, 1).shortcut, nn.Identity)
    strided = Bottleneck(16, 4, 16, 2, 1)
    assert isinstance(strided.shortcut, Subsample)  # parameter-free, as TF-slim
    assert strided(torch.rand(1, 16, 9, 9)).shape == (1, 16, 5, 5)
    assert isinstance(Bottleneck(8, 4, 16, 2, 1).shortcut[0], nn.Conv2d)


def test_config_round_trip_and_errors(tiny_config):
    again = DetNetConfig.from_dict(tiny_config.to_dict())
    assert again == tiny_config
    with pytest.raises(ValueError, match="unknown DetNet config keys"):
        DetNetConfig.from_dict({"depth": 50})
    with pytest.raises(ValueError, match="multiple of 4"):
        DetNet(DetNetConfig.from_dict({**tiny_config.to_dict(), "input_size": 30}))


def test_regulariser_covers_convolution_kernels_only(tiny_config):
    model = DetNet(tiny_config)
    params = regularized_parameters(model)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(params) == len(convs)
    assert all(p.ndim == 4 for p in params)


def test_heatmaps_start_near_their_background(tiny_config):
    torch.manual_seed(0)
    model = DetNet(tiny_config).eval()
    with torch.no_grad():
        heat, _, _ = model(torch.rand(2, 3, 32, 32))
    assert 0.001 < float(heat.mean()) < 0.1
