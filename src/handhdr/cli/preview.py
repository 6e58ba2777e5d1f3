"""``handhdr preview``: a contact sheet of rendered hands (PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handhdr.cli.app import app, fail


@app.command()
def preview(
    out: Annotated[Path, typer.Option("--out", help="The PNG file to write.")],
    seed: Annotated[int, typer.Option("--seed", help="Tile i depends on (seed, i) only.")] = 0,
    num: Annotated[int, typer.Option("--num", help="Rendered tiles.")] = 12,
    size: Annotated[str, typer.Option("--size", help="Tile size WIDTHxHEIGHT.")] = "320x208",
    columns: Annotated[int, typer.Option("--columns", help="Tiles per row.")] = 4,
    mask_rows: Annotated[
        int, typer.Option("--mask-rows", help="Two-hand samples also shown with masks.")
    ] = 2,
    hand_model: Annotated[
        str, typer.Option("--hand-model", help="builtin, or mano:DIR (MANO_RIGHT/LEFT files).")
    ] = "builtin",
    backgrounds: Annotated[
        Path | None,
        typer.Option("--backgrounds", help="Folder of background images (default: procedural)."),
    ] = None,
    effects: Annotated[
        bool, typer.Option("--effects/--no-effects", help="Camera noise, blur and JPEG artefacts.")
    ] = True,
) -> None:
    """Render random two-hand and single-hand scenes (shapes, poses, skin tones, light,
    backgrounds) and write them as one sheet; a few rows also show the masks and each
    hand's de-occlusion/removal ground truth."""
    import cv2

    from handhdr.io.atomic import atomic_write_bytes
    from handhdr.render.background import FolderBackgrounds
    from handhdr.render.preview import contact_sheet

    width, sep, height = size.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit()):
        raise fail(f"--size: expected WIDTHxHEIGHT, e.g. 320x208, got {size!r}")
    if out.suffix.lower() != ".png":
        raise fail(f"--out: the contact sheet is a PNG file, got {out}")
    if num < 1 or columns < 1 or mask_rows < 0:
        raise fail("--num and --columns must be at least 1, --mask-rows at least 0")
    try:
        source = FolderBackgrounds(backgrounds) if backgrounds is not None else None
        sheet = contact_sheet(
            seed=seed,
            num=num,
            width=int(width),
            height=int(height),
            columns=columns,
            mask_rows=mask_rows,
            hand_model=hand_model,
            backgrounds=source,
            effects=effects,
        )
    except (ValueError, FileNotFoundError) as err:
        raise fail(str(err)) from err
    # a one-off file: the smallest PNG is worth the extra second
    ok, png = cv2.imencode(
        ".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9]
    )
    if not ok:
        raise fail(f"--out: OpenCV could not encode the sheet ({sheet.shape})")
    atomic_write_bytes(out, png.tobytes())
    typer.echo(f"wrote {out} ({sheet.shape[1]}x{sheet.shape[0]}, {num} renders)")
