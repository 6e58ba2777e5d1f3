"""``handhdr eval-shpe``: single-hand 3D pose accuracy of an estimator over a dataset split."""

from __future__ import annotations

from typing import Annotated

import typer

from handhdr.cli import options as opt
from handhdr.cli.app import app, fail


@app.command("eval-shpe")
def eval_shpe(
    root: opt.RootOption,
    out: opt.OutOption,
    split: opt.SplitOption = "test",
    weights: opt.WeightsOption = "default",
    estimator: Annotated[
        str, typer.Option("--estimator", help="detnet, or mediapipe (optional extra).")
    ] = "detnet",
    backend: opt.BackendOption = opt.Backend.torch,
    device: opt.DeviceOption = opt.Device.cpu,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Crops per call.")] = 16,
    threads: opt.ThreadsOption = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N single-hand images.")
    ] = None,
) -> None:
    """Score a single-hand estimator: "mpjpe" (ground-truth bone scale),
    "mpjpe_prior_scale" and "epe_2d" in OUT/metrics.json.

    Every hand of every single-hand image, cropped from its ground-truth amodal box x2
    (left hands mirrored); see handhdr.shpe.evaluate for the full protocol.
    """
    from handhdr.datasets.interhand import InterHandDataset
    from handhdr.datasets.interhand_format import DatasetFormatError
    from handhdr.io import atomic_write_json
    from handhdr.shpe.estimators import ESTIMATORS, load_estimator
    from handhdr.shpe.evaluate import evaluate_shpe
    from handhdr.training.weights import WeightsError

    if estimator not in ESTIMATORS:
        raise fail(f"--estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    if batch_size < 1:
        raise fail(f"--batch-size must be at least 1, got {batch_size}")
    try:
        model = load_estimator(estimator, weights, backend.value, device.value, threads, batch_size)
        dataset = InterHandDataset(
            root, split=split, load_images=True, load_masks=True, load_hdr_gt=False
        )
        metrics = evaluate_shpe(dataset, model, batch_size=batch_size, limit=limit)
    except (WeightsError, DatasetFormatError, FileNotFoundError, ImportError, ValueError) as exc:
        raise fail(str(exc)) from exc
    metrics["estimator"] = {
        "name": model.name,
        "scale_rule": model.scale_rule,
        "input_size": model.input_size,
        "weights": weights,
        "backend": backend.value,
        "device": device.value,
    }
    metrics["dataset"] = {"root": str(root), "split": split, "limit": limit}
    out.mkdir(parents=True, exist_ok=True)
    path = out / "metrics.json"
    atomic_write_json(path, metrics)
    shown = ("mpjpe", "mpjpe_prior_scale", "epe_2d")
    typer.echo(
        "  ".join(f"{k} {metrics[k]:.2f}" if metrics[k] is not None else f"{k} -" for k in shown)
        + f"  ({metrics['counts']['hands']} hands)"
    )
    for note in metrics["notes"]:
        typer.echo(f"note: {note}")
    typer.echo(f"wrote {path}")
