"""HDRNet: the partial-convolution UNet with PVTv2 blocks that de-occludes and removes.

Architecture (``paper`` configuration, DESIGN.md §2, after Liu et al. 2018):

* encoder level ``i`` = partial conv ``kernels[i]`` / stride 2 to ``channels[i]``,
  BatchNorm (not on level 1) and ReLU; 8 levels at 256 input end at 1x1;
* decoder level ``i`` (from the deepest up) = nearest x2 upsampling of the features
  and of the mask, concatenation with encoder level ``i - 1`` (level 0 = the network
  input), 3x3 partial conv to ``channels[i - 2]``, BatchNorm and LeakyReLU(0.2);
  the last level (``dec1``) goes to 3 channels with a bias and no activation;
  convolutions before a BatchNorm have no bias (Liu et al.);
* PVTv2 blocks at named positions (``enc3``: after encoder level 3, ``dec5``: after
  decoder level 5, ...), on the features only;
* the output is composited with the input image outside the erased region
  ``M_D ∪ M_R`` (dilated by ``composite_dilation`` pixels).

Inputs are the crop image ``(B, 3, H, W)`` in [0, 1] and the four masks ``(B, 4, H,
W)`` in the order target amodal, target visible, distractor amodal, distractor
visible (:data:`handhdr.hdrm.masks.TARGET_DISTRACTOR_ORDER`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from handhdr.hdrm.masks import composite, deocclusion_removal_masks, erased_region
from handhdr.hdrm.partial_conv import PartialConv2d
from handhdr.hdrm.transformer import FeatureTransformer

INPUT_CHANNELS = 8  # concat(I_D, M_tv, I_R, M_bv)


@dataclass(frozen=True)
class TransformerSpec:
    """One PVTv2 block: where (``enc3``, ``dec5``, ...) and its size."""

    at: str
    heads: int
    mlp_ratio: float
    sr_ratio: int


@dataclass(frozen=True)
class HDRNetConfig:
    """Sizes of HDRNet; ``paper`` defaults (DESIGN.md §2)."""

    resolution: int = 256
    channels: tuple[int, ...] = (64, 128, 256, 512, 512, 512, 512, 512)
    kernels: tuple[int, ...] = (7, 5, 5, 3, 3, 3, 3, 3)
    use_transformer: bool = True
    transformer: tuple[TransformerSpec, ...] = (
        TransformerSpec("enc3", 2, 8, 4),
        TransformerSpec("enc5", 8, 4, 1),
        TransformerSpec("dec5", 8, 4, 1),
        TransformerSpec("dec3", 2, 8, 4),
    )
    composite_dilation: int = 0

    def __post_init__(self) -> None:
        levels = len(self.channels)
        if levels < 2 or len(self.kernels) != levels:
            raise ValueError(
                f"channels and kernels need the same length >= 2, got {self.channels} "
                f"and {self.kernels}"
            )
        if self.resolution % (2**levels):
            raise ValueError(
                f"resolution {self.resolution} must be divisible by 2**levels = {2**levels}"
            )
        for spec in self.transformer:
            match = re.fullmatch(r"(enc|dec)(\d+)", spec.at)
            if match is None or not 1 <= int(match[2]) <= levels:
                raise ValueError(f"transformer position {spec.at!r}: expected enc1..enc{levels}")
            if match[1] == "dec" and int(match[2]) == 1:
                raise ValueError("no transformer after dec1: it outputs the image")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> HDRNetConfig:
        """Build from a plain mapping (a YAML ``model:`` block); unknown keys are errors."""
        known = {"resolution", "channels", "kernels", "use_transformer", "transformer"}
        known |= {"composite_dilation"}
        unknown = set(values) - known
        if unknown:
            raise ValueError(
                f"unknown HDRNet config keys {sorted(unknown)}; known: {sorted(known)}"
            )
        kwargs: dict[str, Any] = dict(values)
        for key in ("channels", "kernels"):
            if key in kwargs:
                kwargs[key] = tuple(int(v) for v in kwargs[key])
        if "transformer" in kwargs:
            kwargs["transformer"] = tuple(TransformerSpec(**dict(t)) for t in kwargs["transformer"])
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able mapping that :meth:`from_dict` reads back."""
        out = asdict(self)
        out["channels"] = list(self.channels)
        out["kernels"] = list(self.kernels)
        out["transformer"] = [asdict(t) for t in self.transformer]
        return out

    def channels_at(self, position: str) -> int:
        """Feature channels at ``enc<i>`` / ``dec<i>``."""
        kind, level = position[:3], int(position[3:])
        if kind == "enc":
            return self.channels[level - 1]
        return self.channels[level - 2]


