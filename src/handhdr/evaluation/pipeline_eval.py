"""Evaluate the whole pipeline and its ablations on a dataset: ``handhdr eval --pipeline``.

For every image of a split the pipeline runs once per image for all ablations (HASM
once, then each ablation's HDRM/SHPE path), exactly as ``handhdr predict`` runs it:
the image is the only input, except with ``gt_boxes``, which hands the pipeline each
hand's box from the ground-truth 2D joints (the reference's cropping), and with
``gt_masks``, which hands it the four ground-truth masks in place of HASM's (oracle
segmentation: what HDRM and SHPE achieve when the masks are right). Each
ablation's lines go to ``OUT/predictions/<ablation>.jsonl`` through the
:class:`~handhdr.evaluation.predictions.PredictionsWriter` of ``handhdr predict``: a
line per image, flushed as soon as the image is done, into ``<ablation>.jsonl.partial``
until the run ends, so an interrupted run resumes where it stopped
(``OUT/predictions/run.json`` records the settings, and a resumed run with other
settings is refused).

Then every predictions file is scored *as written* (4 decimals, read back through
:func:`~handhdr.evaluation.run.evaluate_predictions`) and ``OUT/metrics.json`` holds,
per ablation, the ``official`` block of ``handhdr eval`` and an ``official_gt_scale``
block: the same protocol after each predicted hand is scaled to the ground truth's
wrist-to-middle-MCP length (joints 20-11 / 41-32), the reference's rule
(:func:`handhdr.shpe.interface.rescale_to_bone`). Tzionas has 2D joints only: its
block is ``epe_2d`` (the paper's Table 2 measure) and there is no gt-scale block.
``OUT/metrics.md`` lays the numbers out as the paper's Tables 3 and 5 (Table 2 for
Tzionas); ``OUT/ablations/<ablation>/`` holds each ablation's full ``handhdr eval``
report (every protocol).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from handhdr.datasets.schema import GroundTruthTable
from handhdr.evaluation.matching import match_predictions
from handhdr.evaluation.predictions import (
    HandPrediction,
    ImagePrediction,
    PredictionsWriter,
    iter_predictions,
)
from handhdr.evaluation.protocols import evaluate_interhand
from handhdr.evaluation.report import _fmt, _markdown_table, write_report
from handhdr.evaluation.run import evaluate_predictions, load_ground_truth, source_block
from handhdr.io import atomic_write_json, atomic_write_text
from handhdr.joints import HAND_SLICES, HANDS, MIDDLE_MCP_INDEX, ROOT_INDEX, WRIST
from handhdr.pipeline.ablations import ABLATIONS
from handhdr.shpe.interface import rescale_to_bone

# the pipeline's own ablations, in the paper's Table 5 order
BASE_ABLATIONS: tuple[str, ...] = ABLATIONS
LABELS: dict[str, str] = {
    "shpe_only": "SHPE only",
    "no_removal": "w/o Removal",
    "no_deocclusion": "w/o De-occlusion",
    "no_discriminator": "w/o Discriminator",
    "no_transformer": "w/o Transformer Block",
    "hdr": "full HDR",
}
PREDICTIONS_DIR = "predictions"
ABLATIONS_DIR = "ablations"
RUN_JSON = "run.json"
METRICS_JSON = "metrics.json"
METRICS_MD = "metrics.md"
# what must match for a run to resume into an existing predictions folder
RESUME_KEYS: tuple[str, ...] = (
    "dataset", "root", "split", "branch", "gt_boxes", "gt_masks", "backend", "weights",
    "ablations",
)  # fmt: skip


class PipelineEvalError(ValueError):
    """A pipeline evaluation that cannot run or resume; the message says why."""


class ResultLike(Protocol):
    """What an ablation's result must offer (``handhdr.pipeline.PipelineResult``)."""

    def to_image_prediction(self, file_name: str) -> ImagePrediction: ...


class PipelineLike(Protocol):
    """What the evaluation needs of a pipeline (``handhdr.pipeline.HDRPipeline``)."""

    def predict(
        self,
        image: np.ndarray,
        *,
        ablations: Sequence[str] = ("hdr",),
        boxes: dict[str, tuple[float, float, float, float]] | None = None,
        masks: np.ndarray | None = None,
    ) -> Mapping[str, ResultLike]: ...


