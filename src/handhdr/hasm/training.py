"""HASM on the shared trainer: the LightningModule and the stage registration.

Optimisation as the reference: AdamW, decoder (head) learning rate x ``head_lr_mult``,
no weight decay on normalisation layers, poly schedule (power 1) with linear warm-up,
one scheduler step per optimizer step. Validation: IoU of each mask on the
fine-pass view (ground-truth two-hand box x ``inference.box_scale``), summed over
the validation set (``val/miou``, the score that picks ``best.ckpt``).
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as L
import torch
import torch.nn.functional as F
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import nn

from handhdr.datasets.schema import MASK_NAMES
from handhdr.hasm.loss import hasm_loss
from handhdr.hasm.metrics import iou_from_totals
from handhdr.hasm.model import HASM, HASMConfig, build_hasm, foreground_logits
from handhdr.training.config import to_container
from handhdr.training.schedule import poly_warmup_scheduler
from handhdr.training.trainer import Stage

_NORMS = (nn.LayerNorm, nn.BatchNorm2d, nn.GroupNorm)


def _plain(node: Any) -> dict[str, Any]:
    """A config block as a plain dict (lists as lists), from OmegaConf or a dict."""
    if isinstance(node, (DictConfig, ListConfig)):
        return OmegaConf.to_container(node, resolve=True)  # type: ignore[return-value]
    return dict(node)


def model_config(cfg: DictConfig | dict[str, Any]) -> HASMConfig:
    """The architecture part of a HASM configuration (``model`` without ``pretrained``)."""
    values = _plain(cfg["model"])
    values.pop("pretrained", None)
    return HASMConfig.from_dict(values)


def parameter_groups(
    model: HASM, lr: float, weight_decay: float, head_lr_mult: float
) -> list[dict]:
    """AdamW groups: encoder at ``lr``, decoder at ``lr * head_lr_mult``; normalisation
    weights and biases without weight decay."""
    no_decay = {
        id(p) for m in model.modules() if isinstance(m, _NORMS) for p in m.parameters(recurse=False)
    }
    groups = []
    for params, group_lr in (
        (model.encoder_parameters(), lr),
        (model.head_parameters(), lr * head_lr_mult),
    ):
        decay = [p for p in params if p.requires_grad and id(p) not in no_decay]
        plain = [p for p in params if p.requires_grad and id(p) in no_decay]
        groups.append({"params": decay, "lr": group_lr, "weight_decay": weight_decay})
        groups.append({"params": plain, "lr": group_lr, "weight_decay": 0.0})
    return [g for g in groups if g["params"]]


class HASMTask(L.LightningModule):
    """Trains a :class:`HASM` with equation (1)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.cfg = OmegaConf.create(config)
        self.model = build_hasm(model_config(config), self.cfg.model.get("pretrained"))
        zeros = torch.zeros(len(MASK_NAMES), dtype=torch.float64)
        self.register_buffer("_val_inter", zeros.clone(), persistent=False)
        self.register_buffer("_val_union", zeros.clone(), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)

    @staticmethod
    def _images(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return batch["image"].float() / 255.0

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        logits = self.model(self._images(batch))
        loss, per_head = hasm_loss(logits, batch["masks"], batch["known"])
        n = batch["image"].shape[0]
        self.log("train/loss", loss, prog_bar=True, batch_size=n)
        for name, value in zip(MASK_NAMES, per_head, strict=True):
            self.log(f"train/loss_{name}", value, batch_size=n)
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val_inter.zero_()
        self._val_union.zero_()

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        images = self._images(batch)
        fg = foreground_logits(self.model(images))
        fg = F.interpolate(fg, size=images.shape[-2:], mode="bilinear", align_corners=False)
        pred, target = fg > 0, batch["masks"].bool()
        known = batch["known"].bool()[:, :, None, None]
        self._val_inter += ((pred & target) & known).sum((0, 2, 3)).double()
        self._val_union += ((pred | target) & known).sum((0, 2, 3)).double()

    def on_validation_epoch_end(self) -> None:
        inter = self.trainer.strategy.reduce(self._val_inter.clone(), reduce_op="sum")
        union = self.trainer.strategy.reduce(self._val_union.clone(), reduce_op="sum")
        ious = iou_from_totals(inter.cpu().numpy(), union.cpu().numpy())
        for name, value in ious.items():
            if value is not None:  # already summed over processes: the same on every rank
                self.log(f"val/{name}", value, prog_bar=name == "miou", sync_dist=True)

    def configure_optimizers(self) -> dict[str, Any]:
        o = self.cfg.optim
        optimizer = torch.optim.AdamW(
            parameter_groups(self.model, float(o.lr), float(o.weight_decay), float(o.head_lr_mult)),
            lr=float(o.lr),
            betas=tuple(o.betas),
        )
        scheduler = poly_warmup_scheduler(
            optimizer,
            max_steps=int(self.cfg.trainer.max_steps),
            warmup_steps=int(o.warmup_steps),
            power=float(o.power),
            warmup_ratio=float(o.warmup_ratio),
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step", "frequency": 1},
        }


def _build_module(cfg: DictConfig) -> HASMTask:
    return HASMTask(to_container(cfg))


def _build_datamodule(cfg: DictConfig) -> L.LightningDataModule:
    from handhdr.hasm.data import HASMDataModule

    return HASMDataModule(cfg)


def _shipped_model(module: L.LightningModule) -> nn.Module:
    assert isinstance(module, HASMTask)
    return module.model


def weights_metadata(cfg: DictConfig | dict[str, Any]) -> dict[str, Any]:
    """What a HASM weights file stores to rebuild the network and its inference."""
    inference = _plain(cfg["inference"])
    return {"stage": "hasm", "model": model_config(cfg).to_dict(), "inference": inference}


STAGE = Stage(
    name="hasm",
    build_module=_build_module,
    build_datamodule=_build_datamodule,
    shipped_model=_shipped_model,
    weights_metadata=weights_metadata,
    monitor="val/miou",
    monitor_mode="max",
)
