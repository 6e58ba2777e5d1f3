"""``handhdr eval``: score a predictions file with every protocol, side by side."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from handhdr.cli.app import app, fail


class EvalDataset(str, Enum):
    interhand = "interhand"
    tzionas = "tzionas"


class Branch(str, Enum):
    ALL = "ALL"
    H = "H"
    M = "M"


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
) -> None:
    """Score predictions with every protocol; write OUT/metrics.json, metrics.md, a chart.

    Official InterHand2.6M MPJPE (SH, IH, ALL, Inter), wrist-aligned mean,
    middle-MCP with scale, PA-MPJPE, MRRPE, handedness; Tzionas: 2D EPE in pixels.
    """
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