def ablation_names(variants: Iterable[str] = ()) -> tuple[str, ...]:
    """The pipeline's ablations followed by the HDRM variants (e.g. ``no_transformer``)."""
    names = list(BASE_ABLATIONS)
    for name in variants:
        if name in names:
            raise PipelineEvalError(f"HDRM variant name {name!r} is already an ablation name")
        if not name or not all(c.isalnum() or c in "_-" for c in name):
            raise PipelineEvalError(
                f"HDRM variant name {name!r}: use letters, digits, '_' or '-' (it names a file)"
            )
        names.append(name)
    return tuple(names)


def gt_boxes(
    joints_img: np.ndarray, joint_valid: np.ndarray
) -> dict[str, tuple[float, float, float, float]]:
    """Each hand's ``(x, y, w, h)`` box of its valid ground-truth 2D joints (``--gt-boxes``).

    The tight box of the joints: the pipeline makes it square and scales it as it does
    an amodal mask's box (:func:`handhdr.crop.box_from_joints`). A hand without valid
    joints gets no box, so the pipeline does not look for it.
    """
    joints = np.asarray(joints_img, dtype=np.float64)
    valid = np.asarray(joint_valid, dtype=bool)
    boxes: dict[str, tuple[float, float, float, float]] = {}
    for hand in HANDS:
        sl = HAND_SLICES[hand]
        points = joints[sl][valid[sl] & np.isfinite(joints[sl]).all(axis=1)]
        if points.shape[0] == 0:
            continue
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        boxes[hand] = (float(x0), float(y0), float(x1 - x0), float(y1 - y0))
    return boxes


# --------------------------------------------------------------------------- images


def open_images(
    dataset: str,
    root: str | os.PathLike[str],
    split: str = "test",
    branch: str = "ALL",
    masks: bool = False,
) -> Any:
    """The dataset reader whose items carry the images (rows in ground-truth order),
    and with ``masks`` also the four ground-truth masks (``--gt-masks``)."""
    if dataset == "interhand":
        from handhdr.datasets.interhand import InterHandDataset

        return InterHandDataset(
            root, split, branch, load_images=True, load_masks=masks, load_hdr_gt=False
        )
    if masks:
        raise PipelineEvalError(f"--gt-masks: the {dataset} dataset has no ground-truth masks")
    if dataset == "tzionas":
        from handhdr.datasets.tzionas import TzionasDataset

        return TzionasDataset(root, load_images=True)
    raise PipelineEvalError(f"unknown dataset {dataset!r}; expected interhand or tzionas")


# --------------------------------------------------------------------------- files


def check_run_settings(folder: Path, settings: dict[str, Any]) -> None:
    """Record ``settings`` in ``folder/run.json``, or refuse to resume a run made with
    other settings (naming the differences)."""
    path = folder / RUN_JSON
    wanted = {k: settings.get(k) for k in RESUME_KEYS}
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
        different = [k for k in RESUME_KEYS if stored.get(k) != wanted[k]]
        if different:
            detail = "; ".join(f"{k}: {stored.get(k)!r} then, {wanted[k]!r} now" for k in different)
            raise PipelineEvalError(
                f"{folder} holds predictions made with other settings ({detail}); use "
                "another --out or delete that folder"
            )
        return
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, {**wanted, **settings})


@dataclass
class PredictionRun:
    """What :func:`predict_dataset` did."""

    images: int  # images the run covered (after max_images)
    predicted: int  # images the pipeline ran on in this call
    skipped: int  # images every ablation file already had
    timings_ms: dict[str, float] = field(default_factory=dict)  # mean per predicted image


