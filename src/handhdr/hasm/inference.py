"""Segment both hands of any image, coarse to fine, at the image's own resolution.

1. *Coarse*: the whole frame, letterboxed to a square, is segmented at
   ``coarse_size``.
2. The two-hand region is the box of the union of the two predicted amodal masks,
   made square and enlarged by ``box_scale``.
3. *Fine*: that region is cropped and segmented at the module resolution ``size``;
   its result is pasted back into the frame (outside the region: no hand).

No ground truth is needed to crop. Zero, one or two hands are all valid results: a
hand that is not found has empty masks. A pixel belongs to a mask when the
probability is above ``threshold`` (0.5).

HASM weights trained side-invariantly (``side_invariant``: their two mask slots say
nothing about the side) come with a side classifier (:mod:`handhdr.hasm.side`) that
orders the slots, right then left, as the last step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from handhdr.hasm.runtime import HASMRunner
from handhdr.hasm.side import SideClassifier
from handhdr.hasm.windows import Window, box_window, crop, paste

# logit written where a pass did not look: "certainly no hand"
_OUTSIDE = -30.0


@dataclass
class InferenceSettings:
    """Sizes and margins of coarse-to-fine inference (stored with shipped weights)."""

    size: int = 256
    coarse_size: int | None = None  # None: the same as ``size``
    box_scale: float = 1.5
    min_region: float = 0.1  # smallest region side, as a fraction of the image's long side
    threshold: float = 0.5
    coarse_to_fine: bool = True
    side_invariant: bool = False  # set from the training loss; the slots need a side classifier

    @classmethod
    def from_dict(cls, values: dict) -> InferenceSettings:
        """From a config or metadata mapping; unknown keys are an error."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown inference keys {unknown}; expected some of {sorted(known)}")
        return cls(**values)


@dataclass
class Segmentation:
    """HASM result for one image: ``(4, H, W)`` masks and foreground logits."""

    masks: np.ndarray  # bool, MASK_NAMES order
    logits: np.ndarray  # float32; sigmoid() is the probability
    region: Window | None  # the fine-pass window, None when no hand was found

    @property
    def probabilities(self) -> np.ndarray:
        """Per-pixel foreground probability of each mask."""
        return 1.0 / (1.0 + np.exp(-self.logits))


class HASMPredictor:
    """Coarse-to-fine HASM inference on RGB uint8 images of any size."""

    def __init__(
        self,
        runner: HASMRunner,
        settings: InferenceSettings | None = None,
        sides: SideClassifier | None = None,
    ) -> None:
        self.runner = runner
        self.settings = settings or InferenceSettings()
        self.sides = sides
        s = self.settings
        if s.side_invariant and sides is None:
            raise ValueError(
                "these HASM weights were trained side-invariantly: they need a side "
                "classifier to tell right from left (handhdr train export ... --sides)"
            )
        for name, value in (("size", s.size), ("coarse_size", s.coarse_size or s.size)):
            if value % 32:
                raise ValueError(f"inference {name} must be a multiple of 32, got {value}")
        if not 0.0 < s.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {s.threshold}")
        self._logit_threshold = math.log(s.threshold / (1.0 - s.threshold))

    def _segment(self, image: np.ndarray, window: Window, size: int) -> np.ndarray:
        """Foreground logits ``(4, size/4, size/4)`` of one window of ``image``."""
        return self.runner(crop(image, window, size)[None])[0]

    def __call__(self, image: np.ndarray) -> Segmentation:
        """Segment ``image`` (``H x W x 3`` RGB uint8)."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"expected an H x W x 3 uint8 RGB image, got {image.shape} {image.dtype}"
            )
        s = self.settings
        h, w = image.shape[:2]
        stride = self.runner.stride
        coarse_size = s.coarse_size or s.size
        frame = Window.whole_image(h, w)
        coarse = self._segment(image, frame, coarse_size)
        amodal = (coarse[0] > self._logit_threshold) | (coarse[2] > self._logit_threshold)
        if not s.coarse_to_fine or not amodal.any():
            logits = paste(coarse, frame, coarse_size, stride, (h, w), fill=_OUTSIDE)
            return self.result(image, logits, None)
        rows = np.flatnonzero(amodal.any(axis=1))
        cols = np.flatnonzero(amodal.any(axis=0))
        # grid cell u covers input pixels [u*stride, (u+1)*stride), back to image pixels
        to_image = frame.side / coarse_size
        box = (
            frame.x0 + cols[0] * stride * to_image,
            frame.y0 + rows[0] * stride * to_image,
            frame.x0 + (cols[-1] + 1) * stride * to_image,
            frame.y0 + (rows[-1] + 1) * stride * to_image,
        )
        region = box_window(box, s.box_scale, min_side=s.min_region * max(h, w))
        fine = self._segment(image, region, s.size)
        logits = paste(fine, region, s.size, stride, (h, w), fill=_OUTSIDE)
        return self.result(image, logits, region)

    def result(self, image: np.ndarray, logits: np.ndarray, region: Window | None) -> Segmentation:
        """The :class:`Segmentation` of full-frame ``logits``; with a side classifier,
        its two slots are first put in right, left order."""
        masks = logits > self._logit_threshold
        if self.sides is not None and self.sides.exchange(image, masks):
            logits, masks = logits[[2, 3, 0, 1]], masks[[2, 3, 0, 1]]
        return Segmentation(masks=masks, logits=logits, region=region)
