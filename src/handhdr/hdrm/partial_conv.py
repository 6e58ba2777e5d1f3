"""Partial convolution (Liu et al., "Image inpainting for irregular holes", ECCV 2018).

For a window with input ``X``, mask ``M`` (1 = valid, 0 = hole), weights ``W`` and
bias ``b``::

    out      = W^T (X * M) * sum(1) / sum(M) + b    if sum(M) > 0
             = 0                                    otherwise
    new mask = 1 if sum(M) > 0 else 0

``sum(1)`` is the window size (input channels x kernel area) and ``sum(M)`` counts
the valid inputs in the window, over all channels. The bias is added after the
renormalisation and the output is zero where the window held no valid input, as in
Liu et al.'s code.

Masks are ``(B, 1, H, W)``, one per feature map and shared by its channels (in
HDRNet every channel of a map has the same mask). The decoder passes its upsampled
features and the skip connection as two maps with their own masks; the window
count then weighs each mask by its map's channel count, exactly as a per-channel
mask of the concatenation would.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class PartialConv2d(nn.Module):
    """A convolution that only looks at valid inputs, and the mask update."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int | None = None,
        bias: bool = True,
    ) -> None:
        super().__init__()
        padding = kernel_size // 2 if padding is None else padding
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.window_size = float(in_channels * kernel_size * kernel_size)

    def forward(
        self, x: torch.Tensor | Sequence[torch.Tensor], mask: torch.Tensor | Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Features and mask -> features and the updated ``(B, 1, H', W')`` mask.

        ``x`` is ``(B, C, H, W)`` with a ``(B, 1, H, W)`` mask shared by its channels,
        or a list of feature maps to concatenate, each with its own one-channel mask
        (the decoder's upsampled features and skip connection).
        """
        groups = [x] if isinstance(x, torch.Tensor) else list(x)
        masks = [mask] if isinstance(mask, torch.Tensor) else list(mask)
        channels = [g.shape[1] for g in groups]
        if len(groups) != len(masks) or any(m.shape[1] != 1 for m in masks):
            raise ValueError("give one (B, 1, H, W) mask per feature map")
        if sum(channels) != self.conv.in_channels:
            raise ValueError(f"expected {self.conv.in_channels} channels, got {sum(channels)}")
        k, stride, pad = self.conv.kernel_size[0], self.conv.stride[0], self.conv.padding[0]
        with torch.no_grad():
            valid_inputs = sum(c * m for c, m in zip(channels, masks, strict=True))
            # box sum over the window: average pooling (zero padding counted) x area
            count = F.avg_pool2d(valid_inputs, k, stride, pad, count_include_pad=True) * (k * k)
            new_mask = (count > 0.5).to(groups[0].dtype)
            ratio = self.window_size / count.clamp(min=1.0) * new_mask
        masked = torch.cat([g * m for g, m in zip(groups, masks, strict=True)], dim=1)
        out = self.conv(masked) * ratio
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1)
        return out * new_mask, new_mask
