"""SHPE (DetNet) on the shared trainer: the LightningModule and the stage registration.

Optimisation as the paper: Adam, a step schedule (the learning rate x ``gamma`` at
each of ``optim.milestones``, counted in optimizer steps), the loss of eq. (5)
(:mod:`handhdr.shpe.loss`, whose L2 term is the weight regulariser, so Adam itself
has no weight decay). When training starts, the mean wrist-to-middle-MCP length of
the training hands becomes the model's prior reference bone (``reference_bone_mm``,
saved with the weights) unless ``inference.reference_bone_mm`` fixes it.
Validation: the eval-shpe measures on centre views of the validation hands --
``val/mpjpe`` (ground-truth bone scale, mm; picks ``best.ckpt``),
``val/mpjpe_prior_scale`` and ``val/epe_2d`` (input pixels).
"""

from __future__ import annotations

import logging
from typing import Any

import lightning.pytorch as L
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from handhdr.joints import MIDDLE_MCP, WRIST
from handhdr.shpe.config import loss_weights, model_config
from handhdr.shpe.detnet import DetNet, regularized_parameters
from handhdr.shpe.loss import LossWeights, shpe_loss
from handhdr.shpe.targets import make_targets, readout, reference_bone
from handhdr.training.config import to_container
from handhdr.training.schedule import (
    FollowsConfigSchedule,
    step_decay_scheduler,
)
from handhdr.training.trainer import Stage
from handhdr.training.weights import copy_init_weights

log = logging.getLogger(__name__)


