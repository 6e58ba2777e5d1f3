"""The SHPE loss, equation (5) of the paper, in one place.

    L_SHPE = w_heat L_heat + w_delta L_delta + w_loc L_loc + L_reg            (5)

with, per crop ``b`` and joint ``j`` (norms over the map, not squared, as the
reference implementation of DetNet does), averaged over the annotated ``(b, j)``:

* ``L_heat  = || H_bj - H*_bj ||_F``
* ``L_delta = || H*_bj (D_bj - D*_bj) ||_F``  (over the 3 channels and the map)
* ``L_loc   = || H*_bj (L_bj - L*_bj) ||_F``
* ``L_reg   = lambda / 2 sum_k ||W_k||^2`` over the convolution kernels (TF's l2 loss).

Reference weights: ``w_heat = 1``, ``w_delta = 1``, ``w_loc = 5``. Targets and their
weights come from :func:`handhdr.shpe.targets.make_targets`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

from handhdr.shpe.targets import Targets

_EPS = 1e-8  # inside the square roots: a finite gradient when a residual is exactly 0


@dataclass(frozen=True)
class LossWeights:
    """Weights of the terms of eq. (5)."""

    heatmap: float = 1.0
    delta: float = 1.0
    location: float = 5.0
    l2: float = 1e-4  # lambda of the weight regulariser


def _weighted_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return (values * weights).sum() / weights.sum().clamp_min(1.0)


def map_norms(
    heatmaps: torch.Tensor, delta: torch.Tensor, location: torch.Tensor, targets: Targets
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-``(b, j)`` norms of the heatmap, delta and location residuals ``(B, J)`` each."""
    heat = torch.sqrt(((heatmaps - targets.heatmaps) ** 2).sum(dim=(-2, -1)) + _EPS)
    gate = targets.heatmaps.unsqueeze(2)  # (B, J, 1, M, M)
    d = gate * (delta - targets.delta[..., None, None])
    l = gate * (location - targets.location[..., None, None])
    delta_norm = torch.sqrt((d**2).sum(dim=(-3, -2, -1)) + _EPS)
    location_norm = torch.sqrt((l**2).sum(dim=(-3, -2, -1)) + _EPS)
    return heat, delta_norm, location_norm


def shpe_loss(
    outputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    targets: Targets,
    regularized: Iterable[torch.Tensor] = (),
    weights: LossWeights = LossWeights(),
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Equation (5): the total loss and its terms (``heatmap``, ``delta``, ``location``,
    ``l2``), from DetNet's ``(heatmaps, delta, location)`` and the batch's targets."""
    heatmaps, delta, location = outputs
    heat, d, l = map_norms(heatmaps, delta, location, targets)
    terms = {
        "heatmap": _weighted_mean(heat, targets.heatmap_weight),
        "delta": _weighted_mean(d, targets.delta_weight),
        "location": _weighted_mean(l, targets.location_weight),
    }
    reg = sum((w.pow(2).sum() for w in regularized), heatmaps.new_zeros(()))
    terms["l2"] = 0.5 * weights.l2 * reg
    total = (
        weights.heatmap * terms["heatmap"]
        + weights.delta * terms["delta"]
        + weights.location * terms["location"]
        + terms["l2"]
    )
    return total, terms


__all__ = ["LossWeights", "map_norms", "shpe_loss"]
