"""HASM as the pipeline uses it: coarse to fine, or a fine pass on a given region.

Without boxes, :class:`HASMSegmenter` is :class:`~handhdr.hasm.inference.HASMPredictor`
(coarse pass over the frame finds the two-hand region, fine pass segments it). With
``boxes`` (per hand ``(x, y, w, h)`` image pixels, e.g. from ground-truth joints: the
``--gt-boxes`` evaluation, as the reference cropped its test images) the coarse pass
is skipped: the region is the box of the union of the given boxes, made square and
enlarged by the weights' ``box_scale``, exactly as the coarse pass would have made it
from its masks. The masks still come from HASM (the per-hand crops from the boxes:
:mod:`handhdr.pipeline.core`).

Anything with a ``segment(image, boxes=None) -> Segmentation`` method can stand in
for HASM (tests use fixed masks). :func:`given_segmentation` wraps masks that come from
elsewhere (the ``--gt-masks`` evaluation's ground truth) so that HASM does not run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import numpy as np

from handhdr.hasm.inference import HASMPredictor, InferenceSettings, Segmentation
from handhdr.hasm.windows import Window, box_window, crop, paste
from handhdr.joints import HANDS

Boxes = Mapping[str, tuple[float, float, float, float]]
_OUTSIDE = -30.0  # logit where the fine pass did not look: "certainly no hand"


@runtime_checkable
class Segmenter(Protocol):
    """What the pipeline needs from HASM."""

    def segment(self, image: np.ndarray, boxes: Boxes | None = None) -> Segmentation:
        """``(4, H, W)`` masks and logits of an ``H x W x 3`` uint8 RGB image."""
        ...


def check_boxes(boxes: Boxes) -> dict[str, tuple[float, float, float, float]]:
    """Validate ``{"right"|"left": (x, y, w, h)}``; a clear ``ValueError`` otherwise."""
    out = {}
    for hand, box in boxes.items():
        if hand not in HANDS:
            raise ValueError(f"boxes are keyed 'right'/'left', got {hand!r}")
        values = tuple(float(v) for v in box)
        if len(values) != 4 or not all(math.isfinite(v) for v in values):
            raise ValueError(f"boxes[{hand!r}] must be 4 finite numbers (x, y, w, h), got {box}")
        if values[2] < 0 or values[3] < 0:
            raise ValueError(f"boxes[{hand!r}] has a negative width or height: {box}")
        out[hand] = values
    return out  # type: ignore[return-value]


def region_from_boxes(boxes: Boxes, scale: float, min_side: float) -> Window:
    """The square window around the union of ``(x, y, w, h)`` boxes, side x ``scale``."""
    checked = check_boxes(boxes)
    if not checked:
        raise ValueError("region_from_boxes needs at least one box")
    corners = np.array([(x, y, x + w, y + h) for x, y, w, h in checked.values()])
    union = (
        float(corners[:, 0].min()),
        float(corners[:, 1].min()),
        float(corners[:, 2].max()),
        float(corners[:, 3].max()),
    )
    return box_window(union, scale, min_side=min_side)


class HASMSegmenter:
    """A :class:`HASMPredictor` with the optional ``boxes`` region of the module doc."""

    def __init__(self, predictor: HASMPredictor) -> None:
        self.predictor = predictor

    @property
    def settings(self) -> InferenceSettings:
        """The HASM inference settings (sizes, ``box_scale``, threshold)."""
        return self.predictor.settings

    def segment(self, image: np.ndarray, boxes: Boxes | None = None) -> Segmentation:
        """Masks of ``image``; the region from ``boxes`` when given (and not empty)."""
        if not boxes:
            return self.predictor(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"expected an H x W x 3 uint8 RGB image, got {image.shape} {image.dtype}"
            )
        s = self.predictor.settings
        runner = self.predictor.runner
        h, w = image.shape[:2]
        region = region_from_boxes(boxes, s.box_scale, min_side=s.min_region * max(h, w))
        grid = runner(crop(image, region, s.size)[None])[0]
        logits = paste(grid, region, s.size, runner.stride, (h, w), fill=_OUTSIDE)
        return self.predictor.result(image, logits, region)


GIVEN_LOGIT = 30.0  # logit of a given mask's pixels: probability 1 (and -30 outside)


def given_segmentation(masks: np.ndarray, image_shape: tuple[int, ...]) -> Segmentation:
    """A :class:`Segmentation` of masks given instead of HASM's (oracle segmentation).

    ``masks``: ``(4, H, W)`` bool/0-1 in MASK_NAMES order at the image's size. The
    logits are +-:data:`GIVEN_LOGIT`, so each present hand's mask score is 1.
    """
    m = np.asarray(masks)
    h, w = int(image_shape[0]), int(image_shape[1])
    if m.shape != (4, h, w):
        raise ValueError(
            f"given masks must be (4, {h}, {w}) (right/left amodal/visible at the image's "
            f"size), got {m.shape}"
        )
    binary = m.astype(bool)
    logits = np.where(binary, GIVEN_LOGIT, -GIVEN_LOGIT).astype(np.float32)
    return Segmentation(masks=binary, logits=logits, region=None)


def as_segmenter(hasm: HASMPredictor | Segmenter) -> Segmenter:
    """Wrap a bare :class:`HASMPredictor`; anything with ``segment`` passes through."""
    if isinstance(hasm, HASMPredictor):
        return HASMSegmenter(hasm)
    if isinstance(hasm, Segmenter):
        return hasm
    raise TypeError(
        f"hasm must be a HASMPredictor or have segment(image, boxes), got {type(hasm).__name__}"
    )


__all__ = [
    "Boxes",
    "HASMSegmenter",
    "Segmenter",
    "as_segmenter",
    "check_boxes",
    "given_segmentation",
    "region_from_boxes",
]
