"""HDRM on the shared trainer: the GAN LightningModule, its data, the stage registration.

Two stages (paper Sec. 4): stage 1 trains on ground-truth masks; stage 2 starts from
stage 1 (``stage2.init``) and fine-tunes on masks predicted by HASM
(``stage2.hasm_weights``); ``stage2.masks=both`` (not in the paper) keeps the
ground-truth crops in the stage-2 mix beside HASM's. ``handhdr train hdrm --stage 1|2`` picks the stage
(:func:`stage_overrides`): each stage has its own run folder
(``hdrm-{config}-stage{n}``), learning rate, number of steps and time limit
(``stage{n}.lr``, ``stage{n}.max_steps``, ``stage{n}.max_time``).

Optimisation (manual, one generator and one discriminator step per batch): Adam for
both with betas ``optim.betas`` (0, 0.9), the discriminator at ``optim.d_lr_mult``
(0.1) x the generator's learning rate. The discriminator step goes straight to the
strategy (precision plugin included) rather than through Lightning's optimizer
wrapper, so that ``global_step`` -- and with it ``trainer.max_steps`` and the
checkpoint interval -- counts batches, whether the discriminator is on or off.

Training crops are cut once into a disk cache (:mod:`handhdr.hdrm.cache`) in
``prepare_data``; validation reports PSNR and L1 inside ``M_D`` and ``M_R``
(``val/psnr``, their mean, picks ``best.ckpt``) and an image grid (input, erased
input, output, ground truth) in TensorBoard and as PNG files in ``{run}/samples/``.
"""

from __future__ import annotations

import itertools
import logging
import math
from pathlib import Path
from typing import Any

import lightning.pytorch as L
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torch.utils.data import ConcatDataset

from handhdr.hdrm.cache import CacheSpec, CropCache, build_crop_cache
from handhdr.hdrm.discriminator import PatchDiscriminator
from handhdr.hdrm.losses import (
    HDRLossTerms,
    LossWeights,
    discriminator_loss,
    hdr_loss,
    load_vgg16_features,
)
from handhdr.hdrm.network import HDRNet, HDRNetConfig
from handhdr.io import file_sha256
from handhdr.training.config import to_container
from handhdr.training.datamodule import StageDataModule
from handhdr.training.schedule import poly_warmup_scheduler
from handhdr.training.trainer import Stage

log = logging.getLogger(__name__)


def stage_overrides(stage: int) -> list[str]:
    """Config overrides that select training stage 1 or 2 (used by the command line)."""
    if stage not in (1, 2):
        raise ValueError(f"the HDRM stage is 1 or 2, got {stage}")
    return [
        f"train_stage={stage}",
        f"trainer.max_steps=${{stage{stage}.max_steps}}",
        f"trainer.max_time=${{stage{stage}.max_time}}",
    ]


def model_config(cfg: DictConfig | dict[str, Any]) -> HDRNetConfig:
    """The HDRNet architecture of a HDRM configuration (``model`` without the
    ``pretrained`` marker that the shared exporter adds)."""
    values = dict(cfg["model"])
    values.pop("pretrained", None)
    return HDRNetConfig.from_dict(values)


def _load_stage1(module: HDRMTask, path: Path) -> None:
    """Initialise stage 2 from a stage-1 checkpoint or a HDRM weights file."""
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no stage-1 result to fine-tune (train stage 1 first, or set stage2.init "
            "to a stage-1 checkpoint or HDRM weights file)"
        )
    if path.suffix == ".safetensors":
        from handhdr.hdrm.weights import load_hdrnet

        net, _ = load_hdrnet(path)
        module.generator.load_state_dict(net.state_dict())
        log.info("HDRM stage 2: generator from %s (discriminator starts fresh)", path)
        return
    ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    state = ckpt.get("state_dict", {}) if isinstance(ckpt, dict) else {}
    for name in ("generator", "discriminator"):
        part = getattr(module, name)
        if part is None:
            continue
        prefix = f"{name}."
        sub = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        if not sub:
            if name == "discriminator":
                continue
            raise ValueError(f"{path}: no '{prefix}*' weights (not a HDRM checkpoint)")
        part.load_state_dict(sub)
    log.info("HDRM stage 2: initialised from %s", path)


