"""The image discriminator of HDRM: a 70x70 PatchGAN with spectral normalisation.

Layers (``paper`` widths 64, 128, 256, 512): 4x4 convolutions with strides 2, 2, 2,
1 and a last 4x4 stride-1 convolution to one logit per patch; LeakyReLU(0.2)
between them; spectral norm on every convolution and no other normalisation. The
input is the image and the two masks ``M_D`` and ``M_R`` (5 channels), so the
discriminator knows where the generated content is.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class PatchDiscriminator(nn.Module):
    """Real/fake logits per ~70x70 patch (at the paper's widths and strides)."""

    def __init__(self, in_channels: int = 5, widths: Sequence[int] = (64, 128, 256, 512)) -> None:
        super().__init__()
        if len(widths) != 4:
            raise ValueError(f"the PatchGAN has four hidden convolutions, got widths {widths}")
        strides = (2, 2, 2, 1)
        layers: list[nn.Module] = []
        cin = in_channels
        for width, stride in zip(widths, strides, strict=True):
            layers += [spectral_norm(nn.Conv2d(cin, width, 4, stride, 1)), nn.LeakyReLU(0.2)]
            cin = width
        layers.append(spectral_norm(nn.Conv2d(cin, 1, 4, 1, 1)))
        self.layers = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor, m_d: torch.Tensor, m_r: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` image and ``(B, 1, H, W)`` masks -> ``(B, 1, h, w)`` logits."""
        return self.layers(torch.cat([image, m_d, m_r], dim=1))
