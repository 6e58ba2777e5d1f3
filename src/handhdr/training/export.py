"""Export a run's best or last checkpoint as fp16 safetensors, with a model card.

Used to ship weights: ``handhdr train export RUN_DIR --out handhdr/weights/NAME.safetensors``
writes the weights and ``NAME.md`` beside them (data recipe, training command and
time, evaluation results when given).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf

from handhdr.io import file_sha256
from handhdr.training.trainer import best_checkpoint, get_stage, last_checkpoint, read_run_info
from handhdr.training.weights import save_weights, write_model_card

# what ``handhdr synth`` records about a split it generated
_SYNTH_STATS = "synth/{split}/stats.json"


def _minutes(seconds: float | None) -> str:
    return "unknown" if seconds is None else f"{seconds / 60:.1f} min"


def find_checkpoint(run_dir: str | os.PathLike[str], which: str = "best") -> Path:
    """``best`` or ``last`` checkpoint of a run folder."""
    if which not in ("best", "last"):
        raise ValueError(f"which must be 'best' or 'last', got {which!r}")
    path = (best_checkpoint if which == "best" else last_checkpoint)(Path(run_dir))
    if not path.is_file():
        hint = " (no validation ran? use --which last)" if which == "best" else ""
        raise FileNotFoundError(f"{path}: no {which} checkpoint in {run_dir}{hint}")
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A Lightning checkpoint, loaded safely (``weights_only=True``)."""
    ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise ValueError(f"{path}: not a Lightning checkpoint (no state_dict)")
    config = ckpt.get("hyper_parameters", {}).get("config")
    if not isinstance(config, dict) or "stage" not in config:
        raise ValueError(f"{path}: the checkpoint holds no handhdr training config")
    return ckpt


def export_checkpoint(
    checkpoint: str | os.PathLike[str],
    out: str | os.PathLike[str],
    dtype: torch.dtype = torch.float16,
    inference: Sequence[str] = (),
) -> tuple[Path, dict[str, Any]]:
    """Write the shipped model of a checkpoint as safetensors; returns the path and the
    metadata written. ``inference``: ``inference.KEY=VALUE`` settings that replace the
    run's (only the ``inference`` block may change: the weights fix the network)."""
    ckpt = load_checkpoint(checkpoint)
    config = dict(ckpt["hyper_parameters"]["config"])
    if isinstance(config.get("model"), dict) and "pretrained" in config["model"]:
        # the weights come from the checkpoint, not from a pretrained backbone
        config["model"] = {**config["model"], "pretrained": None}
    cfg = OmegaConf.create(config)
    for item in inference:
        key = item.split("=", 1)[0]
        if (
            "=" not in item
            or not key.startswith("inference.")
            or OmegaConf.select(cfg, key) is None
        ):
            raise ValueError(
                f"{item!r}: expected inference.KEY=VALUE with a KEY of the run's inference "
                f"settings ({sorted(cfg.get('inference', {}))})"
            )
    cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(list(inference)))
    stage = get_stage(cfg.stage)
    module = stage.build_module(cfg)
    module.load_state_dict(ckpt["state_dict"])
    metadata = {
        **stage.weights_metadata(cfg),
        "config": cfg.name,
        "global_step": int(ckpt.get("global_step", 0)),
        "train_seconds": ckpt.get("callbacks", {}).get("TrainingClock", {}).get("seconds"),
        "source_checkpoint": Path(checkpoint).name,
        "dtype": str(dtype).removeprefix("torch."),
    }
    path = save_weights(stage.shipped_model(module), out, metadata, dtype=dtype)
    return path, metadata


def data_recipe(sources: list[Mapping[str, Any]], split: str) -> dict[str, Any]:
    """Per training source: its folder, kind, and the recipe our generator recorded
    (``synth/{split}/stats.json``: seed, size, mix, ...) when it made the data."""
    recipe: dict[str, Any] = {}
    for source in sources:
        root = Path(str(source["root"]))
        entry: dict[str, Any] = {"kind": source.get("kind", "auto")}
        stats = root / _SYNTH_STATS.format(split=split)
        if stats.is_file():
            recorded = json.loads(stats.read_text())
            entry["generator"] = {"num": recorded.get("num"), **recorded.get("config", {})}
        recipe[str(root)] = entry
    return recipe