class HDRMTask(L.LightningModule):
    """Trains HDRNet with equation (4), adversarially when the discriminator is on."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.cfg = OmegaConf.create(config)
        self.automatic_optimization = False
        self.generator = HDRNet(model_config(config))
        d = self.cfg.discriminator
        self.discriminator = PatchDiscriminator(widths=tuple(d.widths)) if d.enabled else None
        vgg_path = self.cfg.get("vgg16_weights")
        if vgg_path:
            vgg = load_vgg16_features(vgg_path)
            log.info("HDRM losses: perceptual and style losses ON (VGG16 from %s)", vgg_path)
        else:
            vgg = None
            log.warning(
                "HDRM losses: perceptual and style losses OFF (no VGG16 weights; set "
                "vgg16_weights=PATH to a torchvision-layout vgg16 state dict)"
            )
        self.loss_terms = HDRLossTerms(vgg)
        self.weights = LossWeights.from_dict(dict(self.cfg.loss))
        self.stage_cfg = self.cfg[f"stage{int(self.cfg.train_stage)}"]
        self._val_sums: dict[str, torch.Tensor] = {}

    def setup(self, stage: str) -> None:
        """Stage 2 starts from stage 1, unless it resumes its own checkpoint."""
        if stage == "fit" and int(self.cfg.train_stage) == 2 and not self.trainer.ckpt_path:
            _load_stage1(self, Path(str(self.cfg.stage2.init)))

    # ------------------------------------------------------------------ batches

    def _inputs(
        self, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        image = batch["image"].float() / 255.0
        target = batch["target"].float() / 255.0
        masks = batch["masks"].float()
        return image, target, masks

    def _jitter(self, image: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The same random brightness and per-channel gain on input and ground truth."""
        amount = float(self.cfg.aug.color_jitter)
        if amount <= 0:
            return image, target
        b = image.shape[0]
        gain = 1 + amount * (2 * torch.rand(b, 1, 1, 1, device=image.device) - 1)
        gain = gain * (1 + 0.5 * amount * (2 * torch.rand(b, 3, 1, 1, device=image.device) - 1))
        return (image * gain).clamp(0, 1), (target * gain).clamp(0, 1)

    # ------------------------------------------------------------------ training

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        image, target, masks = self._inputs(batch)
        image, target = self._jitter(image, target)
        optimizers = self.optimizers()
        opt_g = optimizers[0] if isinstance(optimizers, list) else optimizers
        out = self.generator(image, masks)
        n = image.shape[0]
        fake_logits = None
        if self.discriminator is not None:
            opt_d = optimizers[1]
            self.toggle_optimizer(opt_d)
            real = self.discriminator(target, out.m_d, out.m_r)
            fake = self.discriminator(out.composite.detach(), out.m_d, out.m_r)
            d_loss = discriminator_loss(real, fake)
            opt_d.zero_grad(set_to_none=True)
            self.manual_backward(d_loss)
            # not opt_d.step(): that would count as a training step (see the module doc)
            self.trainer.strategy.optimizer_step(opt_d.optimizer, closure=_no_closure, model=self)
            self.untoggle_optimizer(opt_d)
            self.log("train/d_loss", d_loss.detach(), batch_size=n)
            self.toggle_optimizer(opt_g)
            fake_logits = self.discriminator(out.composite, out.m_d, out.m_r)
        terms = self.loss_terms(out.raw, out.composite, target, out.m_d, out.m_r, fake_logits)
        g_loss = hdr_loss(terms, self.weights)
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(g_loss)
        opt_g.step()
        if self.discriminator is not None:
            self.untoggle_optimizer(opt_g)
        for scheduler in _as_list(self.lr_schedulers()):
            scheduler.step()
        self.log("train/loss", g_loss.detach(), prog_bar=True, batch_size=n)
        for name, value in terms.items():
            self.log(f"train/{name}", value.detach(), batch_size=n)

    def configure_optimizers(self) -> Any:
        o = self.cfg.optim
        lr = float(self.stage_cfg.lr)
        betas = tuple(float(b) for b in o.betas)
        steps = max(int(self.cfg.trainer.max_steps), 1)
        optimizers = [torch.optim.Adam(self.generator.parameters(), lr=lr, betas=betas)]
        if self.discriminator is not None:
            d_lr = lr * float(o.d_lr_mult)
            optimizers.append(torch.optim.Adam(self.discriminator.parameters(), d_lr, betas))
        schedulers = [
            {
                "scheduler": poly_warmup_scheduler(
                    opt, steps, int(o.warmup_steps), power=float(o.power)
                ),
                "interval": "step",
            }
            for opt in optimizers
        ]
        return optimizers, schedulers

    # ------------------------------------------------------------------ validation

    def on_validation_epoch_start(self) -> None:
        self._val_sums = {}

    def _add(self, key: str, value: torch.Tensor) -> None:
        value = value.detach().double()
        self._val_sums[key] = self._val_sums.get(key, torch.zeros_like(value)) + value

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        image, target, masks = self._inputs(batch)
        out = self.generator(image, masks)
        output = (out.composite.clamp(0, 1) * 255).round()
        truth = target * 255
        for name, region in (("deocclusion", out.m_d), ("removal", out.m_r)):
            diff = (output - truth) * region
            self._add(f"{name}_se", (diff * diff).sum())
            self._add(f"{name}_ae", diff.abs().sum())
            self._add(f"{name}_n", region.sum() * 3)
        if batch_idx == 0:
            self._log_grid(image, out.erased, out.composite, target)

    def on_validation_epoch_end(self) -> None:
        if not self._val_sums:
            return
        sums = {
            k: float(self.trainer.strategy.reduce(v, reduce_op="sum"))
            for k, v in sorted(self._val_sums.items())
        }
        psnrs = []
        for name in ("deocclusion", "removal"):
            count = sums[f"{name}_n"]
            if count == 0:
                continue
            mse = sums[f"{name}_se"] / count
            psnr = 10 * math.log10(255.0**2 / max(mse, 1e-10))
            psnrs.append(psnr)
            self.log(f"val/psnr_{name}", psnr, sync_dist=False)
            self.log(f"val/l1_{name}", sums[f"{name}_ae"] / count, sync_dist=False)
        if psnrs:
            self.log("val/psnr", sum(psnrs) / len(psnrs), prog_bar=True, sync_dist=False)

    def _log_grid(
        self,
        image: torch.Tensor,
        erased: torch.Tensor,
        output: torch.Tensor,
        target: torch.Tensor,
        rows: int = 6,
    ) -> None:
        """Columns: input, erased input, output, ground truth; one row per crop."""
        if not self.trainer.is_global_zero:
            return
        k = min(rows, image.shape[0])
        columns = [image[:k], image[:k] * (1 - erased[:k]), output[:k].clamp(0, 1), target[:k]]
        grid = torch.cat([torch.cat(list(c), dim=2) for c in zip(*columns, strict=True)], dim=1)
        picture = (grid * 255).round().byte().cpu()
        for logger in self.loggers:
            experiment = getattr(logger, "experiment", None)
            if hasattr(experiment, "add_image"):
                experiment.add_image("val/grid", picture, self.global_step)
        from handhdr.io import write_image

        folder = Path(self.trainer.default_root_dir) / "samples"
        write_image(
            folder / f"val_step{self.global_step:07d}.png", picture.permute(1, 2, 0).numpy()
        )


