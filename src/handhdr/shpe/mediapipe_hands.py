"""MediaPipe Hands as an off-the-shelf :class:`~handhdr.shpe.interface.SingleHandEstimator`.

Needs the optional extra: ``pip install "handhdr[mediapipe]"`` (mediapipe 0.10.21,
the last release with the ``mediapipe.solutions.hands`` API and its bundled models;
it pins numpy < 2, which is why it is not a dependency). Mapping of its output:

* landmarks come in the MediaPipe order (wrist, then thumb, index, middle, ring,
  pinky, base to tip) and are reordered with :func:`handhdr.joints.convert_joints`;
* 2D: normalised image landmarks x the crop size, minus half a pixel (MediaPipe's
  0 is the crop's left edge, ours is the centre of its first pixel);
* 3D: the *world* landmarks (metres, x right, y down, origin near the hand centre)
  x 1000, minus the wrist. Scale rule: metric, from MediaPipe's own hand-size prior;
* confidence: the probability that the crop shows a right hand, from the handedness
  classifier. MediaPipe names handedness as if the image were mirrored (a selfie),
  so in our unmirrored right-hand crops a correct answer is its label ``"Left"``:
  confidence = score for ``"Left"``, 1 - score for ``"Right"``;
* no hand detected: confidence 0, the interface's "not found" joints.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from handhdr.joints import WRIST, convert_joints
from handhdr.shpe.interface import HandPoseResult, crops_as_uint8

EXTRA_HINT = 'MediaPipe is an optional extra: pip install "handhdr[mediapipe]"'
# MediaPipe assumes a mirrored (selfie) image: a right hand in our crops is its "Left"
_RIGHT_HAND_LABEL = "Left"


def landmarks_to_pose(
    image_landmarks: np.ndarray,
    world_landmarks: np.ndarray,
    label: str,
    score: float,
    crop_size: int,
) -> tuple[np.ndarray, np.ndarray, float]:
    """One MediaPipe detection -> (joints_2d crop px, joints_3d mm wrist-relative,
    confidence), joints in the InterHand2.6M order.

    ``image_landmarks``: ``(21, 2|3)`` normalised x, y (z ignored); ``world_landmarks``:
    ``(21, 3)`` metres; ``label``/``score``: the handedness classification.
    """
    image_landmarks = np.asarray(image_landmarks, np.float64)
    world_landmarks = np.asarray(world_landmarks, np.float64)
    if image_landmarks.shape[0] != 21 or world_landmarks.shape != (21, 3):
        raise ValueError(
            f"expected 21 landmarks, got {image_landmarks.shape} and {world_landmarks.shape}"
        )
    if label not in ("Left", "Right"):
        raise ValueError(f"handedness label must be 'Left' or 'Right', got {label!r}")
    joints_2d = image_landmarks[:, :2] * crop_size - 0.5
    joints_3d = world_landmarks * 1000.0
    joints_2d = convert_joints(joints_2d, "mediapipe", "interhand")
    joints_3d = convert_joints(joints_3d, "mediapipe", "interhand")
    joints_3d = joints_3d - joints_3d[WRIST]
    confidence = float(score) if label == _RIGHT_HAND_LABEL else 1.0 - float(score)
    return joints_2d, joints_3d, float(np.clip(confidence, 0.0, 1.0))


def _points(landmark_list: Any, dims: int) -> np.ndarray:
    keys = ("x", "y", "z")[:dims]
    return np.array([[getattr(p, k) for k in keys] for p in landmark_list.landmark], np.float64)


class MediaPipeEstimator:
    """MediaPipe Hands (static images, one hand per crop) behind the SHPE interface."""

    name = "mediapipe"
    scale_rule = "metric: MediaPipe world landmarks (metres, its own hand-size prior) x 1000"

    def __init__(
        self,
        input_size: int = 256,
        model_complexity: int = 1,
        min_detection_confidence: float = 0.5,
        hands: Any | None = None,
    ) -> None:
        """``hands``: an object with MediaPipe's ``process(rgb) -> results`` (tests);
        by default ``mediapipe.solutions.hands.Hands`` is created."""
        self.input_size = int(input_size)
        if hands is None:
            try:
                import mediapipe as mp
            except ImportError as exc:
                raise ImportError(EXTRA_HINT) from exc
            hands = mp.solutions.hands.Hands(
                static_image_mode=True,
                max_num_hands=1,
                model_complexity=model_complexity,
                min_detection_confidence=min_detection_confidence,
            )
        self.hands = hands

    def __call__(self, crops: Any) -> HandPoseResult:
        images = crops_as_uint8(crops)
        size = images.shape[-1]
        result = HandPoseResult.empty(len(images), size)
        for i, image in enumerate(images):
            found = self.hands.process(np.ascontiguousarray(image.transpose(1, 2, 0)))
            if not getattr(found, "multi_hand_landmarks", None):
                continue
            world = found.multi_hand_world_landmarks
            if not world:
                continue
            classification = found.multi_handedness[0].classification[0]
            joints_2d, joints_3d, confidence = landmarks_to_pose(
                _points(found.multi_hand_landmarks[0], 2),
                _points(world[0], 3),
                classification.label,
                classification.score,
                size,
            )
            result.joints_2d[i], result.joints_3d[i] = joints_2d, joints_3d
            result.confidence[i] = max(confidence, 1e-6)  # found: never exactly 0
        return result

    def close(self) -> None:
        """Release MediaPipe's graph."""
        close = getattr(self.hands, "close", None)
        if close is not None:
            close()


__all__ = ["EXTRA_HINT", "MediaPipeEstimator", "landmarks_to_pose"]
