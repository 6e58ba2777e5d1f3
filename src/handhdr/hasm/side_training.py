"""Training the side classifier (:mod:`handhdr.hasm.side`) on the shared trainer.

``handhdr train side --config lite --data DIR [--data DIR2 ...]``. Every hand of every
image whose amodal mask has at least ``data.min_pixels`` pixels becomes one crop; the
crops of a split are cut once into a cache (``{cache_dir}/{name}/part-NNNNN.npz``, one
atomic file per ``data.chunk`` images, so a killed build resumes) and held in memory.

Targets: the side (left = 1), and, where the hand's joints are known, the chirality
cues (facing, orientation; binary cross-entropy, weight ``loss.cue_weight``) and the
two image directions (MSE, weight ``loss.direction_weight``) that make the side
learnable (:mod:`handhdr.hasm.chirality`). Augmentation on the batch: a random
``size`` window of the wider cached crop (shift jitter), a horizontal mirror that
exchanges the side and the orientation and negates the directions' x, and
brightness/colour jitter. Validation: the side accuracy of the deployed decision
(mirror-averaged logit > 0, ``val/accuracy``, picks ``best.ckpt``) and, on
interacting images, the share of pairs told apart (``val/pair_accuracy``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning.pytorch as L
import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torch.utils.data import ConcatDataset, Dataset, Subset

from handhdr.hasm.chirality import sample_cues
from handhdr.hasm.side import OUTPUTS, SideCropSettings, SideNet, SideNetConfig, hand_crop
from handhdr.joints import HANDS
from handhdr.training.config import to_container
from handhdr.training.datamodule import StageDataModule
from handhdr.training.schedule import (
    FollowsConfigSchedule,
    step_decay_scheduler,
)
from handhdr.training.trainer import Stage

log = logging.getLogger(__name__)
CACHE_VERSION = 1
_MIRROR_NEGATES = [OUTPUTS.index("forward_x"), OUTPUTS.index("across_x")]
_FLIPS_ON_MIRROR = [OUTPUTS.index("left"), OUTPUTS.index("orientation")]


MaskSource = Callable[[Any], list[tuple[np.ndarray, int]]]


def true_hands(sample: Any) -> list[tuple[np.ndarray, int]]:
    """``(amodal mask, hand index)`` of each annotated hand (ground-truth masks)."""
    return [(sample.masks[2 * k], k) for k in range(len(HANDS))]


def predicted_hands(segment: Callable[[np.ndarray], np.ndarray], min_iou: float) -> MaskSource:
    """A mask source from a side-invariant HASM: each predicted amodal slot, labelled
    with the true hand it overlaps most (slots under ``min_iou`` with both are dropped).
    ``segment``: image -> ``(4, H, W)`` bool masks in the HASM's own slot order."""

    def hands(sample: Any) -> list[tuple[np.ndarray, int]]:
        masks = segment(sample.image)
        out = []
        for slot in range(len(HANDS)):
            amodal = masks[2 * slot]
            ious = [
                np.count_nonzero(amodal & truth) / max(np.count_nonzero(amodal | truth), 1)
                for truth in (sample.masks[2 * k].astype(bool) for k in range(len(HANDS)))
            ]
            if max(ious) >= min_iou:
                out.append((amodal, int(np.argmax(ious))))
        return out

    return hands


def extract_crops(
    reader: Any,
    start: int,
    stop: int,
    settings: SideCropSettings,
    min_pixels: int,
    hands: MaskSource = true_hands,
) -> dict[str, np.ndarray]:
    """Context crops and targets of the hands of samples ``start:stop`` of ``reader``,
    cut around the amodal masks that ``hands`` gives (default: the ground truth's).

    ``crops`` ``(N, C, C, 4)`` uint8; ``targets`` ``(N, 7)`` float32 in OUTPUTS order;
    ``cues_known`` ``(N,)`` bool; ``image`` ``(N,)`` int64 sample index; ``interacting``
    ``(N,)`` bool.
    """
    crops, targets, known, images, interacting = [], [], [], [], []
    for index in range(start, stop):
        sample = reader[index]
        cues, cues_known = sample_cues(sample)
        for amodal, k in hands(sample):
            if int(np.count_nonzero(amodal)) < min_pixels:
                continue
            out = hand_crop(sample.image, amodal, settings, context=True)
            assert out is not None
            crops.append(out)
            targets.append(np.concatenate([[float(k == 1)], cues[k]]).astype(np.float32))
            known.append(bool(cues_known[k]))
            images.append(index)
            interacting.append(sample.hand_type == "interacting")
    c = settings.context
    return {
        "crops": np.stack(crops) if crops else np.zeros((0, c, c, 4), np.uint8),
        "targets": np.stack(targets) if targets else np.zeros((0, len(OUTPUTS)), np.float32),
        "cues_known": np.array(known, bool),
        "image": np.array(images, np.int64),
        "interacting": np.array(interacting, bool),
    }