def _no_closure() -> None:
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


# ---------------------------------------------------------------------- data


def _hasm_weights(cfg: DictConfig) -> Path:
    from handhdr.training.weights import resolve_weights

    return resolve_weights(str(cfg.stage2.hasm_weights), "hasm_lite")


STAGE2_MASKS = ("hasm", "both")


def mask_labels(cfg: DictConfig) -> tuple[str, ...]:
    """Where the crops' masks come from, one cache per label: ``gt`` (stage 1), and in
    stage 2 ``hasm:<hash of the weights>`` (the paper), plus ``gt`` with
    ``stage2.masks=both`` (our option: the ground-truth crops stay in the mix)."""
    if int(cfg.train_stage) == 1:
        return ("gt",)
    masks = str(cfg.stage2.get("masks", "hasm"))
    if masks not in STAGE2_MASKS:
        raise ValueError(f"stage2.masks must be one of {STAGE2_MASKS}, got {masks!r}")
    hasm = f"hasm:{file_sha256(_hasm_weights(cfg))[:16]}"
    return (hasm, "gt") if masks == "both" else (hasm,)


def _hasm_mask_source(cfg: DictConfig) -> Any:
    """Stage 2: a function giving HASM's masks of a sample (full frame, coarse to fine)."""
    from handhdr.hasm.weights import hasm_predictor

    predictor = hasm_predictor(_hasm_weights(cfg), backend=str(cfg.stage2.hasm_backend))

    def masks_of(sample: Any) -> np.ndarray:
        return predictor(sample.image).masks

    return masks_of


