"""The single-hand pose estimator (SHPE) interface: the only thing the pipeline talks to.

The HDR claim is that de-occlusion and removal help *any* off-the-shelf single-hand
estimator, so an estimator is a small object with this contract:

**Input** -- a batch of RIGHT-hand crops (left hands are mirrored before, see
:mod:`handhdr.shpe.hands`), RGB, channels first, ``(B, 3, S, S)``, as a numpy array
or a torch tensor, either ``uint8`` (0-255) or floating point in ``[0, 1]``. ``S`` may
be anything; :attr:`SingleHandEstimator.input_size` is the side the estimator works
at, and the pipeline crops at that size to avoid a resize.

**Output** -- a :class:`HandPoseResult` with, per crop, 21 joints in the InterHand2.6M
per-hand order (:data:`handhdr.joints.INTERHAND_NAMES`: thumb tip ... pinky 1, wrist
last), whatever order the estimator uses inside:

* ``joints_2d`` ``(B, 21, 2)``: pixels of the given crop (x right, y down, pixel
  ``i`` centred at ``i``, as :mod:`handhdr.crop`);
* ``joints_3d`` ``(B, 21, 3)``: millimetres, relative to the wrist, axes of the
  camera (x right, y down, z forward) of the mirrored crop; the estimator's
  :attr:`SingleHandEstimator.scale_rule` says how it got millimetres (e.g. a prior
  reference-bone length, or metric world coordinates);
* ``confidence`` ``(B,)`` in ``[0, 1]``. A crop in which the estimator found no hand
  has confidence 0, its 3D joints all at the wrist (zeros) and its 2D joints at the
  crop centre -- what the evaluation scores a missed hand as.

Evaluation can replace the scale by the ground-truth one (:func:`rescale_to_bone`,
the reference's rule): scale the prediction so that its wrist-to-middle-MCP length
equals the ground truth's.

Adding an estimator is one class with ``name``, ``input_size``, ``scale_rule`` and
``__call__``; see :class:`handhdr.shpe.estimator.DetNetEstimator` and
:class:`handhdr.shpe.mediapipe_hands.MediaPipeEstimator`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from handhdr.joints import MIDDLE_MCP, NUM_HAND_JOINTS, WRIST

_FLOAT_SLACK = 1e-3  # float crops may leave [0, 1] by rounding error, not more


@dataclass
class HandPoseResult:
    """What an estimator returns for a batch of ``B`` crops (see the module doc)."""

    joints_2d: np.ndarray  # (B, 21, 2) float32, crop pixels
    joints_3d: np.ndarray  # (B, 21, 3) float32, mm, wrist-relative
    confidence: np.ndarray  # (B,) float32 in [0, 1]

    def __post_init__(self) -> None:
        self.joints_2d = np.asarray(self.joints_2d, dtype=np.float32)
        self.joints_3d = np.asarray(self.joints_3d, dtype=np.float32)
        self.confidence = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        b = self.confidence.shape[0]
        if self.joints_2d.shape != (b, NUM_HAND_JOINTS, 2):
            raise ValueError(f"joints_2d must be ({b}, 21, 2), got {self.joints_2d.shape}")
        if self.joints_3d.shape != (b, NUM_HAND_JOINTS, 3):
            raise ValueError(f"joints_3d must be ({b}, 21, 3), got {self.joints_3d.shape}")

    def __len__(self) -> int:
        return int(self.confidence.shape[0])

    @property
    def found(self) -> np.ndarray:
        """``(B,)`` bool: whether the estimator found a hand in each crop."""
        return self.confidence > 0

    @classmethod
    def concatenate(cls, results: list[HandPoseResult]) -> HandPoseResult:
        """One result from the results of consecutive batches."""
        if not results:
            return cls.empty(0)
        return cls(
            np.concatenate([r.joints_2d for r in results]),
            np.concatenate([r.joints_3d for r in results]),
            np.concatenate([r.confidence for r in results]),
        )

    @classmethod
    def empty(cls, batch: int, crop_size: int = 0) -> HandPoseResult:
        """``batch`` crops in which no hand was found (see the module doc)."""
        centre = (crop_size - 1) / 2 if crop_size else 0.0
        return cls(
            np.full((batch, NUM_HAND_JOINTS, 2), centre, np.float32),
            np.zeros((batch, NUM_HAND_JOINTS, 3), np.float32),
            np.zeros(batch, np.float32),
        )


@runtime_checkable
class SingleHandEstimator(Protocol):
    """A 3D single-hand pose estimator on right-hand crops (see the module doc)."""

    name: str  # short identifier, e.g. "detnet" or "mediapipe"
    input_size: int  # the crop side it works at (others are resized)
    scale_rule: str  # how 3D joints get their millimetres, in words

    def __call__(self, crops: Any) -> HandPoseResult:
        """``(B, 3, S, S)`` uint8 or [0, 1] float crops -> per-crop joints and confidence."""
        ...


def crops_as_float(crops: Any) -> np.ndarray:
    """Validate a batch of crops and return it as ``(B, 3, S, S)`` float32 in ``[0, 1]``.

    Accepts numpy arrays and torch tensors, ``uint8`` (divided by 255) or floating
    point in ``[0, 1]`` (rounding slack clipped). Anything else -- including float images
    in 0-255 -- is a ``ValueError`` that says what was expected.
    """
    if hasattr(crops, "detach"):  # a torch tensor, without importing torch here
        crops = crops.detach().cpu().numpy()
    crops = np.asarray(crops)
    if crops.ndim != 4 or crops.shape[1] != 3 or crops.shape[2] != crops.shape[3]:
        raise ValueError(f"expected crops of shape (B, 3, S, S), got {crops.shape}")
    if crops.dtype == np.uint8:
        return crops.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(crops.dtype, np.floating):
        raise ValueError(f"crops must be uint8 or floating point in [0, 1], got {crops.dtype}")
    if not np.isfinite(crops).all():
        raise ValueError("crops contain NaN or infinite values")
    if crops.size and (crops.min() < -_FLOAT_SLACK or crops.max() > 1.0 + _FLOAT_SLACK):
        raise ValueError(
            f"float crops must be in [0, 1], got values in [{crops.min():.3g}, "
            f"{crops.max():.3g}]; pass uint8 for 0-255 images"
        )
    return np.clip(crops, 0.0, 1.0).astype(np.float32, copy=False)


def crops_as_uint8(crops: Any) -> np.ndarray:
    """Validate a batch of crops and return it as ``(B, 3, S, S)`` uint8."""
    if hasattr(crops, "detach"):
        crops = crops.detach().cpu().numpy()
    crops = np.asarray(crops)
    if crops.dtype == np.uint8:
        crops_as_float(crops[:0])  # shape check only
        return crops
    return np.round(crops_as_float(crops) * 255.0).astype(np.uint8)


def reference_bone_length(joints_3d: np.ndarray) -> np.ndarray:
    """Wrist-to-middle-MCP length ``(...)`` of ``(..., 21, 3)`` joints (joints 20-11)."""
    joints_3d = np.asarray(joints_3d, dtype=np.float64)
    return np.linalg.norm(joints_3d[..., MIDDLE_MCP, :] - joints_3d[..., WRIST, :], axis=-1)


def rescale_to_bone(joints_3d: np.ndarray, bone_mm: np.ndarray | float) -> np.ndarray:
    """Wrist-relative joints ``(..., 21, 3)`` scaled so that their wrist-to-middle-MCP
    length is ``bone_mm`` (the reference's evaluation rule). A prediction whose bone
    has zero length (a missed hand) stays as it is."""
    joints_3d = np.asarray(joints_3d, dtype=np.float64)
    rooted = joints_3d - joints_3d[..., WRIST : WRIST + 1, :]
    own = reference_bone_length(rooted)
    target = np.broadcast_to(np.asarray(bone_mm, dtype=np.float64), own.shape)
    scale = np.where(own > 0, target / np.where(own > 0, own, 1.0), 1.0)
    return rooted * scale[..., None, None]


__all__ = [
    "HandPoseResult",
    "SingleHandEstimator",
    "crops_as_float",
    "crops_as_uint8",
    "reference_bone_length",
    "rescale_to_bone",
]
