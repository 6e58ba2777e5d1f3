"""HASM network: a SegFormer (MiT) encoder and an all-MLP decoder with four mask heads.

The four heads predict, in :data:`handhdr.datasets.schema.MASK_NAMES` order, the right
amodal, right visible, left amodal and left visible masks. As in the reference
implementation, the per-stage 1x1 projections of the decoder are shared by the heads;
each head has its own fuse convolution (+ BatchNorm + ReLU), dropout and 2-class
classifier. Logits come out at 1/4 of the input resolution, as in SegFormer.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from handhdr.datasets.schema import MASK_NAMES

log = logging.getLogger(__name__)

NUM_MASKS = len(MASK_NAMES)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Mix Transformer sizes of the SegFormer paper. Every size shares the attention heads
# [1, 2, 5, 8], spatial-reduction ratios [8, 4, 2, 1], patch kernels [7, 3, 3, 3] and
# strides [4, 2, 2, 2] (the defaults of ``HASMConfig``).
MIT_VARIANTS: dict[str, dict[str, list[int]]] = {
    "b0": {"hidden_sizes": [32, 64, 160, 256], "depths": [2, 2, 2, 2]},
    "b1": {"hidden_sizes": [64, 128, 320, 512], "depths": [2, 2, 2, 2]},
    "b2": {"hidden_sizes": [64, 128, 320, 512], "depths": [3, 4, 6, 3]},
    "b3": {"hidden_sizes": [64, 128, 320, 512], "depths": [3, 4, 18, 3]},
    "b4": {"hidden_sizes": [64, 128, 320, 512], "depths": [3, 8, 27, 3]},
    "b5": {"hidden_sizes": [64, 128, 320, 512], "depths": [3, 6, 40, 3]},
}


@dataclass
class HASMConfig:
    """Architecture of a HASM network (what a weights file must describe to be rebuilt).

    ``variant`` picks a MiT size; ``hidden_sizes`` / ``depths`` (both or neither) replace
    the variant's for custom, e.g. tiny test, encoders.
    """

    variant: str = "b0"
    hidden_sizes: list[int] | None = None
    depths: list[int] | None = None
    num_attention_heads: list[int] = field(default_factory=lambda: [1, 2, 5, 8])
    sr_ratios: list[int] = field(default_factory=lambda: [8, 4, 2, 1])
    patch_sizes: list[int] = field(default_factory=lambda: [7, 3, 3, 3])
    strides: list[int] = field(default_factory=lambda: [4, 2, 2, 2])
    mlp_ratios: list[int] = field(default_factory=lambda: [4, 4, 4, 4])
    decoder_width: int = 256
    dropout: float = 0.1
    drop_path_rate: float = 0.1
    mean: list[float] = field(default_factory=lambda: list(IMAGENET_MEAN))
    std: list[float] = field(default_factory=lambda: list(IMAGENET_STD))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> HASMConfig:
        """Build from a plain mapping (a YAML ``model`` block or weights metadata)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown HASM model keys {unknown}; expected some of {sorted(known)}")
        return cls(
            **{k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in values.items()}
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping, JSON- and YAML-friendly."""
        return dataclasses.asdict(self)

    def encoder_dims(self) -> tuple[list[int], list[int]]:
        """The encoder's ``(hidden_sizes, depths)``, after the variant and custom sizes."""
        if (self.hidden_sizes is None) != (self.depths is None):
            raise ValueError("model.hidden_sizes and model.depths must be given together")
        if self.hidden_sizes is not None and self.depths is not None:
            return list(self.hidden_sizes), list(self.depths)
        if self.variant not in MIT_VARIANTS:
            raise ValueError(
                f"model.variant must be one of {sorted(MIT_VARIANTS)}, got {self.variant!r}"
            )
        v = MIT_VARIANTS[self.variant]
        return list(v["hidden_sizes"]), list(v["depths"])


def segformer_config(config: HASMConfig) -> Any:
    """The ``transformers.SegformerConfig`` of the encoder of ``config``."""
    from transformers import SegformerConfig

    hidden_sizes, depths = config.encoder_dims()
    per_stage = {
        "hidden_sizes": hidden_sizes,
        "depths": depths,
        "num_attention_heads": config.num_attention_heads,
        "sr_ratios": config.sr_ratios,
        "patch_sizes": config.patch_sizes,
        "strides": config.strides,
        "mlp_ratios": config.mlp_ratios,
    }
    for key, value in per_stage.items():
        if len(value) != 4:
            raise ValueError(f"model.{key} must have 4 entries (one per stage), got {value}")
    for size, heads in zip(hidden_sizes, config.num_attention_heads, strict=True):
        if size % heads:
            raise ValueError(
                f"model.hidden_sizes {hidden_sizes} must be divisible by "
                f"model.num_attention_heads {config.num_attention_heads}"
            )
    return SegformerConfig(
        num_encoder_blocks=4,
        drop_path_rate=config.drop_path_rate,
        decoder_hidden_size=config.decoder_width,
        **per_stage,
    )


class MaskHead(nn.Module):
    """One mask head: fuse conv + BatchNorm + ReLU, dropout, classifier (2 classes for a
    mask; other ``out_channels`` for per-pixel targets such as the chirality cues)."""

    def __init__(self, in_channels: int, width: int, dropout: float, out_channels: int = 2) -> None:
        super().__init__()
        self.fuse = nn.Sequential(
            nn.Conv2d(in_channels, width, kernel_size=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout2d(dropout)
        self.classifier = nn.Conv2d(width, out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.fuse(x)))


class AllMLPDecoder(nn.Module):
    """SegFormer's all-MLP decoder with shared per-stage projections and several heads."""

    def __init__(
        self, in_dims: Sequence[int], width: int, num_heads: int = NUM_MASKS, dropout: float = 0.1
    ) -> None:
        super().__init__()
        # a 1x1 convolution is the per-pixel linear layer (MLP) of the paper
        self.projections = nn.ModuleList(nn.Conv2d(d, width, kernel_size=1) for d in in_dims)
        self.heads = nn.ModuleList(
            MaskHead(width * len(in_dims), width, dropout) for _ in range(num_heads)
        )

    def fuse(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """Stage features (finest first) -> the concatenated projections every head reads,
        ``(B, width * stages, H/4, W/4)``."""
        size = features[0].shape[-2:]
        projected = [self.projections[0](features[0])]
        for proj, feat in zip(self.projections[1:], features[1:], strict=True):
            x = F.interpolate(proj(feat), size=size, mode="bilinear", align_corners=False)
            projected.append(x)
        return torch.cat(projected[::-1], dim=1)  # coarsest stage first, as in SegFormer

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """Stage features (finest first) -> logits ``(B, num_heads, 2, H/4, W/4)``."""
        return self.classify(self.fuse(features))

    def classify(self, fused: torch.Tensor) -> torch.Tensor:
        """Fused features -> logits ``(B, num_heads, 2, H/4, W/4)``."""
        return torch.stack([head(fused) for head in self.heads], dim=1)


class HASM(nn.Module):
    """Hand Amodal Segmentation Module: RGB in [0, 1] -> four 2-class logit maps."""

    def __init__(self, config: HASMConfig | None = None, encoder: nn.Module | None = None) -> None:
        super().__init__()
        from transformers import SegformerModel

        self.config = config or HASMConfig()
        self.encoder = (
            encoder if encoder is not None else SegformerModel(segformer_config(self.config))
        )
        hidden_sizes, _ = self.config.encoder_dims()
        self.decoder = AllMLPDecoder(
            hidden_sizes, self.config.decoder_width, NUM_MASKS, self.config.dropout
        )
        mean = torch.tensor(self.config.mean, dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(self.config.std, dtype=torch.float32).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The four encoder stage outputs, finest first, ``(B, C_i, H/2^(i+2), W/2^(i+2))``."""
        x = (images - self.mean) / self.std
        out = self.encoder(pixel_values=x, output_hidden_states=True)
        return list(out.hidden_states)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` RGB in [0, 1] -> logits ``(B, 4, 2, H/4, W/4)`` (MASK_NAMES order)."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images of shape (B, 3, H, W), got {tuple(images.shape)}")
        return self.decoder(self.features(images))

    def encoder_parameters(self) -> list[nn.Parameter]:
        """Parameters of the MiT encoder (the base learning rate)."""
        return list(self.encoder.parameters())

    def head_parameters(self) -> list[nn.Parameter]:
        """Parameters of the decoder (the head learning rate, x10 in the reference)."""
        return list(self.decoder.parameters())


def foreground_logits(logits: torch.Tensor) -> torch.Tensor:
    """``(B, 4, 2, h, w)`` 2-class logits -> ``(B, 4, h, w)`` foreground-minus-background.

    ``sigmoid`` of it is the softmax foreground probability; it is ``> 0`` exactly where
    the probability is ``> 0.5``, and, being linear in the logits, it can be resized
    bilinearly with the same result as resizing the two logits (what SegFormer does).
    """
    return logits[:, :, 1] - logits[:, :, 0]


def build_hasm(config: HASMConfig, pretrained: str | None = None) -> HASM:
    """A HASM network; the encoder starts from ``pretrained`` MiT weights when given.

    ``pretrained`` is a local folder saved with ``save_pretrained`` or a Hugging Face
    model id (e.g. ``nvidia/mit-b0``). When it cannot be loaded (no network, no such
    folder) the encoder starts from random weights and the log says so.
    """
    encoder = load_pretrained_encoder(pretrained, config) if pretrained else None
    if encoder is None:
        log.info("HASM encoder: random initialisation (no pretrained MiT weights)")
    return HASM(config, encoder=encoder)


def load_pretrained_encoder(source: str, config: HASMConfig) -> nn.Module | None:
    """MiT encoder weights from ``source``, or ``None`` (with a warning) when unavailable."""
    from transformers import SegformerModel

    try:
        encoder = SegformerModel.from_pretrained(source, drop_path_rate=config.drop_path_rate)
    except (OSError, ValueError) as exc:
        log.warning(
            "HASM encoder: could not load pretrained MiT weights from %r (%s); "
            "using random initialisation",
            source,
            str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        )
        return None
    hidden_sizes, depths = config.encoder_dims()
    got = (list(encoder.config.hidden_sizes), list(encoder.config.depths))
    if got != (hidden_sizes, depths):
        raise ValueError(
            f"pretrained encoder {source!r} has hidden_sizes/depths {got}, but the model "
            f"config asks for {(hidden_sizes, depths)} (set model.variant to match)"
        )
    log.info("HASM encoder: pretrained MiT weights from %r", source)
    return encoder


def count_parameters(module: nn.Module) -> int:
    """Number of parameters of ``module``."""
    return sum(p.numel() for p in module.parameters())
