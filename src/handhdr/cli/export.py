"""``handhdr export``: the three stages as ONNX files with a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handhdr.cli.app import app, fail

WeightsOption = Annotated[str, typer.Option(help="default (shipped lite), .safetensors or .ckpt.")]


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="Folder for the .onnx files and manifest.")],
    hasm: WeightsOption = "default",
    hdrm: WeightsOption = "default",
    shpe: Annotated[str, typer.Option(help="default (shipped lite) or .safetensors.")] = "default",
    hdrm_variant: Annotated[
        list[str] | None,
        typer.Option(help="NAME=PATH: also export other HDRNet weights as hdrm_NAME.onnx."),
    ] = None,
) -> None:
    """Export HASM, HDRNet and DetNet to ONNX (OUT/hasm.onnx, hdrm.onnx, shpe.onnx) and
    write OUT/manifest.json (sources, SHA-256, inputs, outputs, the predict command)."""
    from handhdr.cli.predict import parse_variants
    from handhdr.pipeline.export import MANIFEST_NAME, export_pipeline
    from handhdr.training.weights import WeightsError

    try:
        variants = parse_variants(hdrm_variant)
        manifest = export_pipeline(out, hasm, hdrm, shpe, hdrm_variants=variants)
    except (WeightsError, FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from exc
    for key, stage in manifest["stages"].items():
        typer.echo(f"wrote {out / stage['file']} ({key}, {stage['bytes'] / 1e6:.1f} MB)")
    typer.echo(f"wrote {out / MANIFEST_NAME}")
    typer.echo(f"run them with: {manifest['run']}")