class HDRMDataModule(StageDataModule):
    """Crop caches of every source (built in ``prepare_data``) as train/val loaders."""

    unit = "crops"

    def __init__(self, cfg: DictConfig) -> None:
        super().__init__(cfg)
        self._mask_labels = mask_labels(cfg)

    def _specs(self) -> list[tuple[dict[str, Any], str, CacheSpec]]:
        from handhdr.training.sources import detect_kind, has_split

        d = self.cfg.data
        if not d.sources:
            raise ValueError("no training data: pass --data DIR (or set data.sources)")
        specs = []
        for source in d.sources:
            root = str(Path(str(source["root"])).resolve())
            kind = str(source.get("kind", "auto"))
            kind = detect_kind(root) if kind == "auto" else kind
            splits = [(str(d.train_split), d.get("max_samples"))]
            if d.val_split and has_split(root, kind, str(d.val_split)):
                splits.append((str(d.val_split), d.val_max_samples))
            for (split, limit), masks in itertools.product(splits, self._mask_labels):
                spec = CacheSpec(
                    root=root,
                    kind=kind,
                    split=split,
                    resolution=int(self.cfg.model.resolution),
                    scale=float(self.cfg.crop.scale),
                    masks=masks,
                    min_erased=int(d.min_erased),
                    max_samples=None if limit is None else int(limit),
                )
                specs.append(({"root": root, "kind": kind}, split, spec))
        return specs

    def _folder(self, spec: CacheSpec) -> Path:
        return Path(str(self.cfg.data.cache_root)) / spec.folder_name()

    def prepare_data(self) -> None:
        from handhdr.training.sources import open_source

        mask_source = None
        for source, split, spec in self._specs():
            folder = self._folder(spec)
            if (folder / "manifest.json").is_file():
                continue
            if spec.masks != "gt" and mask_source is None:
                mask_source = _hasm_mask_source(self.cfg)
            reader = open_source(source["root"], source["kind"], split, load_hdr_gt=True)
            log.info(
                "HDRM crops: %s %s, %d samples -> %s", source["root"], split, len(reader), folder
            )
            build_crop_cache(
                reader,
                folder,
                spec,
                mask_source=mask_source,
                workers=int(self.cfg.data.num_workers),
                progress=bool(self.cfg.trainer.progress_bar),
            )

    def setup(self, stage: str | None = None) -> None:
        train, val = [], []
        for _, split, spec in self._specs():
            cache = CropCache(self._folder(spec))
            (train if split == str(self.cfg.data.train_split) else val).append(cache)
            log.info(
                "HDRM crops %s (%s masks): %d from %s",
                split,
                spec.masks.split(":")[0],
                len(cache),
                spec.root,
            )
        self.train_set = ConcatDataset(train)
        self.val_set = ConcatDataset(val) if val else None


# ---------------------------------------------------------------------- stage


def _build_module(cfg: DictConfig) -> HDRMTask:
    return HDRMTask(to_container(cfg))


def _build_datamodule(cfg: DictConfig) -> L.LightningDataModule:
    return HDRMDataModule(cfg)


def _shipped_model(module: L.LightningModule) -> nn.Module:
    assert isinstance(module, HDRMTask)
    return module.generator


def weights_metadata(cfg: DictConfig | dict[str, Any]) -> dict[str, Any]:
    """What a HDRM weights file stores to rebuild HDRNet and cut its crops."""
    return {
        "stage": "hdrm",
        "model": model_config(cfg).to_dict(),
        "crop": {"scale": float(cfg["crop"]["scale"])},
        "train_stage": int(cfg["train_stage"]),
    }


STAGE = Stage(
    name="hdrm",
    build_module=_build_module,
    build_datamodule=_build_datamodule,
    shipped_model=_shipped_model,
    weights_metadata=weights_metadata,
    monitor="val/psnr",
    monitor_mode="max",
)