def predict_dataset(
    pipe: PipelineLike,
    images: Any,
    folder: str | os.PathLike[str],
    ablations: Sequence[str],
    *,
    use_gt_boxes: bool = False,
    use_gt_masks: bool = False,
    max_images: int | None = None,
    progress: bool = False,
) -> PredictionRun:
    """Run ``pipe`` on the images of ``images`` (a dataset reader) for every ablation
    and write each ablation's lines to ``folder/<ablation>.jsonl`` (a
    :class:`~handhdr.evaluation.predictions.PredictionsWriter` that always resumes).

    Images already in every file are skipped; an image in some files only is run
    again and written only where it is missing. Only the image (and, with
    ``use_gt_boxes``, the boxes of :func:`gt_boxes`; with ``use_gt_masks``, the
    sample's four ground-truth masks) reaches the pipeline.
    """
    from tqdm import tqdm

    folder = Path(folder)
    n = len(images) if max_images is None else min(len(images), max_images)
    if n == 0:
        raise PipelineEvalError("the dataset has no images to predict")
    files = {name: PredictionsWriter(folder / f"{name}.jsonl", resume=True) for name in ablations}
    with contextlib.ExitStack() as stack:
        for file in files.values():
            stack.enter_context(file)
        names = images.file_names[:n]
        todo = [
            i for i, name in enumerate(names) if any(name not in f.done for f in files.values())
        ]
        sums: dict[str, float] = {}
        bar = stack.enter_context(
            tqdm(total=n, initial=n - len(todo), desc="pipeline", unit=" img", disable=not progress)
        )
        for i in todo:
            sample = images[i]
            boxes = gt_boxes(sample.joints_img, sample.joint_valid) if use_gt_boxes else None
            masks = None
            if use_gt_masks:
                masks = getattr(sample, "masks", None)
                if masks is None:
                    raise PipelineEvalError(
                        f"{sample.image_path}: --gt-masks needs this image's four masks "
                        "(masks/{split}/... beside the dataset; `handhdr render-masks` "
                        "makes them for InterHand2.6M)"
                    )
            results = pipe.predict(
                sample.image, ablations=tuple(ablations), boxes=boxes, masks=masks
            )
            for name, file in files.items():
                if name not in results:
                    raise PipelineEvalError(f"the pipeline returned no result for {name!r}")
                if sample.file_name not in file.done:
                    file.write(results[name].to_image_prediction(sample.file_name))
            for key, value in (getattr(pipe, "timings", None) or {}).items():
                sums[key] = sums.get(key, 0.0) + float(value)
            bar.update(1)
    means = {k: v / len(todo) for k, v in sums.items()} if todo else {}
    return PredictionRun(n, len(todo), n - len(todo), means)


# --------------------------------------------------------------------------- scoring


@dataclass
class GtScaleCounts:
    """Hands seen while rescaling to the ground-truth bone."""

    rescaled: int = 0
    no_gt_bone: int = 0  # ground-truth wrist or middle MCP not annotated: left as predicted
    unknown_image: int = 0  # lines for images the ground truth does not have


def gt_bone_lengths(gt: GroundTruthTable) -> np.ndarray:
    """``(N, 2)`` ground-truth wrist-to-middle-MCP lengths (right, left), mm; NaN where
    either joint is not annotated."""
    lengths = np.full((len(gt), 2), np.nan)
    for h, hand in enumerate(HANDS):
        wrist, mcp = ROOT_INDEX[hand], MIDDLE_MCP_INDEX[hand]
        bone = np.linalg.norm(
            np.asarray(gt.joints_cam[:, mcp], np.float64)
            - np.asarray(gt.joints_cam[:, wrist], np.float64),
            axis=-1,
        )
        ok = gt.joint_valid[:, wrist].astype(bool) & gt.joint_valid[:, mcp].astype(bool)
        lengths[ok, h] = bone[ok]
    return lengths


