import dataclasses

import pytest
import torch

from handhdr.hdrm.network import HDRNet, HDRNetConfig


def _scene(batch=2, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, 3, size, size, generator=g)
    masks = torch.zeros(batch, 4, size, size)
    masks[:, 0, 8:24, 8:24] = 1  # target amodal
    masks[:, 1] = masks[:, 0]
    masks[:, 1, 14:24, 14:24] = 0  # target hidden there
    masks[:, 2, 14:30, 14:30] = 1  # distractor amodal, on top
    masks[:, 3] = masks[:, 2]
    return image, masks


def test_paper_config_matches_the_reference_layout():
    cfg = HDRNetConfig()
    assert len(cfg.channels) == 8 and cfg.resolution == 256
    assert [cfg.channels_at(s.at) for s in cfg.transformer] == [256, 512, 512, 128]
    net = HDRNet(cfg)
    first, last = net.encoder[0], net.decoder[-1]
    assert first.conv.conv.kernel_size == (7, 7) and isinstance(first.bn, torch.nn.Identity)
    assert net.encoder[1].conv.conv.kernel_size == (5, 5)
    assert net.encoder[3].conv.conv.kernel_size == (3, 3)
    assert last.conv.conv.out_channels == 3 and last.conv.bias is not None
    assert net.decoder[0].conv.bias is None
    assert len(net.transformers) == 4


def test_shapes_and_switch_off(tiny_config):
    net = HDRNet(tiny_config).eval()
    image, masks = _scene()
    with torch.no_grad():
        out = net(image, masks)
    assert out.composite.shape == out.raw.shape == (2, 3, 32, 32)
    assert out.m_d.sum() > 0 and out.m_r.sum() > 0
    plain = HDRNet(dataclasses.replace(tiny_config, use_transformer=False))
    assert len(plain.transformers) == 0
    assert sum(p.numel() for p in plain.parameters()) < sum(p.numel() for p in net.parameters())


def test_compositing_keeps_every_unerased_pixel_exactly(tiny_config):
    net = HDRNet(tiny_config).eval()
    image, masks = _scene()
    with torch.no_grad():
        out = net(image, masks)
    keep = (out.erased < 0.5).expand_as(image)
    assert keep.sum() > 0 and (~keep).sum() > 0
    assert torch.equal(out.composite[keep], image[keep])
    assert torch.equal(out.composite[~keep], out.raw[~keep])
    # the erased region is M_D ∪ M_R dilated by one pixel
    union = torch.maximum(out.m_d, out.m_r)
    assert (out.erased >= union).all() and out.erased.sum() > union.sum()


def test_erased_content_never_reaches_the_output(tiny_config):
    net = HDRNet(tiny_config).eval()
    image, masks = _scene()
    with torch.no_grad():
        out = net(image, masks)
        hole = torch.maximum(out.m_d, out.m_r)
        changed = image + hole * torch.randn_like(image)
        again = net(changed, masks)
    assert torch.equal(out.raw, again.raw)


def test_ablation_switches_change_the_regions(tiny_config):
    net = HDRNet(tiny_config).eval()
    image, masks = _scene()
    switches = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # no removal / no de-occlusion
    with torch.no_grad():
        out = net(image, masks, switches)
    assert out.m_r[0].sum() == 0 and out.m_d[0].sum() > 0
    assert out.m_d[1].sum() == 0 and out.m_r[1].sum() > 0


def test_config_round_trip_and_errors(tiny_config):
    assert HDRNetConfig.from_dict(tiny_config.to_dict()) == tiny_config
    with pytest.raises(ValueError, match="divisible"):
        HDRNetConfig(resolution=48, channels=(8, 8, 8, 8, 8), kernels=(3,) * 5, transformer=())
    with pytest.raises(ValueError, match="unknown HDRNet config keys"):
        HDRNetConfig.from_dict({"depth": 3})
    with pytest.raises(ValueError, match="transformer position"):
        HDRNetConfig.from_dict(
            {
                **tiny_config.to_dict(),
                "transformer": [{"at": "enc9", "heads": 1, "mlp_ratio": 2, "sr_ratio": 1}],
            }
        )
