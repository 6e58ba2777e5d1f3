import numpy as np
import pytest
import torch

from handhdr.hdrm.partial_conv import PartialConv2d


def _naive(x, mask, weight, bias, stride, pad):
    """Per-channel-mask partial convolution, one window at a time (numpy)."""
    c, h, w = x.shape
    k = weight.shape[-1]
    xp = np.pad(x * mask, ((0, 0), (pad, pad), (pad, pad)))
    mp = np.pad(mask, ((0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    out = np.zeros((weight.shape[0], ho, wo))
    new = np.zeros((ho, wo))
    for i in range(ho):
        for j in range(wo):
            win = xp[:, i * stride : i * stride + k, j * stride : j * stride + k]
            count = mp[:, i * stride : i * stride + k, j * stride : j * stride + k].sum()
            if count > 0:
                raw = (weight * win[None]).sum(axis=(1, 2, 3))
                out[:, i, j] = raw * (c * k * k) / count + bias
                new[i, j] = 1
    return out, new


def test_hand_computed_example():
    conv = PartialConv2d(1, 1, 3, stride=1, bias=True)
    with torch.no_grad():
        conv.conv.weight.fill_(1.0)
        conv.bias.fill_(0.5)
    x = torch.arange(1.0, 10.0).view(1, 1, 3, 3)
    mask = torch.tensor([[1.0, 1, 0], [1, 0, 0], [0, 0, 0]]).view(1, 1, 3, 3)
    out, new = conv(x, mask)
    # valid inputs 1, 2, 4; e.g. at (0, 0): (1 + 2 + 4) * 9 / 3 + 0.5; at (0, 2) only
    # the 2 is valid: 2 * 9 / 1 + 0.5; the window of (2, 2) holds no valid input: 0
    expected = torch.tensor([[21.5, 21.5, 18.5], [21.5, 21.5, 18.5], [36.5, 36.5, 0.0]])
    torch.testing.assert_close(out[0, 0], expected)
    torch.testing.assert_close(new[0, 0], torch.tensor([[1.0, 1, 1], [1, 1, 1], [1, 1, 0]]))


def test_matches_the_per_channel_definition_with_stride_and_two_masked_maps():
    rng = np.random.default_rng(0)
    conv = PartialConv2d(5, 4, 3, stride=2, bias=True)
    with torch.no_grad():
        conv.bias.copy_(torch.from_numpy(rng.normal(size=4)).float())
    a = rng.normal(size=(3, 9, 9))
    b = rng.normal(size=(2, 9, 9))
    ma = (rng.random((1, 9, 9)) > 0.6).astype(np.float64)
    mb = (rng.random((1, 9, 9)) > 0.3).astype(np.float64)
    ma[0, :4, :4] = 0  # a hole wider than a window in both maps
    mb[0, :4, :4] = 0
    out, new = conv(
        [torch.from_numpy(a)[None].float(), torch.from_numpy(b)[None].float()],
        [torch.from_numpy(ma)[None].float(), torch.from_numpy(mb)[None].float()],
    )
    full_mask = np.concatenate([np.repeat(ma, 3, 0), np.repeat(mb, 2, 0)])
    ref, ref_new = _naive(
        np.concatenate([a, b]),
        full_mask,
        conv.conv.weight.detach().double().numpy(),
        conv.bias.detach().double().numpy(),
        stride=2,
        pad=1,
    )
    assert ref_new[0, 0] == 0  # the test does include an all-hole window
    np.testing.assert_allclose(out[0].detach().numpy(), ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(new[0, 0].numpy(), ref_new)


def test_all_valid_interior_equals_a_plain_convolution():
    conv = PartialConv2d(2, 3, 3, bias=False)
    x = torch.randn(1, 2, 6, 6)
    out, new = conv(x, torch.ones(1, 1, 6, 6))
    plain = conv.conv(x)
    torch.testing.assert_close(out[..., 1:-1, 1:-1], plain[..., 1:-1, 1:-1])
    assert new.all()


def test_hole_values_never_reach_the_output():
    conv = PartialConv2d(3, 4, 5, stride=2)
    mask = (torch.rand(2, 1, 16, 16) > 0.4).float()
    x = torch.randn(2, 3, 16, 16)
    y = x + (1 - mask) * 100 * torch.randn_like(x)
    assert torch.equal(conv(x, mask)[0], conv(y, mask)[0])


def test_mask_channel_errors():
    conv = PartialConv2d(3, 4, 3)
    with pytest.raises(ValueError, match="mask"):
        conv(torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4))
    with pytest.raises(ValueError, match="expected 3 channels"):
        conv(torch.zeros(1, 2, 4, 4), torch.ones(1, 1, 4, 4))
