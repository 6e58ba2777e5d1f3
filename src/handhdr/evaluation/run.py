"""Evaluate a predictions file against a dataset: the work behind ``handhdr eval``.

``load_ground_truth`` -> ``evaluate_predictions`` -> :func:`report.write_report`.
Each step is usable on its own (the pipeline evaluation reuses the first and last).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from handhdr.datasets.schema import GroundTruthTable
from handhdr.evaluation.matching import match_predictions
from handhdr.evaluation.predictions import iter_predictions
from handhdr.evaluation.protocols import evaluate_2d, evaluate_interhand

DatasetName = Literal["interhand", "tzionas"]
DATASETS: tuple[str, str] = ("interhand", "tzionas")


def load_ground_truth(
    dataset: DatasetName, root: str | os.PathLike[str], split: str = "test", branch: str = "ALL"
) -> GroundTruthTable:
    """The annotations of one split as a :class:`GroundTruthTable` (no images read).

    ``branch`` (ALL, H or M) applies to InterHand2.6M; Tzionas has one test set, so
    ``split`` and ``branch`` are not used for it.
    """
    if dataset == "interhand":
        from handhdr.datasets.interhand import InterHandDataset

        return InterHandDataset(root, split=split, branch=branch, load_images=False).ground_truth()
    if dataset == "tzionas":
        from handhdr.datasets.tzionas import TzionasDataset

        return TzionasDataset(root, load_images=False).ground_truth()
    raise ValueError(f"unknown dataset {dataset!r}; expected one of {DATASETS}")


def evaluate_predictions(
    gt: GroundTruthTable,
    predictions: str | os.PathLike[str],
    dataset: DatasetName,
    progress: bool = False,
) -> dict[str, Any]:
    """Every protocol of ``dataset`` for a predictions file; the metrics.json content.

    InterHand2.6M-style datasets need ``joints_3d`` in every predicted hand (3D
    protocols; 2D EPE is added when every hand also has ``joints_2d``); Tzionas needs
    ``joints_2d``. Raises :class:`~handhdr.evaluation.predictions.PredictionsError`
    for a bad file and :class:`~handhdr.evaluation.matching.MatchError` when no line
    names a ground-truth image. ``progress`` shows a bar while the file is read.
    """
    from tqdm import tqdm

    require = ("joints_3d",) if dataset == "interhand" else ("joints_2d",)
    lines = tqdm(
        iter_predictions(predictions, require=require),
        desc="reading predictions",
        unit=" lines",
        disable=not progress,
    )
    matched = match_predictions(gt, lines, source=str(predictions))
    if dataset == "interhand":
        return evaluate_interhand(gt, matched)
    return evaluate_2d(gt, matched)


def source_block(
    dataset: str, root: str | os.PathLike[str], split: str, branch: str, predictions: str | Path
) -> dict[str, str]:
    """What was evaluated, for the top of metrics.json and metrics.md."""
    block = {"dataset": dataset, "root": str(root), "split": split}
    if dataset == "interhand":
        block["branch"] = branch
    block["predictions"] = str(predictions)
    return block