def cache_name(
    root: str,
    kind: str,
    split: str,
    count: int,
    settings: SideCropSettings,
    min_pixels: int,
    masks: str = "truth",
) -> str:
    """Cache folder name of the first ``count`` samples of a split: a readable prefix
    and a digest of everything that changes the crops (``masks``: ``truth``, or what
    identifies the HASM whose masks were cut)."""
    blob = json.dumps(
        [CACHE_VERSION, str(Path(root).resolve()), kind, split, count, vars(settings), min_pixels]
        + ([masks] if masks != "truth" else []),
        sort_keys=True,
    )
    digest = hashlib.sha1(blob.encode()).hexdigest()[:12]
    return f"{Path(root).name}-{split}-{'' if masks == 'truth' else 'hasm-'}{digest}"


def build_crops(
    reader: Any,
    folder: str | os.PathLike[str],
    settings: SideCropSettings,
    min_pixels: int,
    chunk: int = 500,
    progress: bool = True,
    hands: MaskSource = true_hands,
) -> dict[str, np.ndarray]:
    """All crops of ``reader``, from the cache ``folder`` (parts already written are
    kept, so a killed build resumes), concatenated in memory."""
    from tqdm import tqdm

    from handhdr.io import atomic_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = len(reader)
    starts = range(0, n, chunk)
    bar = tqdm(total=n, desc=f"side crops {folder.name}", disable=not progress)
    parts = []
    for number, start in enumerate(starts):
        path = folder / f"part-{number:05d}.npz"
        if not path.is_file():
            stop = min(start + chunk, n)
            arrays = extract_crops(reader, start, stop, settings, min_pixels, hands)
            with atomic_path(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, **arrays)
        with np.load(path) as data:
            parts.append({key: data[key] for key in data.files})
        bar.update(min(chunk, n - start))
    bar.close()
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


class SideCrops(Dataset):
    """Items of a crops dict: ``crop`` ``(4, C, C)`` uint8 and the targets."""

    def __init__(self, arrays: dict[str, np.ndarray], pair_offset: int = 0) -> None:
        self.arrays = arrays
        # an id shared by the two hands of an interacting image, -1 otherwise
        self.pair = np.where(arrays["interacting"], arrays["image"] + pair_offset, -1)

    def __len__(self) -> int:
        return len(self.arrays["targets"])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        a = self.arrays
        return {
            "crop": torch.from_numpy(np.ascontiguousarray(a["crops"][index].transpose(2, 0, 1))),
            "targets": torch.from_numpy(a["targets"][index]),
            "cues_known": torch.tensor(bool(a["cues_known"][index])),
            "pair": torch.tensor(int(self.pair[index])),
        }


def crop_settings(cfg: DictConfig | dict[str, Any]) -> SideCropSettings:
    """The crop settings of a side configuration."""
    node = cfg["crop"]
    values = OmegaConf.to_container(node) if isinstance(node, DictConfig) else dict(node)
    return SideCropSettings.from_dict(values)  # type: ignore[arg-type]


MASK_MODES = ("truth", "hasm", "both")


