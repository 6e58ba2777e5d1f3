"""The trainer every stage shares: Lightning, run folders, checkpoints, resume, logs.

A stage plugs in with a :class:`Stage` (a LightningModule factory, a data module
factory, and what to ship) registered in :data:`STAGE_MODULES`; :func:`fit` does
the rest:

* single CPU, one GPU, several GPUs or nodes (``trainer.devices``,
  ``trainer.num_nodes``, ``trainer.strategy``: e.g. ``ddp``); mixed precision on GPU;
* a run folder ``{run.root}/{run.name or stage-config}/`` with ``config.yaml``,
  ``command.txt`` (every command that trained it), ``checkpoints/last.ckpt`` (every
  ``trainer.checkpoint_every_n_steps`` steps, at the end, and when training is
  interrupted: Ctrl-C, SIGTERM, an error), ``checkpoints/best.ckpt``
  (best validation score), ``logs/csv/version_N/metrics.csv`` and
  ``logs/tensorboard/version_N/`` (one version per session), ``run_info.json``;
* ``resume=True`` continues from ``checkpoints/last.ckpt``: step counter, optimizer,
  schedule and the accumulated training time go on where they stopped.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as L
import torch
from lightning.pytorch.callbacks import (
    Callback,
    EMAWeightAveraging,
    LearningRateMonitor,
    ModelCheckpoint,
)
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from omegaconf import DictConfig, OmegaConf
from torch import nn

from handhdr.io import atomic_write_json, atomic_write_text
from handhdr.training.config import to_container

log = logging.getLogger(__name__)

# stage name -> module defining ``STAGE`` (imported only when that stage is used)
STAGE_MODULES: dict[str, str] = {
    "hasm": "handhdr.hasm.training",
    "hdrm": "handhdr.hdrm.training",
    "shpe": "handhdr.shpe.training",
    "side": "handhdr.hasm.side_training",
}


@dataclass(frozen=True)
class Stage:
    """What a stage gives the shared trainer.

    ``build_module(cfg)`` -> the LightningModule (it must call
    ``save_hyperparameters({"config": to_container(cfg)})`` so that checkpoints can be
    exported); ``build_datamodule(cfg)`` -> the LightningDataModule;
    ``shipped_model(module)`` -> the ``nn.Module`` whose weights are shipped;
    ``weights_metadata(cfg)`` -> what a weights file needs to rebuild that module;
    ``monitor`` -> the logged validation metric that picks ``best.ckpt``.
    """

    name: str
    build_module: Callable[[DictConfig], L.LightningModule]
    build_datamodule: Callable[[DictConfig], L.LightningDataModule]
    shipped_model: Callable[[L.LightningModule], nn.Module]
    weights_metadata: Callable[[DictConfig], dict[str, Any]]
    monitor: str | None = None
    monitor_mode: str = "max"


_REGISTERED: dict[str, Stage] = {}


def register_stage(stage: Stage) -> None:
    """Make ``stage`` available by name without a module path (plug-ins, tests)."""
    _REGISTERED[stage.name] = stage


def get_stage(name: str) -> Stage:
    """The registered :class:`Stage` called ``name``."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in STAGE_MODULES:
        raise ValueError(
            f"unknown stage {name!r}; stages: {sorted({*STAGE_MODULES, *_REGISTERED})}"
        )
    stage = importlib.import_module(STAGE_MODULES[name]).STAGE
    if not isinstance(stage, Stage) or stage.name != name:
        raise TypeError(f"{STAGE_MODULES[name]}.STAGE is not the Stage {name!r}")
    return stage


def run_dir_of(cfg: DictConfig) -> Path:
    """The run folder of a configuration."""
    return Path(cfg.run.root) / (cfg.run.name or f"{cfg.stage}-{cfg.name}")


def last_checkpoint(run_dir: Path) -> Path:
    """Where the latest checkpoint of a run is kept."""
    return Path(run_dir) / "checkpoints" / "last.ckpt"


def best_checkpoint(run_dir: Path) -> Path:
    """Where the best-validation checkpoint of a run is kept."""
    return Path(run_dir) / "checkpoints" / "best.ckpt"


def resolve_precision(precision: str, accelerator: str) -> str:
    """``auto`` -> bf16 (or fp16) mixed precision on a GPU, full fp32 on the CPU."""
    if precision != "auto":
        return precision
    if accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available():
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "32-true"