def scalar_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The numbers and strings of a (nested) ``metrics.json``, nested keys joined with
    dots (``hdrnet.removal.psnr``); lists are left out."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(scalar_metrics(value, f"{name}."))
        elif not isinstance(value, list):
            flat[name] = value
    return flat


def _side_card(sides: str | os.PathLike[str]) -> dict[str, Any]:
    """Model-card rows of the side classifier carried by HASM weights."""
    from handhdr.training.weights import read_metadata

    path = Path(sides)
    if path.suffix == ".ckpt":
        ckpt = load_checkpoint(path)
        meta = {
            "global_step": ckpt.get("global_step"),
            "train_seconds": ckpt.get("callbacks", {}).get("TrainingClock", {}).get("seconds"),
        }
        info = read_run_info(path.parent.parent)
        commands = path.parent.parent / "command.txt"
    else:
        meta = read_metadata(path)
        info, commands = {}, None
    return {
        "source": str(path),
        "training steps": meta.get("global_step"),
        "training time": _minutes(meta.get("train_seconds")),
        f"best {info.get('monitor')}": info.get("best_score") if info else None,
        "commands": commands.read_text().strip() if commands and commands.is_file() else None,
    }


def export_run(
    run_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    which: str = "best",
    metrics: Mapping[str, Any] | None = None,
    notes: str | None = None,
    inference: Sequence[str] = (),
    sides: str | os.PathLike[str] | None = None,
) -> tuple[Path, Path]:
    """Export a run for shipping: fp16 weights at ``out`` and the model card ``out.md``
    (``inference``: see :func:`export_checkpoint`). ``sides``: for a side-invariant
    HASM run, the side classifier (weights or a ``side`` checkpoint) to carry inside."""
    run_dir = Path(run_dir)
    checkpoint = find_checkpoint(run_dir, which)
    cfg = OmegaConf.load(run_dir / "config.yaml")
    if sides is not None and not (
        cfg.stage == "hasm" and OmegaConf.select(cfg, "loss.side_invariant", default=False)
    ):
        raise ValueError(
            f"--sides: {run_dir} is not a HASM run trained with loss.side_invariant=true "
            "(its inference.side_invariant is false): it tells right from left itself"
        )
    weights, metadata = export_checkpoint(checkpoint, out, inference=inference)
    side_section = None
    if sides is not None:
        from handhdr.hasm.weights import attach_sides

        attach_sides(weights, sides, weights)
        side_section = _side_card(sides)
    info = read_run_info(run_dir)
    commands = (
        (run_dir / "command.txt").read_text().strip()
        if (run_dir / "command.txt").is_file()
        else "(not recorded)"
    )
    digest = file_sha256(weights)
    sections: dict[str, Any] = {
        "Model": {
            "stage": metadata["stage"],
            "config": cfg.name,
            "architecture": metadata.get("model", {}),
            "inference": metadata.get("inference", {}),
            "weights": f"{weights.name} ({metadata['dtype']}, sha256 {digest[:16]}...)",
            "inference changed at export": " ".join(inference) or "none",
        },
        "Training data": data_recipe(
            list(OmegaConf.to_container(cfg.data.sources)),  # type: ignore[arg-type]
            str(cfg.data.train_split),
        ),
        "Training": {
            "exported checkpoint": f"{which} ({checkpoint.name}), step {metadata['global_step']}",
            "training time to that checkpoint": _minutes(metadata.get("train_seconds")),
            "run": f"{info.get('global_step')} steps, {_minutes(info.get('train_seconds'))}"
            if info
            else "(no run_info.json)",
            "devices": f"{info.get('accelerator')} x {info.get('devices')}, "
            f"{info.get('num_nodes')} node(s), precision {info.get('precision')}"
            if info
            else "(no run_info.json)",
            f"best {info.get('monitor')}": info.get("best_score"),
        },
        "Commands": f"```\n{commands}\n```",
    }
    if metrics:
        sections["Evaluation"] = scalar_metrics(metrics)
        if "root" in metrics and "split" in metrics:
            source = [{"root": metrics["root"], "kind": "interhand"}]
            sections["Evaluation data"] = data_recipe(source, str(metrics["split"]))
    if side_section:
        sections["Side classifier"] = side_section
    if notes:
        sections["Notes"] = notes
    sections["Licence"] = "Apache-2.0, like the handhdr code; trained on synthetic data only."
    title = f"{metadata['stage'].upper()} weights: {Path(out).stem}"
    card = write_model_card(Path(out).with_suffix(".md"), title, sections)
    return weights, card