class SideDataModule(StageDataModule):
    """Cached hand crops of ``cfg.data.sources`` (train) and their validation splits.

    ``data.masks``: cut the crops around the ground-truth amodal masks (``truth``),
    around the masks a side-invariant HASM (``data.hasm_weights``) predicts (``hasm``:
    what the classifier sees in the pipeline; each slot labelled with the true hand it
    overlaps most), or both for training (``both``; validation then uses ``hasm``).
    """

    unit = "hands"

    def _mask_sources(self) -> dict[str, tuple[str, MaskSource]]:
        """Mask mode -> (cache tag, mask source) for the modes this config uses."""
        d = self.cfg.data
        mode = str(d.masks)
        if mode not in MASK_MODES:
            raise ValueError(f"data.masks must be one of {MASK_MODES}, got {mode!r}")
        sources: dict[str, tuple[str, MaskSource]] = {"truth": ("truth", true_hands)}
        if mode != "truth":
            from handhdr.hasm.weights import hasm_predictor
            from handhdr.io import file_sha256
            from handhdr.training.weights import resolve_weights

            if not d.hasm_weights:
                raise ValueError(f"data.masks={mode} needs data.hasm_weights (HASM weights)")
            path = resolve_weights(str(d.hasm_weights), "hasm_lite")
            # the raw slots: the HASM's own side classifier (if any) must not order them
            predictor = hasm_predictor(path, backend="onnx", side_invariant=False)
            tag = f"hasm:{file_sha256(path)}:{float(d.min_iou)}"
            hands = predicted_hands(lambda image: predictor(image).masks, float(d.min_iou))
            sources["hasm"] = (tag, hands)
        return sources

    def setup(self, stage: str | None = None) -> None:
        from handhdr.training.sources import has_split, open_source

        d = self.cfg.data
        if not d.sources:
            raise ValueError("no training data: pass --data DIR (or set data.sources)")
        settings = crop_settings(self.cfg)
        cache = Path(d.cache_dir) if d.cache_dir else Path(self.cfg.run.root) / "cache" / "side"
        masks = self._mask_sources()
        mode = str(d.masks)
        train_modes = ["truth", "hasm"] if mode == "both" else [mode]
        val_mode = "truth" if mode == "truth" else "hasm"
        train: list[Dataset] = []
        val: list[Dataset] = []
        offset = 0
        for source in d.sources:
            root, kind = str(source["root"]), str(source.get("kind", "auto"))
            jobs = [(d.train_split, train, m) for m in train_modes] + [(d.val_split, val, val_mode)]
            for split, out, how in jobs:
                if out is val and not (split and has_split(root, kind, split)):
                    continue
                reader = open_source(root, kind, split)
                if out is val and d.val_max_samples and len(reader) > int(d.val_max_samples):
                    reader = Subset(reader, range(int(d.val_max_samples)))
                tag, hands = masks[how]
                name = cache_name(root, kind, split, len(reader), settings, int(d.min_pixels), tag)
                arrays = build_crops(
                    reader, cache / name, settings, int(d.min_pixels), int(d.chunk), hands=hands
                )
                out.append(SideCrops(arrays, pair_offset=offset))
                offset += len(reader)
                log.info(
                    "side data: %s (%s) %s, %s masks: %d hands",
                    root,
                    kind,
                    split,
                    how,
                    len(out[-1]),
                )
        self.train_set = ConcatDataset(train)
        self.val_set = ConcatDataset(val) if val else None


def mirror_batch(crops: torch.Tensor, targets: torch.Tensor, flip: torch.Tensor) -> None:
    """Mirror the crops where ``flip`` (in place): the side and the orientation flip,
    the directions' x components change sign, the facing stays."""
    rows = flip.nonzero().flatten()
    crops[rows] = crops[rows].flip(-1)
    t = targets[rows]
    t[:, _FLIPS_ON_MIRROR] = 1.0 - t[:, _FLIPS_ON_MIRROR]
    t[:, _MIRROR_NEGATES] = -t[:, _MIRROR_NEGATES]
    targets[rows] = t


def pair_accuracy(left: torch.Tensor, truth: torch.Tensor, pair: torch.Tensor) -> float | None:
    """Share of interacting pairs (a right and a left hand with the same ``pair`` id)
    whose hand with the higher left-hand score is the left one; None without pairs."""
    right = total = 0
    for image in pair[pair >= 0].unique():
        members = torch.nonzero(pair == image).flatten()
        if len(members) != 2:
            continue
        a, b = members.tolist()
        if truth[a] == truth[b]:  # two crops of one hand (predicted masks): no pair to tell
            continue
        right += int(bool((left[a] > left[b]) == (truth[a] > truth[b])))
        total += 1
    return right / total if total else None


