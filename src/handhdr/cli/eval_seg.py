"""``handhdr eval-seg``: IoU of the four HASM masks over a dataset split."""

from __future__ import annotations

from typing import Annotated

import typer

from handhdr.cli import options as opt
from handhdr.cli.app import app, fail


@app.command("eval-seg")
def eval_seg(
    root: opt.RootOption,
    out: opt.OutOption,
    split: opt.SplitOption = "test",
    weights: opt.WeightsOption = "default",
    backend: opt.BackendOption = opt.Backend.torch,
    device: opt.DeviceOption = opt.Device.cpu,
    kind: Annotated[
        str, typer.Option("--kind", help="Dataset kind: auto, interhand, aih_syn, aih_render.")
    ] = "auto",
    workers: Annotated[int, typer.Option("--workers", help="Image-reading processes.")] = 2,
    threads: opt.ThreadsOption = None,
) -> None:
    """Score HASM on a dataset split: per-mask IoU and "miou" in OUT/metrics.json.

    Per mask, total intersection over total union across the split, on full frames,
    with the pipeline's coarse-to-fine inference and threshold 0.5. Diagnostics: the
    IoU of both hands' masks together (sides ignored), the mIoU with the predicted
    sides exchanged, and how much the predicted right and left amodal masks overlap
    (beside the ground truth's overlap).
    """
    from handhdr.datasets.interhand_format import DatasetFormatError
    from handhdr.hasm.evaluate import evaluate_segmentation, write_metrics
    from handhdr.hasm.weights import hasm_predictor
    from handhdr.training.sources import open_source
    from handhdr.training.weights import WeightsError

    try:
        predictor = hasm_predictor(
            weights, backend=backend.value, device=device.value, threads=threads
        )
        reader = open_source(root, kind, split)
        metrics = evaluate_segmentation(reader, lambda image: predictor(image).masks, workers)
    except (WeightsError, DatasetFormatError, FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from exc
    metrics.update(
        {
            "root": str(root),
            "split": split,
            "weights": weights,
            "backend": backend.value,
            "inference": vars(predictor.settings),
        }
    )
    path = write_metrics(out, metrics)
    names = ("right_amodal", "right_visible", "left_amodal", "left_visible", "miou")
    typer.echo(
        "  ".join(f"{n} {metrics[n]:.4f}" if metrics[n] is not None else f"{n} -" for n in names)
    )
    typer.echo(
        "  ".join(
            f"{k} {v:.4f}" if v is not None else f"{k} -" for k, v in metrics["diagnostics"].items()
        )
    )
    typer.echo(f"wrote {path}")
