"""HASM on the shared trainer: the LightningModule and the stage registration.

Optimisation as the reference: AdamW, decoder (head) learning rate x ``head_lr_mult``,
no weight decay on normalisation layers, poly schedule (power 1) with linear warm-up,
one scheduler step per optimizer step. Validation: IoU of each mask on the
fine-pass view (ground-truth two-hand box x ``inference.box_scale``), summed over
the validation set (``val/miou``, the score that picks ``best.ckpt``), and the same
with the predicted sides exchanged (``val/miou_swapped``: far below ``val/miou`` once
the network tells right from left, equal to it while it guesses), and matched per
image (``val/miou_matched``: the sides from an oracle, i.e. how well the hands are
separated).

Options beyond the paper: ``loss.cue_weight`` > 0 adds a training-only head for the
chirality cues (:mod:`handhdr.hasm.chirality`), dropped at export;
``loss.side_invariant`` trains against the better side assignment of each sample
(:mod:`handhdr.hasm.loss`); ``init`` starts the network from HASM weights or a
checkpoint (fine-tuning; the optimizer starts fresh).
"""

from __future__ import annotations

import logging
from typing import Any

import lightning.pytorch as L
import torch
import torch.nn.functional as F
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import nn

from handhdr.datasets.schema import MASK_NAMES
from handhdr.hasm.augment import SWAP_HANDS
from handhdr.hasm.chirality import CUE_NAMES
from handhdr.hasm.loss import cue_loss, hasm_loss
from handhdr.hasm.metrics import iou_from_totals, matched_assignment
from handhdr.hasm.model import HASM, HASMConfig, MaskHead, build_hasm, foreground_logits
from handhdr.joints import HANDS
from handhdr.training.config import to_container
from handhdr.training.schedule import poly_warmup_scheduler
from handhdr.training.trainer import Stage
from handhdr.training.weights import copy_init_weights

_NORMS = (nn.LayerNorm, nn.BatchNorm2d, nn.GroupNorm)
log = logging.getLogger(__name__)


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
    model: HASM,
    lr: float,
    weight_decay: float,
    head_lr_mult: float,
    extra_heads: tuple[nn.Module, ...] = (),
) -> list[dict]:
    """AdamW groups: encoder at ``lr``, decoder (and ``extra_heads``) at
    ``lr * head_lr_mult``; normalisation weights and biases without weight decay."""
    modules = [model, *extra_heads]
    no_decay = {
        id(p)
        for module in modules
        for m in module.modules()
        if isinstance(m, _NORMS)
        for p in m.parameters(recurse=False)
    }
    heads = model.head_parameters() + [p for h in extra_heads for p in h.parameters()]
    groups = []
    for params, group_lr in ((model.encoder_parameters(), lr), (heads, lr * head_lr_mult)):
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
        self.cue_weight = float(self.cfg.get("loss", {}).get("cue_weight", 0.0))
        self.side_invariant = bool(self.cfg.get("loss", {}).get("side_invariant", False))
        self.cue_head: MaskHead | None = None
        if self.cue_weight > 0:  # training only: not part of self.model, so never exported
            c = self.model.config
            fused = c.decoder_width * len(c.encoder_dims()[0])
            self.cue_head = MaskHead(fused, c.decoder_width, c.dropout, len(CUE_NAMES))
        # totals as predicted, with the sides exchanged, and matched per image (metrics.py)
        zeros = torch.zeros((3, len(MASK_NAMES)), dtype=torch.float64)
        self.register_buffer("_val_inter", zeros.clone(), persistent=False)
        self.register_buffer("_val_union", zeros.clone(), persistent=False)

    def setup(self, stage: str) -> None:
        """``init``: start the network from HASM weights, unless resuming this run."""
        init = self.cfg.get("init")
        if stage == "fit" and init and not self.trainer.ckpt_path:
            _load_init(self.model, str(init))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)

    @staticmethod
    def _images(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return batch["image"].float() / 255.0

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        fused = self.model.decoder.fuse(self.model.features(self._images(batch)))
        loss, per_head = hasm_loss(
            self.model.decoder.classify(fused),
            batch["masks"],
            batch["known"],
            side_invariant=self.side_invariant,
        )
        n = batch["image"].shape[0]
        for name, value in zip(MASK_NAMES, per_head, strict=True):
            self.log(f"train/loss_{name}", value, batch_size=n)
        if self.cue_head is not None:
            visible = batch["masks"][:, [MASK_NAMES.index(f"{h}_visible") for h in HANDS]]
            cues, per_cue = cue_loss(
                self.cue_head(fused), visible, batch["cues"], batch["cues_known"]
            )
            for name, value in zip(CUE_NAMES, per_cue, strict=True):
                self.log(f"train/loss_cue_{name}", value, batch_size=n)
            loss = loss + self.cue_weight * cues
        self.log("train/loss", loss, prog_bar=True, batch_size=n)
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val_inter.zero_()
        self._val_union.zero_()

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        images = self._images(batch)
        fg = foreground_logits(self.model(images))
        fg = F.interpolate(fg, size=images.shape[-2:], mode="bilinear", align_corners=False)
        target, known = batch["masks"].bool(), batch["known"].bool()[:, :, None, None]
        pairs = torch.stack([fg > 0, fg[:, list(SWAP_HANDS)] > 0], 1)  # (B, 2, 4, H, W)
        inter = ((pairs & target[:, None]) & known[:, None]).sum((3, 4)).double()
        union = ((pairs | target[:, None]) & known[:, None]).sum((3, 4)).double()
        pick = torch.as_tensor(
            matched_assignment(inter.cpu().numpy(), union.cpu().numpy()), device=inter.device
        )
        rows = torch.arange(len(pick), device=inter.device)
        for k, (i, u) in enumerate(
            (
                (inter[:, 0], union[:, 0]),
                (inter[:, 1], union[:, 1]),
                (inter[rows, pick], union[rows, pick]),
            )
        ):
            self._val_inter[k] += i.sum(0)
            self._val_union[k] += u.sum(0)

    def on_validation_epoch_end(self) -> None:
        inter = self.trainer.strategy.reduce(self._val_inter.clone(), reduce_op="sum")
        union = self.trainer.strategy.reduce(self._val_union.clone(), reduce_op="sum")
        ious = iou_from_totals(inter[0].cpu().numpy(), union[0].cpu().numpy())
        for k, name in ((1, "miou_swapped"), (2, "miou_matched")):
            value = iou_from_totals(inter[k].cpu().numpy(), union[k].cpu().numpy())["miou"]
            if value is not None:
                ious[name] = value
        for name, value in ious.items():
            if value is not None:  # already summed over processes: the same on every rank
                self.log(f"val/{name}", value, prog_bar=name == "miou", sync_dist=True)

    def configure_optimizers(self) -> dict[str, Any]:
        o = self.cfg.optim
        optimizer = torch.optim.AdamW(
            parameter_groups(
                self.model,
                float(o.lr),
                float(o.weight_decay),
                float(o.head_lr_mult),
                extra_heads=(self.cue_head,) if self.cue_head is not None else (),
            ),
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


def _load_init(model: HASM, spec: str) -> None:
    """Copy the network of HASM weights or a HASM checkpoint ``spec`` into ``model``."""
    from handhdr.hasm.weights import load_hasm

    net, _ = load_hasm(spec)
    copy_init_weights(model, net, spec)
    log.info("HASM: network initialised from %s (optimizer and schedule start fresh)", spec)


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
    inference["side_invariant"] = bool(_plain(cfg.get("loss") or {}).get("side_invariant", False))
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