class TrainingClock(Callback):
    """Counts training wall time across sessions (kept in checkpoints) and writes
    ``run_info.json`` at the end of each session."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.seconds = 0.0
        self._start: float | None = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.monotonic()

    def _elapsed(self) -> float:
        return self.seconds + (time.monotonic() - self._start if self._start is not None else 0.0)

    def state_dict(self) -> dict[str, float]:
        return {"seconds": self._elapsed()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.seconds = float(state_dict.get("seconds", 0.0))

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write_info(trainer)

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        self._write_info(trainer)

    def _write_info(self, trainer: L.Trainer) -> None:
        self.seconds, self._start = self._elapsed(), None
        if not trainer.is_global_zero:
            return
        best = next(
            (c for c in trainer.callbacks if isinstance(c, ModelCheckpoint) and c.monitor), None
        )
        score = best.best_model_score if best is not None else None
        atomic_write_json(
            self.run_dir / "run_info.json",
            {
                "global_step": int(trainer.global_step),
                "train_seconds": round(self.seconds, 1),
                "monitor": best.monitor if best is not None else None,
                "best_score": float(score) if score is not None else None,
                "devices": trainer.num_devices,
                "num_nodes": trainer.num_nodes,
                "precision": str(trainer.precision),
                "accelerator": type(trainer.accelerator).__name__,
            },
        )


@dataclass
class FitResult:
    """Where a run ended."""

    run_dir: Path
    global_step: int
    last_checkpoint: Path
    best_checkpoint: Path | None
    train_seconds: float
    is_global_zero: bool = True  # False in the other processes of a multi-process run


def weight_average(decay: float, start_step: int = 0) -> EMAWeightAveraging:
    """Lightning's EMA of the weights (and of BatchNorm statistics), from ``start_step``.

    Validation and ``best.ckpt`` see the average; every checkpoint's ``state_dict`` is
    the average (the raw weights ride along as ``current_model_state``, so ``--resume``
    continues both), which is what ``handhdr train export`` and ``init=`` read. A run
    resumed from a checkpoint made without it starts the average at that checkpoint.
    """
    if not 0.0 < decay < 1.0:
        raise ValueError(f"trainer.ema_decay must be in (0, 1) or null, got {decay}")
    if start_step < 0:
        raise ValueError(f"trainer.ema_start_step must be at least 0, got {start_step}")
    return EMAWeightAveraging(decay=decay, update_starting_at_step=start_step)


def fit(
    cfg: DictConfig,
    resume: bool = False,
    callbacks: Sequence[Callback] = (),
    command: str | None = None,
) -> FitResult:
    """Train ``cfg.stage`` with configuration ``cfg`` in its run folder.

    ``resume``: continue from the run folder's ``last.ckpt``. Without it, a run
    folder that already holds checkpoints is an error (nothing is overwritten).
    ``callbacks`` are added to the Lightning trainer; ``command`` is recorded.
    """
    stage = get_stage(cfg.stage)
    run_dir = run_dir_of(cfg)
    last = last_checkpoint(run_dir)
    if resume and not last.is_file():
        raise FileNotFoundError(f"{last}: no checkpoint to resume from (run folder {run_dir})")
    if not resume and last.is_file():
        raise FileExistsError(
            f"{run_dir} already holds checkpoints: pass --resume to continue that run, "
            "or choose another run folder with run.name=NAME"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg))
    if command:
        with open(run_dir / "command.txt", "a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {command}\n")

    t = cfg.trainer
    if t.threads:
        torch.set_num_threads(int(t.threads))
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    module = stage.build_module(cfg)
    datamodule = stage.build_datamodule(cfg)

    ckpt_dir = run_dir / "checkpoints"
    clock = TrainingClock(run_dir)
    every = int(t.checkpoint_every_n_steps)
    all_callbacks: list[Callback] = [
        ModelCheckpoint(  # last.ckpt: periodic, at the end, and when interrupted
            dirpath=ckpt_dir,
            filename="last",  # what an interruption saves: last.ckpt, no second file
            every_n_train_steps=every,
            save_top_k=0,
            save_last=True,
            save_on_exception=True,
            enable_version_counter=False,
        ),
        LearningRateMonitor(logging_interval="step"),
        clock,
    ]
    if stage.monitor:
        all_callbacks.append(
            ModelCheckpoint(
                dirpath=ckpt_dir,
                filename="best",
                monitor=stage.monitor,
                mode=stage.monitor_mode,
                save_top_k=1,
                enable_version_counter=False,
                auto_insert_metric_name=False,
            )
        )
    if t.ema_decay is not None:
        all_callbacks.append(weight_average(float(t.ema_decay), int(t.ema_start_step)))
    all_callbacks.extend(callbacks)
    loggers = [
        CSVLogger(save_dir=run_dir / "logs", name="csv"),
        TensorBoardLogger(save_dir=run_dir / "logs", name="tensorboard", default_hp_metric=False),
    ]
    trainer = L.Trainer(
        accelerator=t.accelerator,
        devices=t.devices,
        num_nodes=int(t.num_nodes),
        strategy=t.strategy,
        precision=resolve_precision(str(t.precision), str(t.accelerator)),
        max_steps=int(t.max_steps),
        max_time=t.max_time,
        max_epochs=-1,
        val_check_interval=int(t.val_every_n_steps),
        check_val_every_n_epoch=None,
        limit_val_batches=t.limit_val_batches,
        num_sanity_val_steps=0,
        log_every_n_steps=int(t.log_every_n_steps),
        accumulate_grad_batches=int(t.accumulate_grad_batches),
        gradient_clip_val=t.gradient_clip_val,
        enable_progress_bar=bool(t.progress_bar),
        enable_model_summary=bool(t.progress_bar),
        logger=loggers,
        callbacks=all_callbacks,
        default_root_dir=run_dir,
    )
    trainer.fit(module, datamodule=datamodule, ckpt_path=str(last) if resume else None)
    best = best_checkpoint(run_dir)
    return FitResult(
        run_dir=run_dir,
        global_step=int(trainer.global_step),
        last_checkpoint=last,
        best_checkpoint=best if best.is_file() else None,
        train_seconds=clock.seconds,
        is_global_zero=trainer.is_global_zero,
    )


def read_run_info(run_dir: Path) -> dict[str, Any]:
    """``run_info.json`` of a run (empty if the run never finished a session)."""
    path = Path(run_dir) / "run_info.json"
    return json.loads(path.read_text()) if path.is_file() else {}


__all__ = [
    "STAGE_MODULES",
    "FitResult",
    "Stage",
    "TrainingClock",
    "best_checkpoint",
    "fit",
    "get_stage",
    "last_checkpoint",
    "read_run_info",
    "register_stage",
    "resolve_precision",
    "run_dir_of",
    "to_container",
    "weight_average",
]
