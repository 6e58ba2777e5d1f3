import math

import pytest
import torch
from safetensors.torch import save_file

from handhdr.hdrm.losses import (
    VGG16_CONV_INDICES,
    HDRLossTerms,
    LossWeights,
    discriminator_loss,
    generator_adversarial_loss,
    gram_matrix,
    hdr_loss,
    load_vgg16_features,
    region_l1,
    total_variation,
)

# torchvision's vgg16 conv shapes (all 13 convolutions) and its classifier
_VGG_CONVS = {
    0: (64, 3), 2: (64, 64), 5: (128, 64), 7: (128, 128), 10: (256, 128), 12: (256, 256),
    14: (256, 256), 17: (512, 256), 19: (512, 512), 21: (512, 512), 24: (512, 512),
    26: (512, 512), 28: (512, 512),
}  # fmt: skip


def _vgg_state(seed=0):
    g = torch.Generator().manual_seed(seed)
    state = {}
    for i, (cout, cin) in _VGG_CONVS.items():
        state[f"features.{i}.weight"] = torch.randn(cout, cin, 3, 3, generator=g) * 0.05
        state[f"features.{i}.bias"] = torch.randn(cout, generator=g) * 0.01
    state["classifier.6.weight"] = torch.randn(10, 4, generator=g)
    return state


def test_region_l1_by_hand():
    out = torch.zeros(1, 3, 2, 2)
    target = torch.zeros(1, 3, 2, 2)
    target[0, :, 0, 0] = 0.3
    target[0, 0, 1, 1] = 0.9
    region = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    # (3 * 0.3 + 0.9) / (2 pixels * 3 channels)
    assert region_l1(out, target, region).item() == pytest.approx(1.8 / 6)
    assert region_l1(out, target, torch.zeros_like(region)).item() == 0.0


def test_gram_tv_and_gan_losses_by_hand():
    f = torch.ones(2, 4, 3, 5)
    torch.testing.assert_close(gram_matrix(f), torch.full((2, 4, 4), 1 / 4))
    ramp = torch.arange(4.0).view(1, 1, 1, 4).expand(1, 1, 4, 4)
    assert total_variation(ramp).item() == pytest.approx(1.0)
    zero = torch.zeros(3)
    assert generator_adversarial_loss(zero).item() == pytest.approx(math.log(2))
    assert discriminator_loss(zero, zero).item() == pytest.approx(2 * math.log(2))
    assert discriminator_loss(torch.full((3,), 20.0), torch.full((3,), -20.0)).item() < 1e-8


def test_equation_4_weights_the_terms():
    terms = {k: torch.tensor(v) for k, v in [("adversarial", 1.0), ("l1_deocclusion", 2.0),
             ("l1_removal", 3.0), ("l1_valid", 4.0), ("perceptual", 5.0), ("style", 0.01),
             ("tv", 1.0)]}  # fmt: skip
    w = LossWeights()
    expected = 0.1 * 1 + 1.0 * (2 + 3 + 4) + 0.1 * 5 + 250 * 0.01 + 0.1 * 1
    assert hdr_loss(terms, w).item() == pytest.approx(expected)
    assert w.l1_deocclusion + w.l1_removal + w.l1_valid == 3.0  # the paper's λ2
    # missing terms (no discriminator, no VGG) count as zero
    partial = {k: terms[k] for k in ("l1_deocclusion", "l1_removal", "l1_valid", "tv")}
    assert hdr_loss(partial, w).item() == pytest.approx(9.1)
    with pytest.raises(ValueError, match="unknown loss weights"):
        LossWeights.from_dict({"l1": 3.0})


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_vgg16_loads_a_torchvision_layout_file(tmp_path, suffix):
    state = _vgg_state()
    path = tmp_path / f"vgg16{suffix}"
    if suffix == ".safetensors":
        save_file(state, str(path))
    else:
        torch.save(state, path)
    vgg = load_vgg16_features(path)
    for i in VGG16_CONV_INDICES:
        assert torch.equal(vgg.features[i].weight, state[f"features.{i}.weight"])
    feats = vgg(torch.rand(1, 3, 32, 32))
    assert [tuple(f.shape) for f in feats] == [(1, 64, 16, 16), (1, 128, 8, 8), (1, 256, 4, 4)]
    assert not any(p.requires_grad for p in vgg.parameters())


def test_vgg16_bad_files_name_the_key(tmp_path):
    state = _vgg_state()
    del state["features.12.bias"]
    save_file(state, str(tmp_path / "a.safetensors"))
    with pytest.raises(ValueError, match=r"a\.safetensors.*features\.12\.bias"):
        load_vgg16_features(tmp_path / "a.safetensors")
    state = _vgg_state()
    state["features.0.weight"] = torch.zeros(64, 1, 3, 3)
    save_file(state, str(tmp_path / "b.safetensors"))
    with pytest.raises(ValueError, match=r"features\.0\.weight.*shape"):
        load_vgg16_features(tmp_path / "b.safetensors")
    with pytest.raises(FileNotFoundError, match="no such VGG16"):
        load_vgg16_features(tmp_path / "missing.pth")


def test_loss_terms_with_and_without_vgg(tmp_path):
    save_file(_vgg_state(), str(tmp_path / "v.safetensors"))
    target = torch.rand(2, 3, 32, 32)
    m_d = torch.zeros(2, 1, 32, 32)
    m_r = torch.zeros(2, 1, 32, 32)
    m_d[:, :, 4:10, 4:10] = 1
    m_r[:, :, 20:30, 20:30] = 1
    raw = target.clone()
    raw[:, :, 20:30, 20:30] += 0.5  # wrong only inside the removal hole
    terms = HDRLossTerms(load_vgg16_features(tmp_path / "v.safetensors"))
    t = terms(raw, raw, target, m_d, m_r, fake_logits=torch.zeros(2, 1, 2, 2))
    assert t["l1_deocclusion"].item() == 0 and t["l1_valid"].item() == 0
    assert t["l1_removal"].item() == pytest.approx(0.5)
    assert t["perceptual"].item() > 0 and t["style"].item() > 0
    same = terms(target, target, target, m_d, m_r)
    assert same["perceptual"].item() == 0 and "adversarial" not in same
    assert set(HDRLossTerms()(raw, raw, target, m_d, m_r)) == {
        "l1_deocclusion", "l1_removal", "l1_valid", "tv"}  # fmt: skip
