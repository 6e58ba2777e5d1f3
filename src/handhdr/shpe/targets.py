"""DetNet's training targets and their readout (DESIGN §2), batched in torch.

Conventions: ``joints_2d`` are crop pixels of the network input (x right, y down,
pixel ``i`` centred at ``i``); ``joints_3d`` are millimetres relative to the wrist,
right-hand frame; joints in the InterHand2.6M per-hand order. A map cell ``(row, col)``
of a ``stride``-times smaller map covers crop pixels ``[stride col - 0.5, stride (col
+ 1) - 0.5)``, so its centre is at ``u = stride (col + 0.5) - 0.5`` (and ``v`` from
``row`` the same way).

* **Heatmap** ``H_j``: a Gaussian around the joint, ``sigma = 2.5`` cells at 64 x 64
  maps, scaled with the map size (``1.25`` at 32 x 32), peak 1.
* **Location map** ``L_j``: the wrist-relative 3D joint divided by the length of the
  reference bone, wrist (20) to middle MCP (11); the same vector at every cell (the
  loss weighs it by ``H_j``, so only the cells near the joint learn it).
* **Delta map** ``D_j``: the unit direction of the bone from the joint's parent
  (:data:`handhdr.joints.INTERHAND_PARENTS`) to the joint. The wrist has no parent:
  its target is zero and it carries no delta loss.
* **Readout**: per joint, the heatmap's argmax gives ``(row, col)``, i.e. crop pixel
  ``(u, v) = (centre of col, centre of row)``; the location map sampled at that cell
  is the 3D joint in reference-bone units.

Targets are vectors, not maps, where a map would only repeat them; the loss
(:mod:`handhdr.shpe.loss`) broadcasts them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from handhdr.joints import INTERHAND_PARENTS, MIDDLE_MCP, WRIST

SIGMA_AT_64 = 2.5  # heatmap sigma (cells) at 64 x 64 maps, the reference setting
_PARENTS = torch.tensor([p if p >= 0 else WRIST for p in INTERHAND_PARENTS])
_HAS_PARENT = torch.tensor([p >= 0 for p in INTERHAND_PARENTS])


def heatmap_sigma(map_size: int) -> float:
    """Gaussian sigma in cells for ``map_size`` maps: 2.5 at 64, proportional otherwise."""
    return SIGMA_AT_64 * map_size / 64.0


def crop_to_map(points: torch.Tensor, stride: int) -> torch.Tensor:
    """Crop pixels -> continuous map cells (cell centres at integers)."""
    return (points + 0.5) / stride - 0.5


def map_to_crop(cells: torch.Tensor, stride: int) -> torch.Tensor:
    """Continuous map cells -> crop pixels (inverse of :func:`crop_to_map`)."""
    return (cells + 0.5) * stride - 0.5


def gaussian_heatmaps(
    joints_2d: torch.Tensor, map_size: int, stride: int, sigma: float | None = None
) -> torch.Tensor:
    """``(B, J, 2)`` crop pixels -> ``(B, J, M, M)`` Gaussians, indexed ``[row, col]``."""
    sigma = heatmap_sigma(map_size) if sigma is None else sigma
    cells = crop_to_map(joints_2d.float(), stride)
    grid = torch.arange(map_size, dtype=cells.dtype, device=cells.device)
    dx = grid.view(1, 1, 1, -1) - cells[..., 0, None, None]  # columns vary along the last axis
    dy = grid.view(1, 1, -1, 1) - cells[..., 1, None, None]  # rows along the one before
    return torch.exp(-(dx * dx + dy * dy) / (2.0 * sigma * sigma))


def reference_bone(joints_3d: torch.Tensor) -> torch.Tensor:
    """``(..., 21, 3)`` -> ``(...)`` wrist-to-middle-MCP length."""
    return torch.linalg.vector_norm(
        joints_3d[..., MIDDLE_MCP, :] - joints_3d[..., WRIST, :], dim=-1
    )


def location_targets(joints_3d: torch.Tensor) -> torch.Tensor:
    """Wrist-relative joints in reference-bone units ``(B, 21, 3)`` (0 where the bone is 0)."""
    rooted = joints_3d - joints_3d[..., WRIST : WRIST + 1, :]
    bone = reference_bone(rooted)
    return rooted / torch.where(bone > 0, bone, torch.ones_like(bone))[..., None, None]


def delta_targets(joints_3d: torch.Tensor) -> torch.Tensor:
    """Unit bone directions parent -> joint ``(B, 21, 3)``; zero for the wrist."""
    parents = _PARENTS.to(joints_3d.device)
    bones = joints_3d - joints_3d[..., parents, :]
    length = torch.linalg.vector_norm(bones, dim=-1, keepdim=True)
    return torch.where(length > 0, bones / length.clamp_min(1e-12), torch.zeros_like(bones))


@dataclass
class Targets:
    """Everything the DetNet loss compares against, for a batch."""

    heatmaps: torch.Tensor  # (B, J, M, M)
    location: torch.Tensor  # (B, J, 3) reference-bone units
    delta: torch.Tensor  # (B, J, 3) unit vectors
    heatmap_weight: torch.Tensor  # (B, J) 1 where the joint is annotated
    location_weight: torch.Tensor  # (B, J) ... and the wrist and middle MCP are too
    delta_weight: torch.Tensor  # (B, J) ... joint and parent annotated (never the wrist)


def make_targets(
    joints_2d: torch.Tensor,
    joints_3d: torch.Tensor,
    valid: torch.Tensor,
    map_size: int,
    stride: int,
    sigma: float | None = None,
) -> Targets:
    """Targets of a batch: ``joints_2d (B, 21, 2)`` crop pixels, ``joints_3d (B, 21, 3)``
    mm (any origin; made wrist-relative here), ``valid (B, 21)`` bool."""
    valid = valid.bool()
    joints_3d = joints_3d.float()
    bone_ok = valid[:, WRIST] & valid[:, MIDDLE_MCP] & (reference_bone(joints_3d) > 0)
    parents = _PARENTS.to(valid.device)
    has_parent = _HAS_PARENT.to(valid.device)
    return Targets(
        heatmaps=gaussian_heatmaps(joints_2d, map_size, stride, sigma),
        location=location_targets(joints_3d),
        delta=delta_targets(joints_3d),
        heatmap_weight=valid.float(),
        location_weight=(valid & bone_ok[:, None]).float(),
        delta_weight=(valid & valid[:, parents] & has_parent).float(),
    )


def readout(
    heatmaps: torch.Tensor, location: torch.Tensor, stride: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """DetNet's readout: ``heatmaps (B, J, M, M)``, ``location (B, J, 3, M, M)`` ->
    ``joints_2d (B, J, 2)`` crop pixels, ``joints_3d (B, J, 3)`` reference-bone units,
    ``peak (B, J)`` heatmap maxima. Exportable to ONNX (argmax and a gather)."""
    b, j, m = heatmaps.shape[0], heatmaps.shape[1], heatmaps.shape[-1]
    flat = heatmaps.reshape(b, j, m * m)
    peak, index = flat.max(dim=-1)
    row = torch.div(index, m, rounding_mode="floor")
    col = index - row * m
    cells = torch.stack([col, row], dim=-1).to(heatmaps.dtype)  # (u, v) = (col, row)
    gather = index.view(b, j, 1, 1).expand(b, j, 3, 1)
    xyz = location.reshape(b, j, 3, m * m).gather(-1, gather).squeeze(-1)
    return map_to_crop(cells, stride), xyz, peak


__all__ = [
    "SIGMA_AT_64",
    "Targets",
    "crop_to_map",
    "delta_targets",
    "gaussian_heatmaps",
    "heatmap_sigma",
    "location_targets",
    "make_targets",
    "map_to_crop",
    "readout",
    "reference_bone",
]
