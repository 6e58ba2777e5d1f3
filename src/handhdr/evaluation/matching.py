"""Pair the lines of a predictions file with the rows of a ground-truth table.

The result holds the predictions as arrays aligned with the ground truth (row ``i``
is ``gt.file_names[i]``), plus what did not pair: ground-truth images without a line
(*missing*) and lines for images the ground truth does not have (*unknown*). Absent
hands are NaN here; :mod:`handhdr.evaluation.protocols` applies the scoring rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from handhdr.datasets.schema import GroundTruthTable
from handhdr.evaluation.predictions import ImagePrediction
from handhdr.joints import HAND_SLICES, HANDS

EXAMPLES = 5  # how many missing / unknown file names a report lists


class MatchError(ValueError):
    """The predictions and the ground truth do not fit together at all."""


@dataclass
class MatchedPredictions:
    """Predictions as arrays aligned with a :class:`GroundTruthTable`.

    ``joints_3d`` ``(N, 42, 3)`` and ``joints_2d`` ``(N, 42, 2)`` float32 are NaN where
    an image or a hand has no prediction (or a hand gives no such joints);
    ``predicted`` ``(N,)``: the image has a line; ``hands_predicted`` ``(N, 2)``: the
    line has the right / left hand; ``camera_frame`` ``(N,)``: the line's ``joints_3d``
    are in camera coordinates.
    """

    joints_3d: np.ndarray
    joints_2d: np.ndarray
    predicted: np.ndarray
    hands_predicted: np.ndarray
    camera_frame: np.ndarray
    unknown_count: int = 0
    unknown_examples: list[str] = field(default_factory=list)

    @property
    def missing_count(self) -> int:
        return int((~self.predicted).sum())


def match_predictions(
    gt: GroundTruthTable, predictions: Iterable[ImagePrediction], source: str = "predictions"
) -> MatchedPredictions:
    """Place each prediction on its ground-truth row by ``file_name``.

    Raises :class:`MatchError` when no line names a ground-truth image (naming
    ``source`` and an example of each side, since this is nearly always a path
    convention mismatch).
    """
    n = len(gt)
    joints_3d = np.full((n, 42, 3), np.nan, dtype=np.float32)
    joints_2d = np.full((n, 42, 2), np.nan, dtype=np.float32)
    predicted = np.zeros(n, dtype=bool)
    hands_predicted = np.zeros((n, 2), dtype=bool)
    camera_frame = np.zeros(n, dtype=bool)
    row_of = gt.index()
    unknown: list[str] = []
    unknown_count = 0
    for prediction in predictions:
        row = row_of.get(prediction.file_name)
        if row is None:
            unknown_count += 1
            if len(unknown) < EXAMPLES:
                unknown.append(prediction.file_name)
            continue
        predicted[row] = True
        camera_frame[row] = prediction.joints_3d_frame == "camera"
        for h, hand in enumerate(HANDS):
            hand_prediction = prediction.hands.get(hand)
            if hand_prediction is None:
                continue
            hands_predicted[row, h] = True
            if hand_prediction.joints_3d is not None:
                joints_3d[row, HAND_SLICES[hand]] = hand_prediction.joints_3d
            if hand_prediction.joints_2d is not None:
                joints_2d[row, HAND_SLICES[hand]] = hand_prediction.joints_2d
    if not predicted.any():
        example_gt = gt.file_names[0] if n else "(the ground truth is empty)"
        example_pred = unknown[0] if unknown else "(no lines)"
        raise MatchError(
            f"{source}: none of its {unknown_count} file_name values names an image of the "
            f"ground truth ({n} images); e.g. predicted {example_pred!r}, ground truth "
            f"{example_gt!r}. file_name must be the POSIX path relative to images/<split>/."
        )
    return MatchedPredictions(
        joints_3d=joints_3d,
        joints_2d=joints_2d,
        predicted=predicted,
        hands_predicted=hands_predicted,
        camera_frame=camera_frame,
        unknown_count=unknown_count,
        unknown_examples=unknown,
    )
