"""Learning-rate schedules shared by the stages."""

from __future__ import annotations

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