def rescale_to_gt(
    lines: Iterable[ImagePrediction], gt: GroundTruthTable, counts: GtScaleCounts | None = None
) -> Iterator[ImagePrediction]:
    """The lines with each hand's ``joints_3d`` scaled about its wrist so that its
    wrist-to-middle-MCP length is the ground truth's (the reference's evaluation rule).

    A hand whose ground-truth bone is not annotated, or whose predicted bone has zero
    length (a missed hand), stays as predicted; ``counts`` tallies the hands.
    """
    counts = counts if counts is not None else GtScaleCounts()
    row_of = gt.index()
    bones = gt_bone_lengths(gt)
    for line in lines:
        row = row_of.get(line.file_name)
        if row is None:
            counts.unknown_image += 1
            yield line
            continue
        hands: dict[str, HandPrediction] = {}
        for h, hand in enumerate(HANDS):
            pred = line.hands.get(hand)
            if pred is None:
                continue
            if pred.joints_3d is None or not np.isfinite(bones[row, h]):
                counts.no_gt_bone += pred.joints_3d is not None
                hands[hand] = pred
                continue
            joints = np.asarray(pred.joints_3d, np.float64)
            wrist = joints[WRIST]
            scaled = rescale_to_bone(joints, bones[row, h]) + wrist
            hands[hand] = HandPrediction(
                joints_3d=scaled,
                joints_2d=pred.joints_2d,
                score=pred.score,
                box=pred.box,
                joint_visible=pred.joint_visible,
            )
            counts.rescaled += 1
        yield ImagePrediction(line.file_name, hands, line.joints_3d_frame, line.meta)


