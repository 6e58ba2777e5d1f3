"""DetNet (MinimalHand's 2D + 3D joint detector), the single-hand estimator of the paper.

Architecture (``paper``, DESIGN §2): a truncated, dilated ResNet-50 v1 --

* stem: conv 7x7 / 2, BN, ReLU (no max-pool);
* block 1: 3 bottlenecks (64 -> 256), the last with stride 2;
* block 2: 4 bottlenecks (128 -> 512), dilation 2;
* block 3: 6 bottlenecks (256 -> 1024), dilation 4;
* squeeze: conv 3x3 to 256, BN, ReLU -- total stride 4 (256 input -> 64 x 64 maps);

then a 2-channel coordinate grid is concatenated and three heads follow, each a
conv 3x3 + BN + ReLU and a 1x1 prediction:

* heatmaps ``H`` (21 channels, sigmoid);
* delta maps ``D`` (21 x 3) from ``[features, H]``;
* location maps ``L`` (21 x 3) from ``[features, H, D]``.

The bottleneck is ResNet v1's (1x1, 3x3, 1x1, each with BN; ReLU after the sum);
like TF-slim's ``resnet_v1`` the stride sits in the 3x3 convolution, the shortcut is
a strided 1x1 projection when the depth changes and a subsampling when only the
resolution does (so the trunk has exactly ResNet-50's conv1-conv4 parameters). The
``lite`` configuration is the same network with fewer and narrower units and 1x1
squeeze and head projections (``configs/shpe/lite.yaml``).

Input: ``(B, 3, S, S)`` RGB float in ``[0, 1]`` (ImageNet mean/std normalisation is
part of the network). Joint order of every output channel: InterHand2.6M per hand
(:mod:`handhdr.joints`). The network has no pretrained weights: no ImageNet ResNet-50
can be downloaded here, so it trains from scratch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from handhdr.joints import NUM_HAND_JOINTS

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# prior wrist-to-middle-MCP length (mm) until a model is trained: that of the built-in
# hand model's mean shape (handhdr.hand.anatomy: middle MCP 89 mm from the wrist joint,
# proportions from adult anthropometry). Training replaces it with the mean over the
# training hands (DetNet.reference_bone_mm), which the weights file carries.
DEFAULT_REFERENCE_BONE_MM = 89.0
HEATMAP_PRIOR_LOGIT = -4.6  # sigmoid(-4.6) = 0.01, the initial heatmap value


@dataclass
class BlockSpec:
    """One stage of bottlenecks: ``units`` units of width ``width`` (the 3x3) and output
    ``out`` channels; the last unit has stride ``stride``; all have ``dilation``."""

    units: int
    width: int
    out: int
    stride: int = 1
    dilation: int = 1


@dataclass
class DetNetConfig:
    """Architecture of a :class:`DetNet` (stored in weights files)."""

    input_size: int = 256
    stem_channels: int = 64
    stem_kernel: int = 7
    blocks: list[BlockSpec] = field(
        default_factory=lambda: [
            BlockSpec(3, 64, 256, stride=2),
            BlockSpec(4, 128, 512, dilation=2),
            BlockSpec(6, 256, 1024, dilation=4),
        ]
    )
    squeeze_channels: int = 256
    squeeze_kernel: int = 3
    head_channels: int = 256
    head_kernel: int = 3  # of each head's projection (the prediction is 1x1)
    num_joints: int = NUM_HAND_JOINTS

    @property
    def stride(self) -> int:
        """Input pixels per map cell."""
        s = 2
        for block in self.blocks:
            s *= block.stride
        return s

    @property
    def map_size(self) -> int:
        """Side of the output maps."""
        if self.input_size % self.stride:
            raise ValueError(f"input_size {self.input_size} is not a multiple of {self.stride}")
        return self.input_size // self.stride

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON/YAML)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DetNetConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        values = dict(values)
        known = set(cls.__dataclass_fields__)
        unknown = set(values) - known
        if unknown:
            raise ValueError(
                f"unknown DetNet config keys {sorted(unknown)}; known: {sorted(known)}"
            )
        if "blocks" in values:
            values["blocks"] = [
                b if isinstance(b, BlockSpec) else BlockSpec(**dict(b)) for b in values["blocks"]
            ]
        return cls(**values)


def _conv_bn_relu(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class Subsample(nn.Module):
    """Every ``stride``-th pixel: the parameter-free shortcut of a strided unit whose
    depth does not change (TF-slim's ``resnet_v1`` subsampling)."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :: self.stride, :: self.stride]


class Bottleneck(nn.Module):
    """ResNet v1 bottleneck: 1x1 -> 3x3 (stride, dilation) -> 1x1, plus the shortcut."""

    def __init__(self, cin: int, width: int, cout: int, stride: int, dilation: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv_bn_relu(cin, width, 1),
            nn.Conv2d(width, width, 3, stride, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.shortcut: nn.Module = nn.Identity()
        if cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )
        elif stride != 1:
            self.shortcut = Subsample(stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class Head(nn.Module):
    """conv ``kernel`` x ``kernel`` + BN + ReLU, then a 1x1 prediction with bias."""

    def __init__(self, cin: int, width: int, cout: int, kernel: int = 3) -> None:
        super().__init__()
        self.project = _conv_bn_relu(cin, width, kernel)
        self.predict = nn.Conv2d(width, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.predict(self.project(x))


def coordinate_grid(features: torch.Tensor) -> torch.Tensor:
    """``(B, 2, h, w)``: x (column) then y (row), each from -1 to 1 across the map."""
    b, _, h, w = features.shape
    ys = torch.linspace(-1.0, 1.0, h, dtype=features.dtype, device=features.device)
    xs = torch.linspace(-1.0, 1.0, w, dtype=features.dtype, device=features.device)
    grid = torch.stack([xs.view(1, w).expand(h, w), ys.view(h, 1).expand(h, w)], dim=0)  # (2, h, w)
    return grid.unsqueeze(0).expand(b, 2, h, w)


class DetNet(nn.Module):
    """Heatmaps, delta maps and location maps of 21 hand joints (see the module doc).

    ``forward`` returns ``(heatmaps (B, J, M, M) in [0, 1], delta (B, J, 3, M, M),
    location (B, J, 3, M, M))``; location maps are root-relative 3D joints in units of
    the wrist-to-middle-MCP length (:mod:`handhdr.shpe.targets`). The buffer
    ``reference_bone_mm`` is the prior bone length that turns them into millimetres.
    """

    def __init__(self, config: DetNetConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or DetNetConfig()
        _ = config.map_size  # validates the input size
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("reference_bone_mm", torch.tensor(DEFAULT_REFERENCE_BONE_MM))
        self.stem = _conv_bn_relu(3, config.stem_channels, config.stem_kernel, stride=2)
        units: list[nn.Module] = []
        cin = config.stem_channels
        for block in config.blocks:
            for k in range(block.units):
                stride = block.stride if k == block.units - 1 else 1
                units.append(Bottleneck(cin, block.width, block.out, stride, block.dilation))
                cin = block.out
        self.trunk = nn.Sequential(*units)
        self.squeeze = _conv_bn_relu(cin, config.squeeze_channels, config.squeeze_kernel)
        j, c = config.num_joints, config.squeeze_channels + 2
        w, k = config.head_channels, config.head_kernel
        self.heatmap_head = Head(c, w, j, k)
        self.delta_head = Head(c + j, w, 3 * j, k)
        self.location_head = Head(c + 4 * j, w, 3 * j, k)
        # start the heatmaps near their mean target (a Gaussian's share of the map, about
        # 1%) instead of sigmoid(0) = 0.5 everywhere: from scratch, the first hundreds of
        # steps would otherwise only learn to lower the background
        nn.init.constant_(self.heatmap_head.predict.bias, HEATMAP_PRIOR_LOGIT)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Trunk features with the coordinate grid: ``(B, squeeze + 2, M, M)``."""
        x = (images - self.mean) / self.std
        x = self.squeeze(self.trunk(self.stem(x)))
        return torch.cat([x, coordinate_grid(x)], dim=1)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        f = self.features(images)
        heatmaps = torch.sigmoid(self.heatmap_head(f))
        delta = self.delta_head(torch.cat([f, heatmaps], dim=1))
        location = self.location_head(torch.cat([f, heatmaps, delta], dim=1))
        b, j, m = heatmaps.shape[0], self.config.num_joints, heatmaps.shape[-1]
        return heatmaps, delta.view(b, j, 3, m, m), location.view(b, j, 3, m, m)


def regularized_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The weights of the L2 regulariser of eq. (5): every convolution kernel (not the
    biases, not the BN parameters), as TF-slim's ``weights_regularizer`` does."""
    return [m.weight for m in model.modules() if isinstance(m, nn.Conv2d)]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = [
    "DEFAULT_REFERENCE_BONE_MM",
    "BlockSpec",
    "DetNet",
    "DetNetConfig",
    "coordinate_grid",
    "count_parameters",
    "regularized_parameters",
]
