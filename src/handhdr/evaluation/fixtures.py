"""A stand-in pipeline that answers from the ground truth, for tests of the evaluation.

:class:`OraclePipeline` has the interface of ``handhdr.pipeline.HDRPipeline`` that
:mod:`handhdr.evaluation.pipeline_eval` uses (``predict``, ``timings``) and returns,
for each ablation, the ground-truth joints of every annotated hand scaled about the
wrist by a factor chosen per ablation (and, optionally, shifted). It recognises an
image by its pixels, so the images of the dataset must all differ. The numbers an
evaluation gives for it can then be computed by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from handhdr.evaluation.predictions import HandPrediction, ImagePrediction
from handhdr.joints import HAND_SLICES, HANDS, WRIST


def image_key(image: np.ndarray) -> str:
    """A digest of an image's shape and pixels."""
    image = np.ascontiguousarray(image)
    return hashlib.sha1(repr(image.shape).encode() + image.tobytes()).hexdigest()


@dataclass
class OracleHand:
    """One predicted hand of the oracle (the fields of a pipeline's hand result)."""

    joints_3d: np.ndarray  # (21, 3) mm, wrist-relative
    joints_2d: np.ndarray  # (21, 2) image pixels
    score: float = 1.0


@dataclass
class OracleResult:
    """One ablation's result for one image, as ``handhdr.pipeline.PipelineResult``."""

    hands: dict[str, OracleHand]

    def to_image_prediction(self, file_name: str) -> ImagePrediction:
        """The predictions-file line of this result."""
        return ImagePrediction(
            file_name,
            {
                hand: HandPrediction(joints_3d=h.joints_3d, joints_2d=h.joints_2d, score=h.score)
                for hand, h in self.hands.items()
            },
        )


class OraclePipeline:
    """Ground-truth answers per ablation: joints scaled by ``scales[ablation]`` about the
    wrist, plus ``shifts[ablation]`` (mm) on every joint but the wrist.

    ``images`` is a dataset reader whose items carry the image and the ground truth
    (``InterHandDataset``/``TzionasDataset`` with images). 3D joints are NaN-free zeros
    where the dataset has no 3D ground truth (Tzionas). ``calls`` lists the file name
    and boxes of every ``predict`` call, ``masks`` the masks given to it.
    """

    def __init__(
        self,
        images: object,
        scales: Mapping[str, float],
        shifts: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        self.scales = dict(scales)
        self.shifts = {k: np.asarray(v, np.float64) for k, v in (shifts or {}).items()}
        self.truth: dict[str, tuple[str, np.ndarray, np.ndarray, np.ndarray]] = {}
        for i in range(len(images)):  # type: ignore[arg-type]
            sample = images[i]  # type: ignore[index]
            key = image_key(sample.image)
            if key in self.truth:
                raise ValueError(
                    f"{sample.file_name} and {self.truth[key][0]} have the same pixels; "
                    "the oracle tells images apart by their pixels"
                )
            self.truth[key] = (
                sample.file_name,
                np.nan_to_num(np.asarray(sample.joints_cam, np.float64)),
                np.asarray(sample.joints_img, np.float64),
                np.asarray(sample.joint_valid, bool),
            )
        self.calls: list[tuple[str, dict | None]] = []
        self.masks: list[np.ndarray | None] = []  # the masks given to each call
        self.timings: dict[str, float] = {}

    def predict(
        self,
        image: np.ndarray,
        *,
        ablations: Sequence[str] = ("hdr",),
        boxes: dict[str, tuple[float, float, float, float]] | None = None,
        masks: np.ndarray | None = None,
    ) -> dict[str, OracleResult]:
        """Each ablation's answer for ``image`` (uint8 RGB ``H x W x 3``)."""
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an H x W x 3 uint8 image, got {image.shape} {image.dtype}")
        file_name, joints_cam, joints_img, valid = self.truth[image_key(image)]
        self.calls.append((file_name, boxes))
        self.masks.append(masks)
        out: dict[str, OracleResult] = {}
        for ablation in ablations:
            hands = {}
            for hand in HANDS:
                sl = HAND_SLICES[hand]
                if not valid[sl].any():
                    continue
                rel = joints_cam[sl] - joints_cam[sl][WRIST]
                rel = rel * self.scales[ablation]
                rel[:WRIST] += self.shifts.get(ablation, np.zeros(3))
                hands[hand] = OracleHand(rel, joints_img[sl].copy())
            out[ablation] = OracleResult(hands)
        self.timings = {"hasm": 1.0, "hdrm": 2.0, "shpe": 3.0, "total": 6.0}
        return out


__all__ = ["OracleHand", "OraclePipeline", "OracleResult", "image_key"]