def training_loss(
    model: DetNet,
    batch: dict[str, torch.Tensor],
    weights: LossWeights,
    heatmap_sigma: float | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Eq. (5) on a batch of views (``image`` uint8, ``joints_2d``, ``joints_3d``, ``valid``).

    ``heatmap_sigma``: Gaussian sigma of the target heatmaps in map cells; None = the
    reference's 2.5 cells at 64 x 64, scaled with the map size.
    """
    outputs = model(batch["image"].float() / 255.0)
    c = model.config
    targets = make_targets(
        batch["joints_2d"], batch["joints_3d"], batch["valid"], c.map_size, c.stride,
        sigma=heatmap_sigma,
    )  # fmt: skip
    return shpe_loss(outputs, targets, regularized_parameters(model), weights)


def validation_errors(
    model: DetNet, batch: dict[str, torch.Tensor]
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Sums and counts of the validation measures on one batch of centre views."""
    images = batch["image"].float() / 255.0
    heatmaps, _, location = model(images)
    uv, units, _ = readout(heatmaps, location, model.config.stride)
    gt = batch["joints_3d"].float()
    gt = gt - gt[:, WRIST : WRIST + 1]
    pred = units - units[:, WRIST : WRIST + 1]
    own, target = reference_bone(pred), reference_bone(gt)
    scale = torch.where(own > 0, target / own.clamp_min(1e-12), torch.ones_like(own))
    valid = batch["valid"].bool()
    valid_3d = valid & valid[:, WRIST : WRIST + 1]
    valid_scaled = valid_3d & valid[:, MIDDLE_MCP : MIDDLE_MCP + 1]
    errors = {
        "mpjpe": (torch.linalg.vector_norm(pred * scale[:, None, None] - gt, dim=-1), valid_scaled),
        "mpjpe_prior_scale": (
            torch.linalg.vector_norm(pred * model.reference_bone_mm - gt, dim=-1),
            valid_3d,
        ),
        "epe_2d": (torch.linalg.vector_norm(uv - batch["joints_2d"].float(), dim=-1), valid),
    }
    return {k: ((e * v).sum().double(), v.sum().double()) for k, (e, v) in errors.items()}


class SHPETask(FollowsConfigSchedule, L.LightningModule):
    """Trains a :class:`DetNet` with eq. (5)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.cfg = OmegaConf.create(config)
        self.model = DetNet(model_config(config))
        self.weights = loss_weights(config)
        sigma = self.cfg.get("targets", {}).get("heatmap_sigma")
        self.heatmap_sigma = None if sigma is None else float(sigma)
        self._val: dict[str, list[torch.Tensor]] = {}

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.model(images)

    def setup(self, stage: str) -> None:
        """``init``: start the network from SHPE weights, unless resuming this run."""
        init = self.cfg.get("init")
        if stage == "fit" and init and not self.trainer.ckpt_path:
            _load_init(self.model, str(init))

    def on_fit_start(self) -> None:
        fixed = self.cfg.inference.get("reference_bone_mm")
        measured = getattr(self.trainer.datamodule, "reference_bone_mm", None)
        bone = fixed if fixed is not None else measured
        if bone is not None and self.trainer.ckpt_path is None:
            self.model.reference_bone_mm.fill_(float(bone))
            log.info("SHPE prior reference bone: %.2f mm", float(bone))

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, terms = training_loss(self.model, batch, self.weights, self.heatmap_sigma)
        n = batch["image"].shape[0]
        self.log("train/loss", loss, prog_bar=True, batch_size=n)
        for name, value in terms.items():
            self.log(f"train/{name}", value, batch_size=n)
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val = {}

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        for name, (total, count) in validation_errors(self.model, batch).items():
            sums = self._val.setdefault(name, [torch.zeros((), dtype=torch.float64)] * 2)
            self._val[name] = [sums[0] + total.cpu(), sums[1] + count.cpu()]

    def on_validation_epoch_end(self) -> None:
        for name, (total, count) in self._val.items():
            total = self.trainer.strategy.reduce(total.to(self.device), reduce_op="sum")
            count = self.trainer.strategy.reduce(count.to(self.device), reduce_op="sum")
            if float(count) > 0:
                self.log(f"val/{name}", float(total / count), prog_bar=name == "mpjpe")

    def configure_optimizers(self) -> dict[str, Any]:
        o = self.cfg.optim
        optimizer = torch.optim.Adam(self.model.parameters(), lr=float(o.lr), betas=tuple(o.betas))
        scheduler = step_decay_scheduler(optimizer, [int(m) for m in o.milestones], float(o.gamma))
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step", "frequency": 1},
        }


def _load_init(model: DetNet, spec: str) -> None:
    """Copy the network of SHPE weights ``spec`` (``default`` or a ``.safetensors``) into
    ``model``; its prior bone is measured again on this run's data (``on_fit_start``)."""
    from handhdr.shpe.weights import load_detnet

    copy_init_weights(model, load_detnet(spec), spec)
    log.info("SHPE: network initialised from %s (optimizer and schedule start fresh)", spec)


def _build_module(cfg: DictConfig) -> SHPETask:
    return SHPETask(to_container(cfg))


def _build_datamodule(cfg: DictConfig) -> L.LightningDataModule:
    from handhdr.shpe.data import SHPEDataModule

    return SHPEDataModule(cfg)


def _shipped_model(module: L.LightningModule) -> nn.Module:
    assert isinstance(module, SHPETask)
    return module.model


def weights_metadata(cfg: DictConfig | dict[str, Any]) -> dict[str, Any]:
    """What an SHPE weights file stores to rebuild the network (the prior bone length
    travels in the state dict, as the ``reference_bone_mm`` buffer)."""
    fixed = cfg["inference"].get("reference_bone_mm")
    prior = fixed if fixed is not None else "mean of the training hands (tensor reference_bone_mm)"
    return {
        "stage": "shpe",
        "estimator": "detnet",
        "model": model_config(cfg).to_dict(),
        "inference": {"input_size": int(cfg["input_size"]), "reference_bone_mm": prior},
    }


STAGE = Stage(
    name="shpe",
    build_module=_build_module,
    build_datamodule=_build_datamodule,
    shipped_model=_shipped_model,
    weights_metadata=weights_metadata,
    monitor="val/mpjpe",
    monitor_mode="min",
)

__all__ = [
    "STAGE",
    "SHPETask",
    "training_loss",
    "validation_errors",
    "weights_metadata",
]