def score_ablation(
    gt: GroundTruthTable, path: str | os.PathLike[str], dataset: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(summary block for metrics.json, full ``handhdr eval`` metrics) of one file."""
    full = evaluate_predictions(gt, path, dataset)  # type: ignore[arg-type]
    keep = ("official", "epe_2d") if dataset == "interhand" else ("epe_2d",)
    block: dict[str, Any] = {key: full[key] for key in keep}
    if dataset == "interhand":
        counts = GtScaleCounts()
        lines = rescale_to_gt(iter_predictions(path, require=("joints_3d",)), gt, counts)
        scaled = evaluate_interhand(gt, match_predictions(gt, lines, source=str(path)))
        block["official_gt_scale"] = scaled["official"]
        block["gt_scale_hands"] = {
            "rescaled": counts.rescaled,
            "left_as_predicted_no_gt_bone": counts.no_gt_bone,
        }
    block["handedness"] = full["handedness"]
    block["counts"] = full["counts"]
    return block, full


def relative_change(new: float | None, base: float | None) -> float | None:
    """``(new - base) / base``, or None when either is missing or base is 0."""
    if new is None or base is None or base == 0:
        return None
    return (new - base) / base


def reduction_block(metrics: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """Relative change of the full HDR's error vs SHPE only: IH MPJPE (InterHand2.6M,
    both protocols) or ALL 2D EPE (Tzionas). Negative = HDR reduces the error."""
    if "hdr" not in metrics or "shpe_only" not in metrics:
        return {}
    if dataset == "interhand":
        out: dict[str, Any] = {"measure": "mpjpe_ih"}
        for block in ("official", "official_gt_scale"):
            base = metrics["shpe_only"][block]["mpjpe_ih"]
            new = metrics["hdr"][block]["mpjpe_ih"]
            out[block] = {"shpe_only": base, "hdr": new, "relative": relative_change(new, base)}
        return out
    base = metrics["shpe_only"]["epe_2d"]["epe_all"]
    new = metrics["hdr"]["epe_2d"]["epe_all"]
    return {
        "measure": "epe_all",
        "epe_2d": {"shpe_only": base, "hdr": new, "relative": relative_change(new, base)},
    }


# --------------------------------------------------------------------------- report


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100.0 * value:+.1f}%"


def table_order(ablations: Iterable[str]) -> list[str]:
    """Rows in the paper's Table 5 order: SHPE only, w/o removal, w/o de-occlusion,
    the HDRNet variants (discriminator, transformer, then others), full HDR last."""
    names = list(ablations)
    first = [n for n in ("shpe_only", "no_removal", "no_deocclusion") if n in names]
    known = [n for n in ("no_discriminator", "no_transformer") if n in names]
    others = [n for n in names if n not in BASE_ABLATIONS and n not in known]
    return first + known + others + (["hdr"] if "hdr" in names else [])


def _label(name: str) -> str:
    return LABELS.get(name, f"w/ HDRM {name}")


def _mpjpe_tables(metrics: Mapping[str, Any], names: list[str], block: str) -> list[str]:
    get = lambda name, col: metrics[name][block][f"mpjpe_{col}"]  # noqa: E731
    lines: list[str] = []
    if "shpe_only" in names and "hdr" in names:
        header = ["Methods", "IH26M-SH", "IH26M-IH", "IH26M-ALL"]
        rows = [
            [label, *(_fmt(get(name, col)) for col in ("sh", "ih", "all"))]
            for name, label in (("shpe_only", "SHPE"), ("hdr", "+HDR"))
        ]
        lines += ["Effect of HDR (layout of the paper's Table 3), MPJPE (mm):", ""]
        lines += [_markdown_table(header, rows), ""]
    final = get("hdr", "all") if "hdr" in names else None
    header = ["#", "Methods", "SH", "IH", "ALL", "Δ ALL vs full HDR"]
    rows = []
    for k, name in enumerate(names, start=1):
        value = get(name, "all")
        delta = "-"
        if name != "hdr" and value is not None and final is not None:
            delta = f"{value - final:+.2f} ({_pct(relative_change(value, final))})"
        rows.append(
            [f"#{k}", _label(name), *(_fmt(get(name, c)) for c in ("sh", "ih")), _fmt(value), delta]
        )
    lines += ["Ablations (layout of the paper's Table 5), MPJPE (mm):", ""]
    lines += [_markdown_table(header, rows), ""]
    return lines


def _epe_tables(metrics: Mapping[str, Any], names: list[str]) -> list[str]:
    get = lambda name, col: metrics[name]["epe_2d"].get(f"epe_{col}")  # noqa: E731
    lines: list[str] = []
    if "shpe_only" in names and "hdr" in names:
        header = ["Model", "SHPE", "SHPE+HDR"]
        rows = [["EPE", _fmt(get("shpe_only", "all")), _fmt(get("hdr", "all"))]]
        lines += ["Tzionas (layout of the paper's Table 2), 2D EPE (px):", ""]
        lines += [_markdown_table(header, rows), ""]
    header = ["#", "Methods", "SH", "IH", "ALL"]
    rows = [
        [f"#{k}", _label(n), *(_fmt(get(n, c)) for c in ("sh", "ih", "all"))]
        for k, n in enumerate(names, start=1)
    ]
    lines += ["Ablations, 2D EPE (px):", ""]
    lines += [_markdown_table(header, rows), ""]
    return lines


def format_pipeline_markdown(metrics: Mapping[str, Any]) -> str:
    """``metrics.md``: source, the paper-layout tables, the reduction line, counts."""
    source = metrics.get("source", {})
    names = table_order(metrics["ablations"])
    parts = [f"# Pipeline evaluation: {source.get('dataset', '?')} {source.get('split', '')}", ""]
    parts += [f"- {key}: `{value}`" for key, value in source.items()]
    parts.append("")
    reduction = metrics.get("reduction", {})
    if source.get("dataset") == "interhand":
        parts += ["## Official InterHand2.6M MPJPE (predictions as written)", ""]
        parts += _mpjpe_tables(metrics, names, "official")
        parts += ["## MPJPE with each hand scaled to the ground-truth bone (reference rule)", ""]
        parts += _mpjpe_tables(metrics, names, "official_gt_scale")
        for block, label in (("official", "official"), ("official_gt_scale", "gt scale")):
            r = reduction.get(block)
            if r:
                parts.append(
                    f"- IH MPJPE, full HDR vs SHPE only ({label}): {_fmt(r['shpe_only'])} -> "
                    f"{_fmt(r['hdr'])} mm ({_pct(r['relative'])})"
                )
    else:
        parts += _epe_tables(metrics, names)
        r = reduction.get("epe_2d")
        if r:
            parts.append(
                f"- ALL 2D EPE, full HDR vs SHPE only: {_fmt(r['shpe_only'])} -> "
                f"{_fmt(r['hdr'])} px ({_pct(r['relative'])})"
            )
    parts += ["", "## Images", ""]
    for name in names:
        c = metrics[name]["counts"]
        parts.append(
            f"- {_label(name)}: {c['images_predicted']} of {c['images_ground_truth']} images, "
            f"{c['images_missing']} missing; hands missed {c['hands_missed']}, "
            f"extra {c['hands_extra']}"
        )
    parts += [
        "",
        f"Every protocol per ablation: `{ABLATIONS_DIR}/<ablation>/metrics.md`; the "
        f"predictions: `{PREDICTIONS_DIR}/<ablation>.jsonl`.",
        "",
    ]
    return "\n".join(parts)


def score_predictions(
    gt: GroundTruthTable,
    out: str | os.PathLike[str],
    ablations: Sequence[str],
    dataset: str,
    source: dict[str, Any],
    *,
    extra: Mapping[str, Any] | None = None,
    write_ablation_reports: bool = True,
) -> dict[str, Any]:
    """Score ``out/predictions/<ablation>.jsonl`` for every ablation; write
    ``metrics.json`` (with ``extra`` at the end), ``metrics.md`` and each ablation's
    full report; returns the metrics."""
    out = Path(out)
    metrics: dict[str, Any] = {"source": source, "ablations": list(ablations)}
    for name in ablations:
        path = out / PREDICTIONS_DIR / f"{name}.jsonl"
        block, full = score_ablation(gt, path, dataset)
        metrics[name] = block
        if write_ablation_reports:
            report = {"source": {**source, "ablation": name, "predictions": str(path)}, **full}
            write_report(report, out / ABLATIONS_DIR / name)
    metrics["reduction"] = reduction_block(metrics, dataset)
    metrics.update(extra or {})
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / METRICS_JSON, metrics)
    atomic_write_text(out / METRICS_MD, format_pipeline_markdown(metrics))
    return metrics


def evaluate_pipeline(
    pipe: PipelineLike,
    dataset: str,
    root: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    split: str = "test",
    branch: str = "ALL",
    ablations: Sequence[str] = BASE_ABLATIONS,
    use_gt_boxes: bool = False,
    use_gt_masks: bool = False,
    max_images: int | None = None,
    settings: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Predict every image for every ablation (resumable), then score: the metrics.

    ``settings`` (backend, weights, ...) go into ``predictions/run.json`` and the
    metrics' ``source``; a resumed run must match them (:data:`RESUME_KEYS`).
    """
    if max_images is not None and max_images < 1:
        raise PipelineEvalError(f"--max-images must be at least 1, got {max_images}")
    out = Path(out)
    branch = branch if dataset == "interhand" else "ALL"
    gt = load_ground_truth(dataset, root, split, branch)  # type: ignore[arg-type]
    images = open_images(dataset, root, split, branch, masks=use_gt_masks)
    run_settings = {
        "dataset": dataset,
        "root": str(Path(root).resolve()),
        "split": split if dataset == "interhand" else "test",
        "branch": branch,
        "gt_boxes": bool(use_gt_boxes),
        "gt_masks": bool(use_gt_masks),
        "ablations": list(ablations),
        **dict(settings or {}),
    }
    check_run_settings(out / PREDICTIONS_DIR, run_settings)
    run = predict_dataset(
        pipe,
        images,
        out / PREDICTIONS_DIR,
        ablations,
        use_gt_boxes=use_gt_boxes,
        use_gt_masks=use_gt_masks,
        max_images=max_images,
        progress=progress,
    )
    source = source_block(dataset, root, split, branch, out / PREDICTIONS_DIR)
    source.update(
        {
            k: v
            for k, v in run_settings.items()
            if k not in ("dataset", "root", "split", "branch", "ablations")
        }
    )
    source["images"] = run.images
    summary = {
        "images": run.images,
        "predicted_now": run.predicted,
        "skipped_done": run.skipped,
        "mean_ms_per_image": run.timings_ms,
    }
    return score_predictions(gt, out, ablations, dataset, source, extra={"run": summary})


__all__ = [
    "BASE_ABLATIONS",
    "GtScaleCounts",
    "PipelineEvalError",
    "PipelineLike",
    "PredictionRun",
    "ablation_names",
    "check_run_settings",
    "evaluate_pipeline",
    "format_pipeline_markdown",
    "gt_bone_lengths",
    "gt_boxes",
    "open_images",
    "predict_dataset",
    "reduction_block",
    "rescale_to_gt",
    "score_ablation",
    "score_predictions",
    "table_order",
]
