"""Options shared by the evaluation commands (``eval``, ``eval-seg``, ``eval-hdr``,
``eval-shpe``): the choices are Enums, so typer lists them in ``--help`` and refuses
anything else with exit code 2 naming the option."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class Backend(str, Enum):
    """Inference backend."""

    torch = "torch"
    onnx = "onnx"


class Device(str, Enum):
    """Inference device."""

    cpu = "cpu"
    cuda = "cuda"


RootOption = Annotated[Path, typer.Option("--root", help="Dataset folder (InterHand2.6M layout).")]
OutOption = Annotated[Path, typer.Option("--out", help="Folder for metrics.json (may exist).")]
SplitOption = Annotated[str, typer.Option("--split", help="train, val or test.")]
BackendOption = Annotated[Backend, typer.Option("--backend")]
DeviceOption = Annotated[Device, typer.Option("--device")]
ThreadsOption = Annotated[int | None, typer.Option("--threads", help="Inference threads.")]
WeightsOption = Annotated[
    str, typer.Option("--weights", help="default (shipped lite), .safetensors or .onnx.")
]

__all__ = [
    "Backend",
    "BackendOption",
    "Device",
    "DeviceOption",
    "OutOption",
    "RootOption",
    "SplitOption",
    "ThreadsOption",
    "WeightsOption",
]
