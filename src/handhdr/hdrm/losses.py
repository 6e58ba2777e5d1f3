"""HDRM losses: equation (4) of the paper, with the terms it names.

``L_HDR = λ1 L_adv + λ2 L_l1 + λ3 L_perc + λ4 L_style`` (eq. 4), paper weights
λ1 = 0.1, λ2 = 3.0, λ3 = 0.1, λ4 = 250 (Sec. 4), computed in :func:`hdr_loss`.

* ``L_l1`` is three terms (Liu et al.'s hole/valid split, extended to the two holes):
  the mean absolute error of the raw output inside ``M_D``, inside ``M_R`` and in
  the valid region ``1 - (M_D ∪ M_R)``, each averaged over the pixels of its region
  (pooled over the batch; 0 when the region is empty). The published reference
  config does not say how λ2 is split (its weights do not match its loss keys), so
  we split λ2 = 3.0 equally: weight 1.0 per term.
* ``L_adv`` is the non-saturating GAN loss: the generator minimises
  ``-log D(I_o)`` instead of ``log(1 - D(I_o))``; the discriminator minimises
  ``-log D(I_o*) - log(1 - D(I_o))``. ``I_o`` is the composite.
* ``L_perc`` and ``L_style`` (Liu et al.) compare VGG16 features at pool1, pool2 and
  pool3 of the raw output and of the composite with those of the ground truth: L1 of
  the features, and L1 of their Gram matrices normalised by C*H*W. They need a VGG16
  ImageNet weights file from the user (torchvision's state-dict layout); without one
  they are off, and :func:`load_vgg16_features` callers log that.
* a total-variation term on the composite (weight 0.1 as in Liu et al.; the paper
  names none), the mean absolute difference of neighbouring pixels; only the
  erased pixels carry a gradient.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

# torchvision's vgg16().features: conv indices up to pool3 and the pool indices
VGG16_LAYOUT: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M")
VGG16_CONV_INDICES: tuple[int, ...] = (0, 2, 5, 7, 10, 12, 14)
VGG16_POOL_INDICES: tuple[int, ...] = (4, 9, 16)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class LossWeights:
    """Weights of the terms of eq. (4); the paper's values by default."""

    adversarial: float = 0.1  # λ1
    l1_deocclusion: float = 1.0  # λ2 = 3.0, split equally over the three L1 terms
    l1_removal: float = 1.0
    l1_valid: float = 1.0
    perceptual: float = 0.1  # λ3
    style: float = 250.0  # λ4
    tv: float = 0.1  # Liu et al.'s weight; the paper gives none

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LossWeights:
        """Build from a config mapping; unknown keys are errors."""
        names = {f.name for f in fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown loss weights {sorted(unknown)}; known: {sorted(names)}")
        return cls(**{k: float(v) for k, v in values.items()})

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def hdr_loss(terms: dict[str, torch.Tensor], weights: LossWeights) -> torch.Tensor:
    """Equation (4): the weighted sum of the generator's loss terms.

    ``L_HDR = λ1 L_adv + λ2 L_l1 + λ3 L_perc + λ4 L_style`` plus total variation,
    with ``λ2 L_l1`` = the three weighted L1 terms. A term missing from ``terms``
    (no discriminator, no VGG16 weights) counts as 0.
    """
    parts = [w * terms[name] for name, w in asdict(weights).items() if name in terms and w != 0]
    if not parts:
        raise ValueError(f"no weighted loss term among {sorted(terms)}")
    return torch.stack(parts).sum()


def region_l1(output: torch.Tensor, target: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over the pixels (and channels) of ``region`` ``(B, 1, H, W)``."""
    error = ((output - target).abs() * region).sum()
    count = region.sum() * output.shape[1]
    return error / count.clamp(min=1.0)


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W)`` -> ``(B, C, C)`` Gram matrices normalised by C*H*W."""
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of horizontally and vertically neighbouring pixels."""
    dx = (image[..., :, 1:] - image[..., :, :-1]).abs().mean()
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean()
    return dx + dy


def generator_adversarial_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss ``-log D(fake)``."""
    return F.softplus(-fake_logits).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """``-log D(real) - log(1 - D(fake))``, from logits."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


class VGG16Features(nn.Module):
    """VGG16's convolutional layers up to pool3, in torchvision's state-dict layout.

    Takes RGB images in [0, 1] (ImageNet normalisation inside) and returns the
    pool1, pool2 and pool3 feature maps. Frozen.
    """

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for item in VGG16_LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, int(item), 3, padding=1), nn.ReLU(inplace=True)]
                cin = int(item)
        self.features = nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGG16Features:
        return super().train(False)  # always frozen

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = (image - self.mean) / self.std
        out = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in VGG16_POOL_INDICES:
                out.append(x)
        return out


def load_vgg16_features(path: str | os.PathLike[str]) -> VGG16Features:
    """VGG16 feature layers from a local torchvision-layout weights file.

    ``.safetensors`` files are read with safetensors; anything else with
    ``torch.load(weights_only=True)``. Keys ``features.<i>.weight`` / ``.bias`` for
    the convolutions up to pool3 are required; other keys (deeper layers, the
    classifier) are ignored.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such VGG16 weights file")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(p))
    else:
        try:
            state = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(f"{p}: not a readable torch weights file ({exc})") from exc
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{p}: expected a state dict of tensors, got {type(state).__name__}")
    model = VGG16Features()
    wanted = model.features.state_dict()
    picked = {}
    for key, reference in wanted.items():
        full = f"features.{key}"
        if full not in state:
            raise ValueError(
                f"{p}: key {full!r} is missing (expected torchvision's vgg16 layout, "
                f"'features.0.weight' ... 'features.14.bias')"
            )
        tensor = state[full]
        if not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != tuple(reference.shape):
            shape = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor)
            raise ValueError(f"{p}: {full!r} has shape {shape}, expected {tuple(reference.shape)}")
        picked[key] = tensor.float()
    model.features.load_state_dict(picked)
    return model


class HDRLossTerms(nn.Module):
    """Computes the unweighted terms of eq. (4) for one batch."""

    def __init__(self, vgg: VGG16Features | None = None) -> None:
        super().__init__()
        self.vgg = vgg

    def forward(
        self,
        raw: torch.Tensor,
        composite: torch.Tensor,
        target: torch.Tensor,
        m_d: torch.Tensor,
        m_r: torch.Tensor,
        fake_logits: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Terms keyed like :class:`LossWeights`; images ``(B, 3, H, W)`` in [0, 1]."""
        valid = 1 - torch.maximum(m_d, m_r)
        terms = {
            "l1_deocclusion": region_l1(raw, target, m_d),
            "l1_removal": region_l1(raw, target, m_r),
            "l1_valid": region_l1(raw, target, valid),
            "tv": total_variation(composite),
        }
        if fake_logits is not None:
            terms["adversarial"] = generator_adversarial_loss(fake_logits)
        if self.vgg is not None:
            with torch.no_grad():
                feats_gt = self.vgg(target)
            perceptual = raw.new_zeros(())
            style = raw.new_zeros(())
            for image in (raw, composite):
                for f, g in zip(self.vgg(image), feats_gt, strict=True):
                    perceptual = perceptual + (f - g).abs().mean()
                    style = style + (gram_matrix(f) - gram_matrix(g)).abs().mean()
            terms["perceptual"] = perceptual
            terms["style"] = style
        return terms
