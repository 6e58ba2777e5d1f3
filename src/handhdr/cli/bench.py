"""``handhdr bench``: milliseconds per frame of each stage and of the whole pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handhdr.cli.app import app, fail


def _split(values: list[str] | None, default: tuple[str, ...]) -> list[str]:
    """Repeatable and comma-separated values: ``--config lite,paper`` or twice."""
    out: list[str] = []
    for value in values or list(default):
        out += [v.strip() for v in value.split(",") if v.strip()]
    return out


def _size(value: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise fail(f"--size expects WIDTHxHEIGHT (e.g. 512x334), got {value!r}") from None
    return w, h


@app.command("bench")
def bench_command(
    config: Annotated[
        list[str] | None,
        typer.Option(
            "--config", help="lite, paper (tiny: the test models); repeat or comma-separate."
        ),
    ] = None,
    backend: Annotated[
        list[str] | None,
        typer.Option("--backend", help="torch, onnx; repeat or comma-separate."),
    ] = None,
    threads: Annotated[int, typer.Option("--threads", min=1, help="CPU threads.")] = 2,
    frames: Annotated[int, typer.Option("--frames", min=1, help="Timed frames per row.")] = 20,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed calls first.")] = 2,
    max_seconds: Annotated[
        float,
        typer.Option("--max-seconds", help="Stop a row after this long (>= 2 frames); 0: never."),
    ] = 120.0,
    size: Annotated[str, typer.Option("--size", help="Frame size WIDTHxHEIGHT.")] = "512x334",
    mediapipe: Annotated[
        bool, typer.Option("--mediapipe/--no-mediapipe", help="Also time MediaPipe Hands.")
    ] = True,
    out: Annotated[
        Path, typer.Option("--out", help="JSON report; the Markdown goes next to it (.md).")
    ] = Path("handhdr-bench.json"),
) -> None:
    """Time HASM (coarse + fine), HDRM and SHPE (two hand crops) and the whole pipeline
    per frame, in PyTorch and ONNX Runtime, with each stage's GFLOPs.

    The networks are random-initialised from the packaged configs (timing does not
    depend on weight values); frames are synthetic two-hand images. MediaPipe Hands
    is timed on the same frames when the optional extra is installed.
    """
    from handhdr.benchmark import BenchError, format_markdown, run_bench, write_report

    try:
        report = run_bench(
            configs=_split(config, ("lite", "paper")),
            backends=_split(backend, ("torch", "onnx")),
            threads=threads,
            frames=frames,
            size=_size(size),
            warmup=warmup,
            max_seconds=max_seconds if max_seconds > 0 else None,
            mediapipe=mediapipe,
            log=lambda line: typer.echo(line, err=True),
        )
    except BenchError as err:
        raise fail(str(err)) from None
    json_path, md_path = write_report(report, out)
    typer.echo(format_markdown(report))
    typer.echo(f"wrote {json_path}\nwrote {md_path}")
