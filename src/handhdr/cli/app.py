"""The ``handhdr`` Typer application that every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="handhdr",
    help="3D interacting hand pose estimation by Hand De-occlusion and Removal (HDR).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` to stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.callback()
def _root() -> None:
    """3D interacting hand pose estimation by Hand De-occlusion and Removal (HDR)."""
