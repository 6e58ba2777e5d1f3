"""``handhdr mano ...``: tools for official MANO model files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handhdr.cli.app import app, fail

mano_app = typer.Typer(
    help="Official MANO model files (MANO_RIGHT / MANO_LEFT), when you have them.",
    no_args_is_help=True,
)
app.add_typer(mano_app, name="mano")


@mano_app.command("convert")
def convert(
    pkl: Annotated[Path, typer.Argument(help="Official MANO_RIGHT.pkl or MANO_LEFT.pkl.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output .npz (default: next to PKL).")
    ] = None,
    side: Annotated[
        str | None, typer.Option("--side", help="right or left, when the file name does not say.")
    ] = None,
) -> None:
    """Convert an official MANO .pkl to a pickle-free .npz (left-hand fix baked in)."""
    from handhdr.hand.mano import ManoFileError, convert_mano_pkl
    from handhdr.io.restricted_pickle import UnsafePickleError

    target = out if out is not None else pkl.with_suffix(".npz")
    if target.resolve() == pkl.resolve():
        raise fail(f"--out {target} would overwrite the input")
    try:
        summary = convert_mano_pkl(pkl, target, side=side)
    except (FileNotFoundError, ManoFileError, UnsafePickleError, ValueError) as exc:
        raise fail(str(exc)) from exc
    fixed = ", left-hand shapedirs fix applied" if summary["left_shapedirs_fixed"] else ""
    typer.echo(
        f"wrote {target}: {summary['side']} hand, {summary['vertices']} vertices, "
        f"{summary['faces']} faces, {summary['shape_coefficients']} shape coefficients{fixed}"
    )