class HDROutput(NamedTuple):
    """What HDRNet returns: the composite, the raw output and the two regions."""

    composite: torch.Tensor  # (B, 3, H, W): input outside the erased region
    raw: torch.Tensor  # (B, 3, H, W): the network's image everywhere
    m_d: torch.Tensor  # (B, 1, H, W): de-occlusion region M_D
    m_r: torch.Tensor  # (B, 1, H, W): removal region M_R
    erased: torch.Tensor  # (B, 1, H, W): M_D ∪ M_R, dilated as configured


class _EncoderLevel(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, batch_norm: bool) -> None:
        super().__init__()
        self.conv = PartialConv2d(cin, cout, kernel, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(cout) if batch_norm else nn.Identity()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, mask = self.conv(x, mask)
        return F.relu(self.bn(x)), mask


class _DecoderLevel(nn.Module):
    def __init__(self, cin: int, cskip: int, cout: int, last: bool) -> None:
        super().__init__()
        self.last = last
        self.conv = PartialConv2d(cin + cskip, cout, 3, stride=1, bias=last)
        self.bn = nn.Identity() if last else nn.BatchNorm2d(cout)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, skip: torch.Tensor, skip_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        mask = F.interpolate(mask, scale_factor=2.0, mode="nearest")
        x, mask = self.conv([x, skip], [mask, skip_mask])
        if self.last:
            return x, mask
        return F.leaky_relu(self.bn(x), 0.2), mask


class HDRNet(nn.Module):
    """De-occludes the target hand and removes the distractor in a right-hand crop."""

    def __init__(self, config: HDRNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or HDRNetConfig()
        ch = self.config.channels
        levels = len(ch)
        self.encoder = nn.ModuleList(
            _EncoderLevel(INPUT_CHANNELS if i == 0 else ch[i - 1], ch[i], k, batch_norm=i > 0)
            for i, k in enumerate(self.config.kernels)
        )
        # decoder[j] is level levels - j: from the bottleneck up to dec1
        self.decoder = nn.ModuleList()
        for level in range(levels, 0, -1):
            cin = ch[level - 1]  # encoder level L's or decoder level + 1's output
            cskip = ch[level - 2] if level > 1 else INPUT_CHANNELS
            cout = ch[level - 2] if level > 1 else 3
            self.decoder.append(_DecoderLevel(cin, cskip, cout, last=level == 1))
        self.transformers = nn.ModuleDict()
        if self.config.use_transformer:
            for spec in self.config.transformer:
                dim = self.config.channels_at(spec.at)
                self.transformers[spec.at] = FeatureTransformer(
                    dim, spec.heads, spec.mlp_ratio, spec.sr_ratio
                )

    def _transform(
        self, position: str, x: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if position in self.transformers:
            return self.transformers[position](x, mask)
        return x, mask

    def inpaint(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """The UNet alone: 8-channel input and its hole mask -> raw 3-channel image."""
        skips = [(x, valid)]
        h, mask = x, valid
        for i, level in enumerate(self.encoder, start=1):
            h, mask = level(h, mask)
            h, mask = self._transform(f"enc{i}", h, mask)
            skips.append((h, mask))
        levels = len(self.encoder)
        for j, level in enumerate(self.decoder):
            depth = levels - j
            skip, skip_mask = skips[depth - 1]
            h, mask = level(h, mask, skip, skip_mask)
            if depth > 1:
                h, mask = self._transform(f"dec{depth}", h, mask)
        return h

    def forward(
        self,
        image: torch.Tensor,
        masks: torch.Tensor,
        switches: torch.Tensor | None = None,
    ) -> HDROutput:
        """Crop image ``(B, 3, H, W)`` and masks ``(B, 4, H, W)`` -> :class:`HDROutput`.

        ``switches`` ``(B, 2)``: [de-occlusion, removal], 1 = on (the default), 0 =
        the ablation without it.
        """
        m_ta, m_tv, m_da, m_dv = masks.to(image.dtype).split(1, dim=1)
        deocclusion: Any = True
        removal: Any = True
        if switches is not None:
            s = switches.to(image.dtype).reshape(-1, 2, 1, 1)
            deocclusion, removal = s[:, :1], s[:, 1:]
        inputs = deocclusion_removal_masks(image, m_ta, m_tv, m_da, m_dv, deocclusion, removal)
        raw = self.inpaint(inputs.network_input, inputs.valid)
        erased = erased_region(inputs.m_d, inputs.m_r, self.config.composite_dilation)
        return HDROutput(composite(image, raw, erased), raw, inputs.m_d, inputs.m_r, erased)


def count_parameters(module: nn.Module) -> int:
    """Number of parameters."""
    return sum(p.numel() for p in module.parameters())
