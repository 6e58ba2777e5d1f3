"""Command-line interface: ``handhdr <command>``; each command lives in its own module.

Modules are imported for their registration on :data:`handhdr.cli.app.app`; heavy
libraries are imported inside the commands so that ``handhdr --help`` stays fast.
"""

from __future__ import annotations

import importlib

from handhdr.cli.app import app

# one module per command (or group of closely related commands)
_COMMAND_MODULES: tuple[str, ...] = (
    "demo",
    "info",
    "evaluate",
    "mano",
    "train",
    "eval_seg",
    "synth",
    "eval_hdr",
    "preview",
    "eval_shpe",
    "render_masks",
    "predict",
    "export",
    "bench",
)

for _name in _COMMAND_MODULES:
    importlib.import_module(f"handhdr.cli.{_name}")


def main() -> None:
    """Entry point of the ``handhdr`` console script."""
    app()


__all__ = ["app", "main"]
