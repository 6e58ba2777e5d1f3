"""Weights of our models as safetensors files, and the shipped-weights folder.

Every weights file carries, in its safetensors metadata (key ``handhdr``, JSON), what
is needed to rebuild the network (``stage``, ``model`` config, inference settings)
and where it came from (config, steps, checkpoint). Shipped weights live in
``handhdr/weights/{name}.safetensors`` (fp16) with a model card ``{name}.md`` beside
each; ``--weights default`` means that file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
_META_KEY = "handhdr"


class WeightsError(ValueError):
    """A weights file is missing, unreadable or not for this model."""


def shipped_weights_path(name: str) -> Path:
    """Path of the shipped weights ``name`` (e.g. ``hasm_lite``)."""
    return WEIGHTS_DIR / f"{name}.safetensors"


def resolve_weights(spec: str | os.PathLike[str], default_name: str) -> Path:
    """``"default"`` -> the shipped ``default_name`` weights; else the given path."""
    if str(spec) == "default":
        path = shipped_weights_path(default_name)
        if not path.is_file():
            raise WeightsError(
                f"{path}: the shipped {default_name} weights are not in this installation; "
                "train and export them (docs/training.md) or pass --weights PATH"
            )
        return path
    path = Path(spec)
    if not path.is_file():
        raise WeightsError(f"{path}: weights file not found")
    return path


def save_weights(
    weights: nn.Module | Mapping[str, torch.Tensor],
    path: str | os.PathLike[str],
    metadata: Mapping[str, Any],
    dtype: torch.dtype | None = torch.float16,
) -> Path:
    """Write a state dict (floating tensors cast to ``dtype``) and JSON ``metadata``,
    atomically, as safetensors."""
    from safetensors.torch import save_file

    from handhdr.io import atomic_path

    state = weights.state_dict() if isinstance(weights, nn.Module) else dict(weights)
    tensors = {}
    for key, value in state.items():
        value = value.detach().cpu()
        if dtype is not None and value.is_floating_point():
            value = value.to(dtype)
        tensors[key] = value.contiguous()
    target = Path(path)
    with atomic_path(target) as tmp:
        save_file(tensors, str(tmp), metadata={_META_KEY: json.dumps(dict(metadata))})
    return target


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``handhdr`` metadata of a weights file."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(_META_KEY)
    except (SafetensorError, OSError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from exc
    if raw is None:
        raise WeightsError(f"{path}: no '{_META_KEY}' metadata (not a handhdr weights file)")
    return json.loads(raw)


def load_weights(
    path: str | os.PathLike[str], dtype: torch.dtype = torch.float32
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """State dict (floating tensors as ``dtype``) and metadata of a weights file."""
    from safetensors.torch import load_file

    metadata = read_metadata(path)
    state = load_file(str(path))
    return {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in state.items()}, metadata


def state_from_checkpoint(
    path: str | os.PathLike[str], stage: str, prefix: str
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The state dict of the network under ``prefix`` (e.g. ``model.``) in a training
    checkpoint of ``stage``, and the checkpoint's training config."""
    from handhdr.training.export import load_checkpoint

    ckpt = load_checkpoint(path)
    config = ckpt["hyper_parameters"]["config"]
    if config.get("stage") != stage:
        raise WeightsError(f"{path}: a checkpoint of stage {config.get('stage')!r}, not {stage}")
    state = {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    return state, config


def copy_init_weights(model: nn.Module, source: nn.Module, spec: str) -> None:
    """Copy ``source``'s parameters (loaded from ``init=spec``) into ``model``; a
    ``ValueError`` naming ``spec`` when the two networks differ."""
    try:
        model.load_state_dict(source.state_dict())
    except RuntimeError as exc:
        raise ValueError(
            f"init={spec}: its network does not match this run's model config "
            f"({str(exc).splitlines()[0]})"
        ) from exc


def write_model_card(path: str | os.PathLike[str], title: str, sections: Mapping[str, Any]) -> Path:
    """A Markdown model card: ``# title`` then one ``## heading`` per section.

    A section is text, or a mapping written as a two-column table.
    """
    from handhdr.io import atomic_write_text

    lines = [f"# {title}", ""]
    for heading, body in sections.items():
        lines += [f"## {heading}", ""]
        if isinstance(body, Mapping):
            lines += ["| | |", "|---|---|"]
            lines += [f"| {key} | {_cell(value)} |" for key, value in body.items()]
        else:
            lines.append(str(body).rstrip())
        lines.append("")
    target = Path(path)
    atomic_write_text(target, "\n".join(lines))
    return target


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (dict, list)):
        return f"`{json.dumps(value)}`"
    return str(value).replace("|", "\\|").replace("\n", " ")
