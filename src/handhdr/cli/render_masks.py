"""``handhdr render-masks``: the four hand masks of InterHand2.6M images from MANO fits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handhdr.cli.app import app, fail


@app.command("render-masks")
def render_masks(
    root: Annotated[Path, typer.Option("--root", help="InterHand2.6M root (annotations/).")],
    mano_dir: Annotated[
        Path, typer.Option("--mano-dir", help="Folder with MANO_RIGHT / MANO_LEFT .npz or .pkl.")
    ],
    split: Annotated[str, typer.Option("--split", help="train, val or test.")] = "train",
    shard: Annotated[str, typer.Option("--shard", help="i/n: only frames numbered i mod n.")] = (
        "0/1"
    ),
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.")] = 1,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Stop after this many new mask files.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Render right/left amodal/visible masks of every image whose frame has a
    MANO_NeuralAnnot fit into masks/{split}/ (resumable: existing files are kept)."""
    from handhdr.datasets.interhand_format import DatasetFormatError
    from handhdr.datasets.render_masks import render_interhand_masks
    from handhdr.hand.mano import ManoFileError
    from handhdr.io.restricted_pickle import UnsafePickleError
    from handhdr.synth.config import SynthConfigError, parse_shard

    try:
        shard_spec = parse_shard(shard)
    except SynthConfigError as exc:
        raise fail(str(exc)) from None
    if workers < 1:
        raise fail(f"--workers must be at least 1, got {workers}")
    if limit is not None and limit < 0:
        raise fail(f"--limit must not be negative, got {limit}")
    try:
        summary = render_interhand_masks(
            root, split, mano_dir, shard_spec, workers, limit, progress=not quiet
        )
    except (
        DatasetFormatError,
        FileNotFoundError,
        ManoFileError,
        UnsafePickleError,
        ValueError,
    ) as exc:
        raise fail(str(exc)) from None
    typer.echo(
        f"{summary.written} mask files written to {root / 'masks' / split}, "
        f"{summary.skipped} already there, {summary.without_mano} images without a MANO fit "
        f"(no file), of {summary.images} images"
        + (f" in shard {shard}" if shard_spec[1] > 1 else "")
    )
    if summary.empty:
        typer.echo(f"{summary.empty} written masks are empty (both hands outside the image)")
    if summary.left_over:
        typer.echo(f"--limit reached: {summary.left_over} images still to do; run again")
