"""``handhdr eval``: score a predictions file with every protocol, side by side; with
``--pipeline``, run the pipeline and every ablation on the dataset first
(:mod:`handhdr.evaluation.pipeline_eval`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from handhdr.cli import options as opt
from handhdr.cli.app import app, fail


class EvalDataset(str, Enum):
    interhand = "interhand"
    tzionas = "tzionas"


class Branch(str, Enum):
    ALL = "ALL"
    H = "H"
    M = "M"


def parse_variants(values: list[str] | None) -> dict[str, str]:
    """``["NAME=PATH", ...]`` -> ``{NAME: PATH}``; a clear error for anything else."""
    out: dict[str, str] = {}
    for value in values or []:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise fail(f"--hdrm-variant expects NAME=PATH (e.g. no_transformer=w.safetensors), "
                       f"got {value!r}")  # fmt: skip
        if name in out:
            raise fail(f"--hdrm-variant {name!r} given twice")
        out[name] = path
    return out


@app.command("eval")
def eval_command(
    root: Annotated[Path, typer.Option("--root", help="Dataset folder.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (may exist; others kept).")],
    predictions: Annotated[
        Path | None,
        typer.Option("--predictions", help="Predictions file (JSON Lines, docs/predictions.md)."),
    ] = None,
    split: Annotated[str, typer.Option("--split", help="train, val or test.")] = "test",
    dataset: Annotated[EvalDataset, typer.Option("--dataset")] = EvalDataset.interhand,
    branch: Annotated[Branch, typer.Option("--branch", help="InterHand2.6M branch.")] = Branch.ALL,
    pipeline: Annotated[
        bool,
        typer.Option(
            "--pipeline", help="Run the pipeline and every ablation on the images, then score."
        ),
    ] = False,
    gt_boxes: Annotated[
        bool,
        typer.Option("--gt-boxes", help="--pipeline: hand boxes from ground-truth 2D joints."),
    ] = False,
    gt_masks: Annotated[
        bool,
        typer.Option(
            "--gt-masks",
            help="--pipeline: the ground-truth masks in place of HASM's (oracle segmentation).",
        ),
    ] = False,
    backend: Annotated[
        opt.Backend, typer.Option("--backend", help="--pipeline.")
    ] = opt.Backend.torch,
    device: Annotated[opt.Device, typer.Option("--device", help="--pipeline.")] = opt.Device.cpu,
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, help="--pipeline: CPU threads.")
    ] = None,
    hasm: Annotated[str, typer.Option("--hasm", help="--pipeline: HASM weights.")] = "default",
    hdrm: Annotated[str, typer.Option("--hdrm", help="--pipeline: HDRM weights.")] = "default",
    shpe: Annotated[str, typer.Option("--shpe", help="--pipeline: SHPE weights.")] = "default",
    hdrm_variant: Annotated[
        list[str] | None,
        typer.Option(
            "--hdrm-variant",
            help="--pipeline: NAME=PATH, another HDRNet scored as ablation NAME "
            "(no_transformer, no_discriminator); repeatable.",
        ),
    ] = None,
    max_images: Annotated[
        int | None, typer.Option("--max-images", min=1, help="--pipeline: first N images only.")
    ] = None,
) -> None:
    """Score predictions with every protocol; write OUT/metrics.json, metrics.md, a chart.

    Official InterHand2.6M MPJPE (SH, IH, ALL, Inter), wrist-aligned mean,
    middle-MCP with scale, PA-MPJPE, MRRPE, handedness; Tzionas: 2D EPE in pixels.

    With --pipeline (no --predictions): runs HASM -> HDRM -> SHPE and the ablations
    shpe_only, no_removal, no_deocclusion, hdr (+ --hdrm-variant names) on every image,
    writes OUT/predictions/<ablation>.jsonl (resumable), then OUT/metrics.json
    (official and ground-truth-scale MPJPE per ablation) and OUT/metrics.md (the
    paper's Tables 3 and 5; Table 2 for Tzionas). --gt-masks gives the pipeline the
    ground-truth masks instead of HASM's: the oracle-segmentation diagnosis.
    """
    if pipeline:
        if predictions is not None:
            raise fail("--pipeline predicts the images itself; leave out --predictions")
        _eval_pipeline(
            root, out, split, dataset.value, branch.value, gt_boxes, gt_masks, backend.value,
            device.value, threads, {"hasm": hasm, "hdrm": hdrm, "shpe": shpe},
            parse_variants(hdrm_variant), max_images,
        )  # fmt: skip
        return
    from handhdr.evaluation.matching import MatchError
    from handhdr.evaluation.predictions import PredictionsError
    from handhdr.evaluation.report import format_table, write_report
    from handhdr.evaluation.run import evaluate_predictions, load_ground_truth, source_block

    if predictions is None:
        raise fail("--predictions FILE is required")
    if not root.is_dir():
        raise fail(f"{root}: dataset folder not found (--root)")
    try:
        gt = load_ground_truth(dataset.value, root, split, branch.value)
        metrics = {
            "source": source_block(dataset.value, root, split, branch.value, predictions),
            **evaluate_predictions(gt, predictions, dataset.value, progress=True),
        }
    except (PredictionsError, MatchError, FileNotFoundError, ValueError) as err:
        raise fail(str(err)) from None

    paths = write_report(metrics, out)
    typer.echo(format_table(metrics))
    counts = metrics["counts"]
    typer.echo(
        f"\n{counts['images_predicted']} images predicted, {counts['images_missing']} missing, "
        f"{counts['images_unknown']} unknown (see {paths['markdown']})"
    )
    for path in paths.values():
        typer.echo(f"wrote {path}")


def _eval_pipeline(
    root: Path,
    out: Path,
    split: str,
    dataset: str,
    branch: str,
    gt_boxes: bool,
    gt_masks: bool,
    backend: str,
    device: str,
    threads: int | None,
    weights: dict[str, str],
    variants: dict[str, str],
    max_images: int | None,
) -> None:
    """The ``--pipeline`` mode: load, predict every ablation, score, print the tables."""
    from handhdr.evaluation import pipeline_eval as pe
    from handhdr.evaluation.matching import MatchError
    from handhdr.evaluation.predictions import PredictionsError
    from handhdr.pipeline import HDRPipeline

    if not root.is_dir():
        raise fail(f"{root}: dataset folder not found (--root)")
    try:
        ablations = pe.ablation_names(variants)
        pipe = HDRPipeline.load(
            weights["hasm"], weights["hdrm"], weights["shpe"], backend=backend, device=device,
            threads=threads, hdrm_variants=variants,
        )  # fmt: skip
        named = {**weights, "variants": variants}
        settings = {"backend": backend, "weights": _resolved(named)}
        metrics = pe.evaluate_pipeline(
            pipe, dataset, root, out, split=split, branch=branch, ablations=ablations,
            use_gt_boxes=gt_boxes, use_gt_masks=gt_masks, max_images=max_images,
            settings=settings, progress=True,
        )  # fmt: skip
    except (PredictionsError, MatchError, FileNotFoundError, ValueError) as err:
        raise fail(str(err)) from None
    typer.echo(pe.format_pipeline_markdown(metrics))
    run = metrics["run"]
    typer.echo(
        f"{run['predicted_now']} images predicted now, {run['skipped_done']} already done "
        f"(of {run['images']})"
    )
    typer.echo(f"wrote {out / pe.METRICS_JSON}\nwrote {out / pe.METRICS_MD}")


def _resolved(specs: dict) -> dict:
    """Weights specs with existing files as absolute paths (a resumed run from another
    folder names the same files the same way) and ``default`` with the shipped file's
    sha256 prefix (a resumed run after the shipped weights changed is refused, and the
    metrics say which weights they scored)."""
    from handhdr.io import file_sha256
    from handhdr.pipeline.loading import SHIPPED_NAMES
    from handhdr.training.weights import shipped_weights_path

    out: dict = {}
    for key, value in specs.items():
        if isinstance(value, dict):
            out[key] = _resolved(value)
        elif value == "default" and key in SHIPPED_NAMES:
            path = shipped_weights_path(SHIPPED_NAMES[key])
            digest = file_sha256(path)[:16]
            out[key] = f"default ({path.name}, sha256 {digest})"
        else:
            out[key] = str(Path(value).resolve()) if Path(value).is_file() else value
    return out