class SideTask(FollowsConfigSchedule, L.LightningModule):
    """Trains a :class:`SideNet`."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.cfg = OmegaConf.create(config)
        self.net = SideNet(SideNetConfig.from_dict(dict(self.cfg.model)))
        self.crop = crop_settings(self.cfg)
        self._val: list[tuple[torch.Tensor, ...]] = []

    def _window(self, crops: torch.Tensor, train: bool) -> torch.Tensor:
        """``size`` windows of the cached ``context`` crops: random or central."""
        c, s = self.crop.context, self.crop.size
        if not train or c == s:
            o = (c - s) // 2
            return crops[..., o : o + s, o : o + s]
        dy, dx = (int(v) for v in torch.randint(0, c - s + 1, (2,)))
        return crops[..., dy : dy + s, dx : dx + s]

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x = self._window(batch["crop"], train=True).float() / 255.0
        t = batch["targets"].clone()
        n = x.shape[0]
        mirror_batch(x, t, torch.rand(n, device=x.device) < 0.5)
        a = self.cfg.aug
        gain = 1.0 + float(a.brightness) * (2 * torch.rand(n, 1, 1, 1, device=x.device) - 1)
        shift = float(a.colour_shift) * (2 * torch.rand(n, 3, 1, 1, device=x.device) - 1)
        x = torch.cat([(x[:, :3] * gain + shift).clamp(0, 1), x[:, 3:]], 1)
        out = self.net(x)
        side = F.binary_cross_entropy_with_logits(out[:, 0], t[:, 0])
        known = batch["cues_known"].float()
        count = known.sum().clamp(min=1.0)
        cues = F.binary_cross_entropy_with_logits(out[:, 1:3], t[:, 1:3], reduction="none")
        cues = (cues.mean(1) * known).sum() / count
        dirs = ((out[:, 3:] - t[:, 3:]) ** 2).mean(1)
        dirs = (dirs * known).sum() / count
        w = self.cfg.loss
        loss = side + float(w.cue_weight) * cues + float(w.direction_weight) * dirs
        for name, value in (("side", side), ("cues", cues), ("directions", dirs)):
            self.log(f"train/loss_{name}", value, batch_size=n)
        self.log("train/loss", loss, prog_bar=True, batch_size=n)
        return loss

    def setup(self, stage: str) -> None:
        """``init``: start from side-classifier weights, unless resuming this run."""
        init = self.cfg.get("init")
        if stage == "fit" and init and not self.trainer.ckpt_path:
            from handhdr.hasm.side import load_side
            from handhdr.training.weights import copy_init_weights

            net, _ = load_side(str(init))
            copy_init_weights(self.net, net, str(init))
            log.info("side: network initialised from %s (optimizer starts fresh)", init)

    def on_validation_epoch_start(self) -> None:
        self._val = []

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        x = self._window(batch["crop"], train=False).float() / 255.0
        plain, mirrored = self.net(x)[:, 0], self.net(x.flip(-1))[:, 0]
        left = 0.5 * (plain - mirrored)
        self._val.append((left, plain, batch["targets"][:, 0], batch["pair"]))

    def on_validation_epoch_end(self) -> None:
        if not self._val:
            return
        left, plain, truth, pair = (torch.cat(v) for v in zip(*self._val, strict=True))
        self.log("val/accuracy", ((left > 0).float() == truth).float().mean(), sync_dist=True)
        self.log(
            "val/accuracy_plain", ((plain > 0).float() == truth).float().mean(), sync_dist=True
        )
        pairs = pair_accuracy(left, truth, pair)
        if pairs is not None:
            self.log("val/pair_accuracy", pairs, sync_dist=True)

    def configure_optimizers(self) -> dict[str, Any]:
        o = self.cfg.optim
        optimizer = torch.optim.AdamW(
            self.net.parameters(), lr=float(o.lr), weight_decay=float(o.weight_decay)
        )
        scheduler = step_decay_scheduler(optimizer, list(o.milestones), float(o.gamma))
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step", "frequency": 1},
        }


def weights_metadata(cfg: DictConfig | dict[str, Any]) -> dict[str, Any]:
    """What a side-classifier weights file stores to rebuild the network and its crops."""
    model = cfg["model"]
    values = OmegaConf.to_container(model) if isinstance(model, DictConfig) else dict(model)
    return {
        "stage": "side",
        "model": SideNetConfig.from_dict(values).to_dict(),  # type: ignore[arg-type]
        "crop": vars(crop_settings(cfg)),
    }


def _shipped_model(module: L.LightningModule) -> nn.Module:
    assert isinstance(module, SideTask)
    return module.net


STAGE = Stage(
    name="side",
    build_module=lambda cfg: SideTask(to_container(cfg)),
    build_datamodule=SideDataModule,
    shipped_model=_shipped_model,
    weights_metadata=weights_metadata,
    monitor="val/accuracy",
    monitor_mode="max",
)
