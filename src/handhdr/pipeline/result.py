"""What the pipeline returns for one image and one ablation, and its predictions line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from handhdr.crop import CropBox
from handhdr.evaluation.predictions import HandPrediction, ImagePrediction
from handhdr.joints import HANDS


@dataclass
class PipelineHand:
    """One found hand.

    ``joints_2d`` ``(21, 2)`` image pixels and ``joints_3d`` ``(21, 3)`` millimetres
    relative to the wrist, in the InterHand2.6M per-hand order, in the hand's own
    frame (a left hand is mirrored back); ``visible`` ``(21,)``: the joint lies in the
    hand's visible mask; ``box`` ``(x, y, w, h)``: tight box of the amodal mask;
    ``score`` = ``mask_score`` x ``pose_score`` (HASM's mean amodal probability over
    the mask, times the estimator's confidence), in [0, 1].
    """

    handedness: str
    joints_2d: np.ndarray
    joints_3d: np.ndarray
    visible: np.ndarray
    box: tuple[float, float, float, float]
    score: float
    mask_score: float = 1.0
    pose_score: float = 1.0
    crop_box: CropBox | None = None  # the HDRM / SHPE crop (mirrored for a left hand)

    def to_prediction(self) -> HandPrediction:
        """This hand as a line's hand object (joints, score, box, joint_visible)."""
        return HandPrediction(
            joints_3d=self.joints_3d,
            joints_2d=self.joints_2d,
            score=float(np.clip(self.score, 0.0, 1.0)),
            box=self.box,
            joint_visible=self.visible,
        )


@dataclass
class PipelineResult:
    """Everything the pipeline made of one image for one ablation.

    ``hands``: only the hands found (``{}``, one or both of ``right``/``left``).
    ``masks``: ``(4, H, W)`` bool, MASK_NAMES order, after the rules of
    :mod:`handhdr.pipeline.masks` (shared by all ablations of a call). ``region``:
    HASM's fine-pass window ``(x, y, w, h)`` (square), ``None`` when nothing was found.
    ``hdrm_input`` / ``hdrm_output``: per hand, the crop given to HDRNet and the crop
    SHPE saw (HDRNet's output; for ``shpe_only`` the input crop itself), ``(R, R, 3)``
    uint8, as the networks see them: left hands mirrored into right hands.
    """

    ablation: str
    hands: dict[str, PipelineHand]
    masks: np.ndarray
    region: tuple[float, float, float, float] | None
    hdrm_input: dict[str, np.ndarray] = field(default_factory=dict)
    hdrm_output: dict[str, np.ndarray] = field(default_factory=dict)

    def to_image_prediction(
        self, file_name: str, meta: dict[str, Any] | None = None
    ) -> ImagePrediction:
        """One line of the predictions file (root-relative joints; ``"hands": {}`` when
        no hand was found)."""
        hands = {h: self.hands[h].to_prediction() for h in HANDS if h in self.hands}
        return ImagePrediction(file_name=file_name, hands=hands, meta=dict(meta or {}))


__all__ = ["PipelineHand", "PipelineResult"]
