"""PVTv2 transformer blocks (Wang et al., "PVT v2", 2022) inside HDRNet.

One block = spatial-reduction attention and a depthwise-convolution MLP, each
pre-normalised with LayerNorm and residual; :class:`FeatureTransformer` adds the
closing LayerNorm of a PVTv2 stage and works on ``(B, C, H, W)`` feature maps.
Inside HDRNet it transforms the features only: the partial-convolution mask passes
through unchanged.
"""

from __future__ import annotations

import torch
from torch import nn


class SpatialReductionAttention(nn.Module):
    """Multi-head attention whose keys and values come from a ``sr_ratio``-pooled map."""

    def __init__(self, dim: int, heads: int, sr_ratio: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, sr_ratio, stride=sr_ratio)
            self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        b, n, c = x.shape
        d = c // self.heads
        q = self.q(x).reshape(b, n, self.heads, d).transpose(1, 2)
        context = x
        if self.sr_ratio > 1:
            grid = x.transpose(1, 2).reshape(b, c, h, w)
            context = self.norm(self.sr(grid).flatten(2).transpose(1, 2))
        kv = self.kv(context).reshape(b, -1, 2, self.heads, d).permute(2, 0, 3, 1, 4)
        attn = torch.softmax((q @ kv[0].transpose(-2, -1)) * self.scale, dim=-1)
        out = (attn @ kv[1]).transpose(1, 2).reshape(b, n, c)
        return self.proj(out)


class DepthwiseConvMLP(nn.Module):
    """Linear -> 3x3 depthwise conv -> GELU -> linear (the PVTv2 feed-forward)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        x = self.fc1(x)
        b, n, c = x.shape
        x = self.dwconv(x.transpose(1, 2).reshape(b, c, h, w)).flatten(2).transpose(1, 2)
        return self.fc2(self.act(x))


class PVTBlock(nn.Module):
    """``x + SRA(LN(x))``, then ``x + MLP(LN(x))`` on ``(B, H*W, C)`` tokens."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, sr_ratio: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SpatialReductionAttention(dim, heads, sr_ratio)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = DepthwiseConvMLP(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), h, w)
        return x + self.mlp(self.norm2(x), h, w)


class FeatureTransformer(nn.Module):
    """A PVTv2 block and LayerNorm on a feature map; the mask is returned untouched."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, sr_ratio: int) -> None:
        super().__init__()
        self.block = PVTBlock(dim, heads, mlp_ratio, sr_ratio)
        self.norm = nn.LayerNorm(dim)
        self.sr_ratio = sr_ratio

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, c, h, w = x.shape
        tokens = self.norm(self.block(x.flatten(2).transpose(1, 2), h, w))
        return tokens.transpose(1, 2).reshape(b, c, h, w), mask
