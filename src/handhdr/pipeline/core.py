"""The HDR pipeline: image -> HASM masks -> per-hand crops -> HDRM -> SHPE -> hands.

One :meth:`HDRPipeline.predict` call runs HASM once and shares its masks and crops
among all asked-for ablations; HDRNet runs once per weights file (all ablations and
hands of that file in one batch, each with its own switches), SHPE once per crop
size. Per hand (see :mod:`handhdr.pipeline.masks` for which hands exist):

1. crop: the square box of the hand's amodal mask x the HDRM weights' crop ``scale``
   (2, the paper's), at the HDRM resolution; a left hand is mirrored so that HDRM and
   SHPE only see right hands (:func:`handhdr.hdrm.data.crop_hand`);
2. HDRM de-occludes the hand and removes the other one (switches per ablation);
3. SHPE returns 21 joints in crop pixels and wrist-relative millimetres; the scale is
   the estimator's own inference rule (DetNet: location-map units x its prior
   reference bone, ``reference_bone_mm`` overrides the prior);
4. back to the image: 2D joints through the crop's inverse warp (mirror undone), 3D
   joints mirrored back through x = 0 for a left hand
   (:func:`handhdr.shpe.hands.from_right_hand`).

With ``boxes`` (the ``--gt-boxes`` evaluation: per hand the ``(x, y, w, h)`` box of
its ground-truth 2D joints, as the reference cropped its test images) the boxes take
the place of everything HASM's masks would otherwise locate: HASM's fine pass runs on
the square region around their union (no coarse pass), each hand's crop is the square
box of its given box x the crop scale (:func:`crop_from_box`, the geometry of
:func:`handhdr.crop.box_from_joints`), and only the hands that have a box are
reported. The masks still come from HASM: they feed HDRM (a hand without a box still
counts as the distractor) and a boxed hand whose amodal mask is empty is still absent.

With ``masks`` (the ``--gt-masks`` evaluation: the four ground-truth masks) HASM does
not run at all: the given masks take the place of its output (oracle segmentation,
which separates HASM's errors from HDRM's and SHPE's); every hand score is then the
pose confidence alone.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from handhdr.crop import crop_image, crop_masks, square_box
from handhdr.hasm.inference import HASMPredictor
from handhdr.hdrm.data import HandCrop, crop_hand
from handhdr.hdrm.masks import TARGET_DISTRACTOR_ORDER
from handhdr.hdrm.weights import HDRM
from handhdr.joints import HANDS
from handhdr.pipeline.ablations import SWITCHES, check_ablations, check_variant_names
from handhdr.pipeline.masks import (
    MIN_MASK_PIXELS,
    clean_masks,
    joint_visibility,
    mask_box,
    present_hands,
)
from handhdr.pipeline.result import PipelineHand, PipelineResult
from handhdr.pipeline.segment import (
    Boxes,
    Segmenter,
    as_segmenter,
    check_boxes,
    given_segmentation,
)
from handhdr.shpe.hands import from_right_hand
from handhdr.shpe.interface import HandPoseResult, SingleHandEstimator

_MAIN = ""  # key of the main HDRNet among the variants
DEFAULT_CROP_SCALE = 2.0  # crop scale without HDRNet (shpe_only pipelines): the paper's
MIN_BOX_SIDE = 16.0  # smallest crop side from a given box (image pixels), as box_from_joints


@dataclass
class _Job:
    """One (ablation, hand) crop on its way through HDRM and SHPE."""

    ablation: str
    hand: str
    crop: HandCrop
    shpe_input: np.ndarray | None = None  # (R, R, 3) uint8


class HDRPipeline:
    """HASM -> HDRM -> SHPE on RGB images; build with :meth:`load` or from runtimes.

    ``hasm``: a :class:`~handhdr.hasm.inference.HASMPredictor` or anything with
    ``segment(image, boxes)``; ``hdrm``: a :class:`~handhdr.hdrm.weights.HDRM` or
    ``None`` (then only ``shpe_only`` runs); ``shpe``: any single-hand estimator;
    ``hdrm_variants``: more HDRMs by ablation name (``no_transformer``, ...).
    ``timings`` holds the last call's milliseconds per stage.
    """

    def __init__(
        self,
        hasm: HASMPredictor | Segmenter,
        hdrm: HDRM | None,
        shpe: SingleHandEstimator,
        *,
        hdrm_variants: Mapping[str, HDRM] | None = None,
        min_mask_pixels: int = MIN_MASK_PIXELS,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(shpe, SingleHandEstimator):
            raise TypeError(
                f"shpe must follow the single-hand estimator interface, got {type(shpe).__name__}"
            )
        variants = dict(hdrm_variants or {})
        check_variant_names(variants)
        if min_mask_pixels < 1:
            raise ValueError(f"min_mask_pixels must be at least 1, got {min_mask_pixels}")
        self.hasm = as_segmenter(hasm)
        self.hdrm = hdrm
        self.shpe = shpe
        self.hdrm_variants = variants
        self.min_mask_pixels = int(min_mask_pixels)
        self.info: dict[str, Any] = dict(info or {})
        self.timings: dict[str, float] = {}

    @classmethod
    def load(
        cls,
        hasm: Any = "default",
        hdrm: Any = "default",
        shpe: Any = "default",
        *,
        backend: str = "torch",
        device: str = "cpu",
        threads: int | None = None,
        hdrm_variants: Mapping[str, str | os.PathLike[str]] | None = None,
        reference_bone_mm: float | None = None,
        min_mask_pixels: int = MIN_MASK_PIXELS,
    ) -> HDRPipeline:
        """A pipeline from weights specs (``default`` = shipped lite weights, a
        ``.safetensors`` file, a ``.ckpt`` for HASM/HDRM, an exported ``.onnx`` file
        with ``backend="onnx"``); ``hdrm=None`` for a pipeline without HDRNet; ``shpe``
        may be ``"mediapipe"`` or an estimator object. Missing shipped files are
        reported together, with the commands that make them."""
        from handhdr.pipeline.loading import (
            MissingWeightsError,
            check_backend,
            load_inpainter,
            load_pose_estimator,
            load_segmenter,
            missing_shipped,
        )

        check_backend(backend, device)
        variants = dict(hdrm_variants or {})
        check_variant_names(variants)
        specs = {"hasm": hasm, "hdrm": hdrm if hdrm is not None else "none", "shpe": shpe}
        missing = missing_shipped({k: v if isinstance(v, str) else "" for k, v in specs.items()})
        if missing:
            raise MissingWeightsError(missing)
        options = {"backend": backend, "device": device, "threads": threads}
        segmenter = hasm if _is_runtime(hasm) else load_segmenter(hasm, **options)
        inpainter = hdrm if hdrm is None or _is_runtime(hdrm) else load_inpainter(hdrm, **options)
        estimator = load_pose_estimator(shpe, reference_bone_mm=reference_bone_mm, **options)
        loaded = {name: load_inpainter(path, **options) for name, path in variants.items()}
        info = {
            "backend": backend,
            "device": device,
            "weights": {k: _describe(v) for k, v in specs.items()},
            "hdrm_variants": {k: str(v) for k, v in variants.items()},
            "estimator": getattr(estimator, "name", type(estimator).__name__),
        }
        return cls(
            segmenter,
            inpainter,
            estimator,
            hdrm_variants=loaded,
            min_mask_pixels=min_mask_pixels,
            info=info,
        )

    @property
    def ablations(self) -> tuple[str, ...]:
        """The ablation names :meth:`predict` accepts with this pipeline."""
        from handhdr.pipeline.ablations import ABLATIONS

        if self.hdrm is None:
            return ("shpe_only",)
        return (*ABLATIONS, *self.hdrm_variants)

    def predict(
        self,
        image: np.ndarray,
        *,
        ablations: Sequence[str] = ("hdr",),
        boxes: Boxes | None = None,
        masks: np.ndarray | None = None,
    ) -> dict[str, PipelineResult]:
        """Run the pipeline on one ``H x W x 3`` uint8 RGB image for each ablation.

        ``boxes`` (per hand ``(x, y, w, h)`` pixels; the ``--gt-boxes`` evaluation)
        replace HASM's coarse pass and the per-hand crop boxes, and limit the reported
        hands to those boxed; ``masks`` (``(4, H, W)``, MASK_NAMES order; the
        ``--gt-masks`` evaluation) replace HASM's output, so HASM does not run (module
        doc). Returns one :class:`PipelineResult` per ablation.
        """
        start = time.perf_counter()
        image = _check_image(image)
        names = check_ablations(ablations, self.hdrm_variants, self.hdrm is not None)
        checked = check_boxes(boxes) if boxes else None
        timings = {"hasm": 0.0, "hdrm": 0.0, "shpe": 0.0}

        tick = time.perf_counter()
        if masks is not None:
            segmentation = given_segmentation(masks, image.shape)
        else:
            segmentation = self.hasm.segment(image, checked)
        timings["hasm"] = _ms(tick)
        masks = clean_masks(segmentation.masks, self.min_mask_pixels)
        hands = present_hands(masks)
        if checked is not None:  # --gt-boxes: only the hands the boxes name
            hands = tuple(h for h in hands if h in checked)
        region = None
        if segmentation.region is not None:
            w = segmentation.region
            region = (float(w.x0), float(w.y0), float(w.side), float(w.side))

        jobs = self._jobs(image, masks, hands, names, checked)
        tick = time.perf_counter()
        self._run_hdrm(jobs)
        timings["hdrm"] = _ms(tick)
        tick = time.perf_counter()
        poses = self._run_shpe(jobs)
        timings["shpe"] = _ms(tick)

        scores = {h: _hand_score(segmentation.logits, masks, h) for h in hands}
        results = {
            name: PipelineResult(ablation=name, hands={}, masks=masks, region=region)
            for name in names
        }
        for job, pose in zip(jobs, poses, strict=True):
            result = results[job.ablation]
            result.hands[job.hand] = self._hand(job, pose, masks, scores[job.hand])
            result.hdrm_input[job.hand] = job.crop.image
            result.hdrm_output[job.hand] = job.shpe_input  # type: ignore[assignment]
        for result in results.values():  # right first, whatever order the jobs ran in
            result.hands = {h: result.hands[h] for h in HANDS if h in result.hands}
        timings["total"] = _ms(start)
        self.timings = timings
        return results

    # --- steps ---------------------------------------------------------------------

    def _network(self, ablation: str) -> tuple[str, HDRM | None]:
        if ablation in self.hdrm_variants:
            return ablation, self.hdrm_variants[ablation]
        if ablation == "shpe_only":
            return _MAIN, self.hdrm  # its crop (for the same boxes), never its network
        return _MAIN, self.hdrm

    def _crop_geometry(self, ablation: str) -> tuple[int, float]:
        _, net = self._network(ablation)
        if net is None:
            return int(self.shpe.input_size), DEFAULT_CROP_SCALE
        return int(net.resolution), float(net.crop.scale)

    def _jobs(
        self,
        image: np.ndarray,
        masks: np.ndarray,
        hands: tuple[str, ...],
        names: tuple[str, ...],
        boxes: Mapping[str, tuple[float, float, float, float]] | None,
    ) -> list[_Job]:
        cache: dict[tuple[str, int, float], HandCrop] = {}
        jobs = []
        for name in names:
            resolution, scale = self._crop_geometry(name)
            for hand in hands:
                key = (hand, resolution, scale)
                if key not in cache:
                    if boxes is not None:
                        crop = crop_from_box(image, masks, hand, boxes[hand], resolution, scale)
                    else:
                        crop = crop_hand(image, masks, hand, resolution, scale)
                    if crop is None:  # present_hands said otherwise: a bug, not an input
                        raise RuntimeError(f"{hand} hand has a mask but no crop box")
                    cache[key] = crop
                jobs.append(_Job(name, hand, cache[key]))
        return jobs

    def _run_hdrm(self, jobs: list[_Job]) -> None:
        groups: dict[str, list[_Job]] = defaultdict(list)
        for job in jobs:
            if job.ablation == "shpe_only":
                job.shpe_input = job.crop.image
            else:
                groups[self._network(job.ablation)[0]].append(job)
        for key, group in groups.items():
            net = self.hdrm if key == _MAIN else self.hdrm_variants[key]
            assert net is not None  # check_ablations refused HDRNet ablations without it
            images = np.stack([job.crop.image for job in group])
            crop_masks = np.stack([job.crop.masks for job in group])
            switches = np.array([SWITCHES.get(job.ablation, SWITCHES["hdr"]) for job in group])
            out = net(images, crop_masks, switches.astype(np.float32))
            for job, composite in zip(group, out, strict=True):
                job.shpe_input = composite

    def _run_shpe(self, jobs: list[_Job]) -> list[tuple[np.ndarray, np.ndarray, float]]:
        poses: list[Any] = [None] * len(jobs)
        by_size: dict[int, list[int]] = defaultdict(list)
        for i, job in enumerate(jobs):
            assert job.shpe_input is not None
            by_size[job.shpe_input.shape[0]].append(i)
        for indices in by_size.values():
            crops = np.stack([jobs[i].shpe_input for i in indices]).transpose(0, 3, 1, 2)
            result = self.shpe(np.ascontiguousarray(crops))
            if not isinstance(result, HandPoseResult) or len(result) != len(indices):
                raise RuntimeError(
                    f"the estimator {getattr(self.shpe, 'name', '?')!r} returned "
                    f"{type(result).__name__} for {len(indices)} crops"
                )
            for k, i in enumerate(indices):
                poses[i] = (result.joints_2d[k], result.joints_3d[k], float(result.confidence[k]))
        return poses

    def _hand(
        self,
        job: _Job,
        pose: tuple[np.ndarray, np.ndarray, float],
        masks: np.ndarray,
        hand_mask_score: float,
    ) -> PipelineHand:
        joints_2d, joints_3d, confidence = pose
        image_2d, own_3d = from_right_hand(joints_2d, joints_3d, job.crop.box, job.hand)
        k = HANDS.index(job.hand)
        pose_score = float(np.clip(confidence, 0.0, 1.0))
        return PipelineHand(
            handedness=job.hand,
            joints_2d=image_2d,
            joints_3d=own_3d,
            visible=joint_visibility(image_2d, masks[2 * k + 1]),
            box=mask_box(masks[2 * k]),
            score=hand_mask_score * pose_score,
            mask_score=hand_mask_score,
            pose_score=pose_score,
            crop_box=job.crop.box,
        )


def crop_from_box(
    image: np.ndarray,
    masks: np.ndarray,
    hand: str,
    box: tuple[float, float, float, float],
    resolution: int,
    scale: float,
) -> HandCrop:
    """The HDRM crop of ``hand`` around a given ``(x, y, w, h)`` box instead of its amodal
    mask: square, side ``scale`` x the longer side (at least 16 px), as
    :func:`handhdr.crop.box_from_joints` makes it; masks reordered target-first."""
    x, y, w, h = box
    crop_box = square_box(
        x, y, x + w, y + h, resolution, scale, flip=hand == "left", min_side=MIN_BOX_SIDE
    )
    order = list(TARGET_DISTRACTOR_ORDER[hand])
    return HandCrop(
        hand=hand,
        box=crop_box,
        image=crop_image(image, crop_box),
        masks=crop_masks(masks[order], crop_box),
    )


def _is_runtime(value: Any) -> bool:
    return value is not None and not isinstance(value, (str, os.PathLike))


def _describe(spec: Any) -> str:
    return str(spec) if isinstance(spec, (str, os.PathLike)) else type(spec).__name__


def _check_image(image: Any) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(
            f"expected an H x W x 3 uint8 RGB image, got shape {image.shape} {image.dtype} "
            "(handhdr.io.read_image converts grayscale, RGBA and 16-bit files)"
        )
    if min(image.shape[:2]) < 1:
        raise ValueError(f"the image has no pixels: shape {image.shape}")
    return np.ascontiguousarray(image)


def _hand_score(logits: np.ndarray, masks: np.ndarray, hand: str) -> float:
    """HASM's mean amodal probability over the hand's (cleaned) amodal mask."""
    k = HANDS.index(hand)
    inside = np.asarray(logits[2 * k][masks[2 * k]], np.float32)  # only the mask's pixels
    if inside.size == 0:
        return 0.0
    probability = 1.0 / (1.0 + np.exp(-np.clip(inside, -30.0, 30.0)))
    return float(np.clip(probability.mean(dtype=np.float64), 0.0, 1.0))


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


__all__ = ["DEFAULT_CROP_SCALE", "HDRPipeline"]
