"""Training configurations: YAML files, shared defaults and ``key=value`` overrides.

A stage's named configs live in the package, ``handhdr/configs/{stage}/{name}.yaml``
(``--config lite``); any other YAML file can be given by path. The final
configuration is, in order of precedence (last wins):

1. :data:`COMMON_DEFAULTS` (run folder, trainer, data loading: keys every stage has);
2. the YAML file;
3. ``--data`` sources from the command line (replace ``data.sources``);
4. ``key=value`` overrides, e.g. ``trainer.max_steps=200 optim.lr=1e-3``. Values are
   parsed as YAML (``1e-3`` is a float, ``[1, 2]`` a list, ``null`` None). A key that
   the configuration does not have is an error (a typo must not train silently with
   the default); prefix it with ``+`` to add a new key on purpose.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

# keys every stage's configuration has; a stage file overrides what it needs
COMMON_DEFAULTS: dict[str, Any] = {
    "stage": None,  # set by the loader: hasm, hdrm, shpe
    "name": None,  # set by the loader: the config's name (lite, paper, file stem)
    "seed": 0,
    "run": {
        "root": "runs",  # run folders live here (ignored by git)
        "name": None,  # default: "{stage}-{name}"
    },
    "trainer": {
        "accelerator": "auto",  # cpu, gpu, auto
        "devices": 1,  # number of GPUs (or CPU processes) per node; "auto" for all
        "num_nodes": 1,
        "strategy": "auto",  # auto, ddp, ddp_spawn, ...
        "precision": "auto",  # auto: bf16/16-mixed on GPU, 32-true on CPU
        "max_steps": 1000,
        "max_time": None,  # "DD:HH:MM:SS": stop (and checkpoint) when training has run this long
        "val_every_n_steps": 500,
        "limit_val_batches": 1.0,
        "checkpoint_every_n_steps": 200,
        "log_every_n_steps": 10,
        "accumulate_grad_batches": 1,
        "gradient_clip_val": None,
        "progress_bar": True,
        "threads": None,  # torch CPU threads per process; None: torch's default
        # exponential moving average of the weights (not in the paper; off: null):
        # validation, checkpoints and export use the average (trainer.py)
        "ema_decay": None,
        "ema_start_step": 0,  # the average starts at this step (0: at the first step)
    },
    "data": {
        "sources": [],  # [{root: DIR, kind: auto|interhand|aih_syn|aih_render}]
        "train_split": "train",
        "val_split": "val",  # validation is skipped for sources without this split
        "val_max_samples": None,  # validate on at most this many samples per source
        "batch_size": 8,  # per device
        "num_workers": 2,
    },
}


class ConfigError(ValueError):
    """A configuration file or override is wrong; the message says which and why."""


def named_config_path(stage: str, name: str) -> Path:
    """Path of the packaged config ``name`` of ``stage`` (e.g. ``hasm``, ``lite``)."""
    return Path(str(resources.files("handhdr") / "configs" / stage / f"{name}.yaml"))


def available_configs(stage: str) -> list[str]:
    """Names of the packaged configs of ``stage``."""
    folder = Path(str(resources.files("handhdr") / "configs" / stage))
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def resolve_config_file(stage: str, config: str | os.PathLike[str]) -> Path:
    """``lite``/``paper`` -> the packaged file; anything else must be a YAML path."""
    text = str(config)
    if "/" not in text and "\\" not in text and not text.endswith((".yaml", ".yml")):
        path = named_config_path(stage, text)
        if not path.is_file():
            raise ConfigError(
                f"no config named {text!r} for stage {stage!r}; named configs: "
                f"{available_configs(stage)} (or give a path to a YAML file)"
            )
        return path
    path = Path(config)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    return path


def parse_data_arg(value: str) -> dict[str, str]:
    """``DIR`` or ``KIND:DIR`` (e.g. ``aih_render:/data/AIH_render``) -> a source entry."""
    from handhdr.training.sources import KINDS

    kind, sep, rest = value.partition(":")
    if sep and kind in KINDS:
        return {"root": rest, "kind": kind}
    return {"root": value, "kind": "auto"}


def _apply_overrides(cfg: DictConfig, overrides: Sequence[str]) -> DictConfig:
    for item in overrides:
        key, sep, _ = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r} must look like key=value")
        adding = key.startswith("+")
        key = key.lstrip("+").strip()
        try:
            value = OmegaConf.from_dotlist([f"{key}={item.partition('=')[2]}"])
        except OmegaConfBaseException as exc:
            raise ConfigError(f"override {item!r}: {exc}") from exc
        if not adding and OmegaConf.select(cfg, key, default=_MISSING) is _MISSING:
            parent, _, leaf = key.rpartition(".")
            node = OmegaConf.select(cfg, parent) if parent else cfg
            known = sorted(node.keys()) if isinstance(node, DictConfig) else []
            raise ConfigError(
                f"override {item!r}: the config has no key {key!r}"
                + (f" (keys under {parent or 'the top'}: {known})" if known else "")
                + "; prefix it with '+' to add a new key"
            )
        OmegaConf.set_struct(cfg, False)
        cfg = OmegaConf.merge(cfg, value)  # type: ignore[assignment]
    return cfg


_MISSING = object()


def load_config(
    stage: str,
    config: str | os.PathLike[str] = "lite",
    overrides: Sequence[str] = (),
    data: Sequence[str] | None = None,
) -> DictConfig:
    """The full training configuration of ``stage`` (see the module docstring)."""
    path = resolve_config_file(stage, config)
    try:
        file_cfg = OmegaConf.load(path)
    except (OmegaConfBaseException, OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable YAML config ({exc})") from exc
    if not isinstance(file_cfg, DictConfig):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    file_stage = file_cfg.get("stage")
    if file_stage not in (None, stage):
        raise ConfigError(f"{path}: is a config of stage {file_stage!r}, not {stage!r}")
    cfg = OmegaConf.merge(OmegaConf.create(COMMON_DEFAULTS), file_cfg)
    cfg.stage = stage
    if cfg.get("name") is None:
        cfg.name = path.stem
    if data:
        cfg.data.sources = [parse_data_arg(d) for d in data]
    cfg = _apply_overrides(cfg, overrides)
    return cfg  # type: ignore[return-value]


def to_container(cfg: DictConfig) -> dict[str, Any]:
    """Plain dict (resolved) of a config: what checkpoints and weights metadata store."""
    out = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(out, dict)
    return out  # type: ignore[return-value]
