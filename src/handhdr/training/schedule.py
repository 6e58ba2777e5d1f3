"""Learning-rate schedules shared by the stages.

Every schedule is a :class:`LambdaLR` whose factor is a pure function of the step and
the config. A checkpoint stores no closure, so a resumed run follows the schedule of
its *current* config (new ``max_steps`` or milestones take effect). A
``MultiStepLR`` would not: it stores its milestones and its decayed learning rate in
the checkpoint and ignores new ones.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

import torch
from torch.optim.lr_scheduler import LambdaLR


def poly_warmup_factor(
    step: int, max_steps: int, warmup_steps: int, power: float = 1.0, warmup_ratio: float = 1e-6
) -> float:
    """Multiplier of the base learning rate at optimizer step ``step``.

    Poly decay ``(1 - step / max_steps) ** power`` (SegFormer's schedule), multiplied
    during the first ``warmup_steps`` by a linear ramp from ``warmup_ratio`` to 1
    (mmcv's linear warm-up).
    """
    if max_steps <= 0:
        raise ValueError(f"max_steps must be positive, got {max_steps}")
    factor = max(0.0, 1.0 - min(step, max_steps) / max_steps) ** power
    if step < warmup_steps:
        factor *= warmup_ratio + (1.0 - warmup_ratio) * step / warmup_steps
    return factor


def poly_warmup_scheduler(
    optimizer: torch.optim.Optimizer,
    max_steps: int,
    warmup_steps: int,
    power: float = 1.0,
    warmup_ratio: float = 1e-6,
) -> LambdaLR:
    """A per-step :class:`LambdaLR` with :func:`poly_warmup_factor` for every group."""

    def factor(step: int) -> float:
        return poly_warmup_factor(step, max_steps, warmup_steps, power, warmup_ratio)

    return LambdaLR(optimizer, factor)


def step_decay_factor(step: int, milestones: Sequence[int], gamma: float) -> float:
    """``gamma ** k`` where ``k`` is the number of milestones at or before ``step``."""
    return float(gamma) ** bisect_right(sorted(int(m) for m in milestones), step)


def step_decay_scheduler(
    optimizer: torch.optim.Optimizer, milestones: Sequence[int], gamma: float
) -> LambdaLR:
    """A per-step :class:`LambdaLR` with :func:`step_decay_factor` (the paper's DetNet
    schedule: x ``gamma`` at each milestone)."""
    points = [int(m) for m in milestones]

    def factor(step: int) -> float:
        return step_decay_factor(step, points, gamma)

    return LambdaLR(optimizer, factor)


def follow_config_schedule(checkpoint: dict[str, Any], base_lr: float) -> None:
    """Make a checkpoint's scheduler states resume on the current config's schedule.

    Sets every stored base learning rate to ``base_lr`` (a changed ``optim.lr`` takes
    effect) and turns a legacy ``MultiStepLR`` state (checkpoints written before the
    stages used :func:`step_decay_scheduler`) into a :class:`LambdaLR` state with the
    same step count, dropping its stored milestones. Call from ``on_load_checkpoint``,
    and :func:`sync_learning_rates` once training starts.
    """
    for state in checkpoint.get("lr_schedulers", []):
        n = len(state.get("base_lrs", []))
        state["base_lrs"] = [float(base_lr)] * n
        if "lr_lambdas" not in state:
            for key in ("milestones", "gamma"):
                state.pop(key, None)
            state["lr_lambdas"] = [None] * n


def sync_learning_rates(scheduler: LambdaLR) -> None:
    """Set the optimizer's learning rates to the schedule's value at its current step.

    A resumed optimizer holds the learning rate it was saved with; without this the
    first step after a resume would still use it."""
    step, pairs = scheduler.last_epoch, zip(scheduler.base_lrs, scheduler.lr_lambdas, strict=True)
    rates = [base * fn(step) for base, fn in pairs]
    for group, rate in zip(scheduler.optimizer.param_groups, rates, strict=True):
        group["lr"] = rate


class FollowsConfigSchedule:
    """LightningModule mixin: a resumed run trains on its current config's learning
    rate (``self.cfg.optim.lr``) and step schedule, from its first step on
    (:func:`follow_config_schedule`, :func:`sync_learning_rates`)."""

    cfg: Any
    trainer: Any

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        follow_config_schedule(checkpoint, float(self.cfg.optim.lr))

    def on_train_start(self) -> None:
        for config in self.trainer.lr_scheduler_configs:
            sync_learning_rates(config.scheduler)
