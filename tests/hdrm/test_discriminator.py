import pytest
import torch

from handhdr.hdrm.discriminator import PatchDiscriminator


def test_patchgan_layout_and_output_size():
    d = PatchDiscriminator()
    convs = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 512, 1]
    assert [c.stride[0] for c in convs] == [2, 2, 2, 1, 1]
    assert all(c.kernel_size == (4, 4) for c in convs)
    assert all(hasattr(c, "parametrizations") for c in convs)  # spectral norm
    assert convs[0].in_channels == 5
    logits = d(torch.rand(1, 3, 256, 256), torch.zeros(1, 1, 256, 256), torch.zeros(1, 1, 256, 256))
    assert logits.shape == (1, 1, 30, 30)


def test_spectral_norm_bounds_the_weights():
    d = PatchDiscriminator(widths=(8, 8, 8, 8))
    conv = d.layers[0]
    d.train()
    for _ in range(30):  # power iterations converge
        d(torch.rand(1, 3, 32, 32), torch.zeros(1, 1, 32, 32), torch.zeros(1, 1, 32, 32))
    sigma = float(torch.linalg.matrix_norm(conv.weight.detach().reshape(8, -1), ord=2))
    assert sigma == pytest.approx(1.0, abs=0.05)


def test_widths_must_be_four():
    with pytest.raises(ValueError, match="four"):
        PatchDiscriminator(widths=(8, 8))
