"""DetNet as a :class:`~handhdr.shpe.interface.SingleHandEstimator`.

Scale rule: DetNet's location maps give the wrist-relative 3D joints in units of the
wrist-to-middle-MCP length; millimetres = units x ``reference_bone_mm``, a prior.
The prior stored with trained weights is the mean wrist-to-middle-MCP length of the
hands the model was trained on (measured from their annotations when training
starts); an untrained model uses 89 mm, the built-in hand model's mean shape
(:data:`handhdr.shpe.detnet.DEFAULT_REFERENCE_BONE_MM`).

Confidence: the mean over the 21 joints of the heatmap maxima (sigmoid outputs).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from handhdr.joints import WRIST
from handhdr.shpe.interface import HandPoseResult, crops_as_float
from handhdr.shpe.runtime import DetNetRunner


def resize_crops(crops: np.ndarray, size: int) -> np.ndarray:
    """``(B, 3, S, S)`` float32 -> ``(B, 3, size, size)`` (area when shrinking, else bilinear)."""
    s = crops.shape[-1]
    if s == size:
        return crops
    interpolation = cv2.INTER_AREA if size < s else cv2.INTER_LINEAR
    out = np.empty((crops.shape[0], 3, size, size), np.float32)
    for i, crop in enumerate(crops):
        resized = cv2.resize(crop.transpose(1, 2, 0), (size, size), interpolation=interpolation)
        out[i] = resized.transpose(2, 0, 1)
    return out


class DetNetEstimator:
    """DetNet behind the single-hand estimator interface (any backend runner)."""

    name = "detnet"

    def __init__(
        self,
        runner: DetNetRunner,
        input_size: int,
        reference_bone_mm: float,
        batch_size: int = 16,
    ) -> None:
        if not reference_bone_mm > 0:
            raise ValueError(f"reference_bone_mm must be positive, got {reference_bone_mm}")
        self.runner = runner
        self.input_size = int(input_size)
        self.reference_bone_mm = float(reference_bone_mm)
        self.batch_size = int(batch_size)

    @property
    def scale_rule(self) -> str:
        return (
            f"location-map units x prior reference bone (wrist to middle MCP) of "
            f"{self.reference_bone_mm:.1f} mm"
        )

    def __call__(self, crops: Any) -> HandPoseResult:
        images = crops_as_float(crops)
        size = images.shape[-1]
        results = []
        for start in range(0, len(images), self.batch_size):
            batch = resize_crops(images[start : start + self.batch_size], self.input_size)
            uv, xyz, peak = self.runner(batch)
            joints_2d = (uv + 0.5) * (size / self.input_size) - 0.5
            joints_3d = (xyz - xyz[:, WRIST : WRIST + 1]) * self.reference_bone_mm
            results.append(HandPoseResult(joints_2d, joints_3d, peak.mean(axis=1)))
        if not results:
            return HandPoseResult.empty(0)
        return HandPoseResult.concatenate(results)


__all__ = ["DetNetEstimator", "resize_crops"]
