"""``handhdr train STAGE``: train a stage on the shared trainer; ``handhdr train export``.

Every stage command has the same shape::

    handhdr train STAGE --config lite|paper|PATH --data DIR [--data DIR2 ...] [--resume]
                        [key=value ...]

To add a stage: register its :class:`~handhdr.training.trainer.Stage` in
``handhdr.training.trainer.STAGE_MODULES`` and add a five-line command below that
calls :func:`run_stage` (options of its own become ``key=value`` overrides).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from handhdr.cli.app import app, fail

train_app = typer.Typer(
    help="Train a stage (HASM, HDRM, SHPE) on the shared trainer; export weights.",
    no_args_is_help=True,
)
app.add_typer(train_app, name="train")

ConfigOption = Annotated[
    str, typer.Option("--config", "-c", help="lite, paper, or the path of a YAML config.")
]
DataOption = Annotated[
    list[str] | None,
    typer.Option(
        "--data",
        help="Dataset folder (repeat to mix several); KIND:DIR names its kind "
        "(interhand, aih_syn, aih_render), otherwise it is detected from the layout.",
    ),
]
ResumeOption = Annotated[
    bool, typer.Option("--resume", help="Continue the run from its last checkpoint.")
]
OverridesArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Config overrides key=value, e.g. trainer.max_steps=200 trainer.devices=2 "
        "trainer.strategy=ddp run.name=try1 (+key=value adds a key).",
        show_default=False,
    ),
]


def run_stage(
    stage: str,
    config: str,
    data: list[str] | None,
    overrides: list[str] | None,
    resume: bool,
) -> None:
    """Load the configuration of ``stage`` and train it; the body of every stage command."""
    import logging

    from handhdr.datasets.interhand_format import DatasetFormatError
    from handhdr.training.config import ConfigError, load_config
    from handhdr.training.trainer import fit

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_config(stage, config, overrides or (), data)
        command = "handhdr " + shlex.join(sys.argv[1:])
        result = fit(cfg, resume=resume, command=command)
    except (ConfigError, FileExistsError, FileNotFoundError, DatasetFormatError) as exc:
        raise fail(str(exc)) from exc
    if not result.is_global_zero:
        return
    typer.echo(
        f"{stage}: step {result.global_step}, {result.train_seconds / 60:.1f} min of training; "
        f"run folder {result.run_dir}"
    )
    typer.echo(f"last checkpoint: {result.last_checkpoint}")
    if result.best_checkpoint is not None:
        typer.echo(f"best checkpoint: {result.best_checkpoint}")


@train_app.command("hasm")
def train_hasm(
    config: ConfigOption = "lite",
    data: DataOption = None,
    resume: ResumeOption = False,
    overrides: OverridesArgument = None,
) -> None:
    """Train HASM, the amodal and visible segmentation of both hands."""
    run_stage("hasm", config, data, overrides, resume)


@train_app.command("hdrm")
def train_hdrm(
    stage: Annotated[
        int, typer.Option("--stage", help="1: ground-truth masks; 2: fine-tune on HASM masks.")
    ] = 1,
    config: ConfigOption = "lite",
    data: DataOption = None,
    resume: ResumeOption = False,
    overrides: OverridesArgument = None,
) -> None:
    """Train HDRM, the hand de-occlusion and removal network (two stages)."""
    from handhdr.hdrm.training import stage_overrides

    if stage not in (1, 2):
        raise fail(f"--stage must be 1 or 2, got {stage}")
    run_stage("hdrm", config, data, stage_overrides(stage) + list(overrides or []), resume)


@train_app.command("shpe")
def train_shpe(
    config: ConfigOption = "lite",
    data: DataOption = None,
    resume: ResumeOption = False,
    overrides: OverridesArgument = None,
) -> None:
    """Train SHPE, the DetNet single-hand 3D pose estimator."""
    run_stage("shpe", config, data, overrides, resume)


@train_app.command("side")
def train_side(
    config: ConfigOption = "lite",
    data: DataOption = None,
    resume: ResumeOption = False,
    overrides: OverridesArgument = None,
) -> None:
    """Train the side classifier that gives a side-invariant HASM's masks their sides."""
    run_stage("side", config, data, overrides, resume)


@train_app.command("export")
def export(
    run: Annotated[Path, typer.Argument(help="Run folder (runs/STAGE-CONFIG).")],
    out: Annotated[Path, typer.Option("--out", help="Weights file to write (.safetensors).")],
    which: Annotated[str, typer.Option("--which", help="best or last checkpoint.")] = "best",
    metrics: Annotated[
        Path | None,
        typer.Option("--metrics", help="metrics.json of an evaluation, for the model card."),
    ] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Text for the model card.")] = None,
    sides: Annotated[
        Path | None,
        typer.Option(
            "--sides",
            help="HASM trained side-invariantly: the side classifier (weights or a side "
            "run's checkpoint) to carry inside the exported file.",
        ),
    ] = None,
    inference: Annotated[
        list[str] | None,
        typer.Argument(help="inference.KEY=VALUE settings to ship instead of the run's."),
    ] = None,
) -> None:
    """Export a run's best/last checkpoint as fp16 safetensors plus a model card (.md).

    Trailing ``inference.KEY=VALUE`` arguments change the inference settings stored with
    the weights (e.g. HASM's ``inference.coarse_size=224``, chosen after training on
    validation data); the network itself cannot change.
    """
    import json

    from handhdr.training.export import export_run

    if out.suffix != ".safetensors":
        raise fail(f"--out {out}: expected a .safetensors file name")
    try:
        scores = json.loads(metrics.read_text()) if metrics is not None else None
        weights, card = export_run(
            run,
            out,
            which=which,
            metrics=scores,
            notes=notes,
            inference=inference or (),
            sides=sides,
        )
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"weights: {weights}\nmodel card: {card}")
