"""``handhdr synth``: generate a synthetic amodal two-hand dataset (AIH_Render / AIH_Syn)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handhdr.cli.app import app, fail


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Dataset folder (created; resumable).")],
    num: Annotated[
        int | None, typer.Option("--num", help="Samples in the split (indices 0..N-1).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Sample i depends on (seed, i) only.")] = 0,
    split: Annotated[str, typer.Option("--split", help="train, val or test.")] = "train",
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.")] = 1,
    kind: Annotated[str, typer.Option("--kind", help="render (AIH_Render) or syn (AIH_Syn).")] = (
        "render"
    ),
    mix: Annotated[str, typer.Option("--mix", help="Single-hand/two-hand shares.")] = (
        "sh=0.58,ih=0.42"
    ),
    size: Annotated[str, typer.Option("--size", help="Image size WIDTHxHEIGHT.")] = "512x334",
    shard: Annotated[str, typer.Option("--shard", help="i/n: only indices = i mod n.")] = "0/1",
    layout: Annotated[
        str, typer.Option("--format", help="interhand (InterHand2.6M v1.0) or aih_render.")
    ] = "interhand",
    backgrounds: Annotated[
        Path | None,
        typer.Option("--backgrounds", help="Folder of background images (default: procedural)."),
    ] = None,
    occlusion: Annotated[
        str | None,
        typer.Option("--occlusion", help="MIN,MAX window on the most occluded hand (two hands)."),
    ] = None,
    view: Annotated[str, typer.Option("--view", help="studio, ego or third.")] = "studio",
    hand_model: Annotated[
        str, typer.Option("--hand-model", help="builtin, or mano:DIR (MANO_RIGHT/LEFT files).")
    ] = "builtin",
    source: Annotated[
        str,
        typer.Option("--source", help="AIH_Syn hands: render, interhand:DIR or folder:DIR."),
    ] = "render",
    finalize_only: Annotated[
        bool, typer.Option("--finalize", help="Only merge the records into the annotations.")
    ] = False,
    no_finalize: Annotated[
        bool, typer.Option("--no-finalize", help="Do not finalise when the split is complete.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Generate N samples (image, four masks, per-hand de-occlusion/removal ground truth,
    joints, camera, hand-model parameters), resumable and shardable; the split is
    finalised (annotation JSON files written) when all N records exist."""
    from handhdr.synth.config import (
        SynthConfig,
        SynthConfigError,
        parse_mix,
        parse_shard,
        parse_size,
        parse_window,
    )
    from handhdr.synth.finalize import IncompleteSplitError, finalize

    try:
        if finalize_only:
            result = finalize(out, split, num, progress=not quiet)
            typer.echo(f"finalised {result.num} {split} samples in {out}")
            return
        if num is None:
            raise fail("--num is required (unless --finalize)")
        width, height = parse_size(size)
        config = SynthConfig(
            split=split,
            seed=seed,
            kind=kind,
            width=width,
            height=height,
            mix=parse_mix(mix),
            view=view,
            occlusion=parse_window(occlusion) if occlusion else None,
            backgrounds=str(backgrounds.resolve()) if backgrounds else None,
            format=layout,
            hand_model=hand_model,
            source=source,
        )
        shard_spec = parse_shard(shard)
    except (SynthConfigError, IncompleteSplitError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    if workers < 1:
        raise fail(f"--workers must be at least 1, got {workers}")
    if backgrounds is not None and not backgrounds.is_dir():
        raise fail(f"--backgrounds {backgrounds}: not a folder")

    from handhdr.synth.runner import generate

    try:
        result = generate(
            out,
            config,
            num,
            shard=shard_spec,
            workers=workers,
            progress=not quiet,
            auto_finalize=not no_finalize,
        )
    except SynthConfigError as exc:
        raise fail(str(exc)) from None
    typer.echo(
        f"{result.generated} samples made, {result.skipped} already there; "
        f"{result.remaining} of {num} still missing in {out} ({split})"
    )
    if result.counters:
        typer.echo("counters: " + ", ".join(f"{k}={v}" for k, v in sorted(result.counters.items())))
    if result.finalized is not None:
        typer.echo(f"finalised: {', '.join(str(p) for p in result.finalized.paths.values())}")
    elif result.remaining:
        typer.echo("run the other shards, then `handhdr synth --finalize --out DIR --split S`")
