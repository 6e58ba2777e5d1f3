"""De-occlusion and removal quality of HDRM against OpenCV's Telea inpainting.

Protocol (``handhdr eval-hdr``):

* ground-truth masks; both hands of every interacting-hand image (a hand whose
  amodal mask is empty is absent and skipped); the crop of each hand at the module
  resolution (box = amodal box x ``scale``, left hands mirrored), the ground truth
  (``hdr_gt``) cut with the same box;
* regions: the undilated ``M_D`` (de-occlusion) and ``M_R`` (removal) of equation
  (2) on the crop; every method's output is a uint8 image;
* ``psnr``: ``10 log10(255^2 / MSE)`` with the MSE pooled over every pixel and
  channel of the region across the whole split, on 0-255 values (MSE floored at
  1e-10, so a perfect result is finite);
* ``ssim``: the SSIM map (per channel, Gaussian window 11x11 with sigma 1.5, border
  reflected, C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2, averaged over the three
  channels) computed on the whole crop, then averaged over the region's pixels
  across the split;
* ``l1``: the mean absolute error over the region's pixels and channels, 0-255;
* ``telea``: ``cv2.inpaint(crop, M_D ∪ M_R, 5, cv2.INPAINT_TELEA)`` on the same crop.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from handhdr.datasets.schema import Sample
from handhdr.hdrm.data import HANDS, HandCrop, crop_hand, crop_regions

Inpainter = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (B,R,R,3) u8, (B,4,R,R) -> u8
REGIONS: tuple[str, str] = ("deocclusion", "removal")
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(H, W)`` SSIM map of two ``H x W x 3`` images on 0-255, channels averaged."""

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    x = a.astype(np.float64)
    y = b.astype(np.float64)
    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cxy = blur(x * y) - mx * my
    s = ((2 * mx * my + _C1) * (2 * cxy + _C2)) / ((mx * mx + my * my + _C1) * (vx + vy + _C2))
    return s.mean(axis=-1) if s.ndim == 3 else s


@dataclass
class RegionScore:
    """Sums over a region's pixels, pooled across the split."""

    squared_error: float = 0.0  # over pixels x channels
    absolute_error: float = 0.0
    values: int = 0  # pixels x channels
    ssim: float = 0.0  # over pixels
    pixels: int = 0

    def add(self, output: np.ndarray, target: np.ndarray, region: np.ndarray) -> None:
        """Add one crop: ``H x W x 3`` uint8 images, ``H x W`` bool region."""
        if not region.any():
            return
        diff = output.astype(np.float64)[region] - target.astype(np.float64)[region]
        self.squared_error += float((diff * diff).sum())
        self.absolute_error += float(np.abs(diff).sum())
        self.values += diff.size
        self.ssim += float(ssim_map(output, target)[region].sum())
        self.pixels += int(region.sum())

    def result(self) -> dict[str, float | int | None]:
        if self.pixels == 0:
            return {"psnr": None, "ssim": None, "l1": None, "pixels": 0}
        mse = self.squared_error / self.values
        return {
            "psnr": 10.0 * math.log10(255.0**2 / max(mse, 1e-10)),
            "ssim": self.ssim / self.pixels,
            "l1": self.absolute_error / self.values,
            "pixels": self.pixels,
        }


def telea_inpaint(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """OpenCV Telea inpainting (radius 5) of ``M_D ∪ M_R`` in each crop."""
    m_d, m_r = crop_regions(np.asarray(masks, dtype=bool))
    holes = ((m_d | m_r) * 255).astype(np.uint8)
    return np.stack(
        [
            cv2.inpaint(np.ascontiguousarray(im), h, 5, cv2.INPAINT_TELEA)
            for im, h in zip(images, holes, strict=True)
        ]
    )


class HDREvaluation:
    """Accumulates the scores of several methods on the same crops."""

    def __init__(self, methods: dict[str, Inpainter]) -> None:
        self.methods = methods
        self.scores = {name: {r: RegionScore() for r in REGIONS} for name in methods}
        self.images = 0
        self.hands = 0

    def add_crops(self, crops: list[HandCrop]) -> None:
        """Score every method on a batch of crops that carry their ground truth."""
        if not crops:
            return
        images = np.stack([c.image for c in crops])
        masks = np.stack([c.masks for c in crops])
        for name, method in self.methods.items():
            outputs = method(images, masks)
            for crop, output in zip(crops, outputs, strict=True):
                m_d, m_r = crop_regions(crop.masks)
                self.scores[name]["deocclusion"].add(output, crop.target, m_d)
                self.scores[name]["removal"].add(output, crop.target, m_r)
        self.hands += len(crops)

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            name: {region: s.result() for region, s in regions.items()}
            for name, regions in self.scores.items()
        }
        out["counts"] = {"images": self.images, "hands": self.hands}
        return out


def evaluate_hdr(
    samples: Iterable[Sample],
    methods: dict[str, Inpainter],
    resolution: int,
    scale: float = 2.0,
    batch_size: int = 16,
) -> dict[str, Any]:
    """Score ``methods`` on both hands of every interacting-hand sample (see the module
    docstring); samples of other hand types are passed over."""
    evaluation = HDREvaluation(methods)
    pending: list[HandCrop] = []
    for sample in samples:
        if sample.hand_type != "interacting":
            continue
        if sample.image is None or sample.masks is None:
            raise ValueError(
                f"{sample.image_path}: evaluation needs the image and the ground-truth masks "
                "(masks/{split}/ beside the dataset)"
            )
        evaluation.images += 1
        for hand in HANDS:
            target = sample.hdr_gt.get(hand)
            crop = crop_hand(sample.image, sample.masks, hand, resolution, scale, target)
            if crop is None:
                continue
            if target is None:
                raise ValueError(
                    f"{sample.image_path}: no de-occlusion/removal ground truth for the "
                    f"{hand} hand (hdr_gt/{{split}}/..._{hand}.png), whose amodal mask is "
                    "not empty"
                )
            pending.append(crop)
            if len(pending) >= batch_size:
                evaluation.add_crops(pending)
                pending = []
    evaluation.add_crops(pending)
    return evaluation.result()
