"""The parts of an SHPE training configuration (``configs/shpe/*.yaml``) as objects.

Kept apart from the training code so that reading a configuration needs neither
Lightning nor a dataset.
"""

from __future__ import annotations

from typing import Any

from handhdr.shpe.augment import AugmentConfig
from handhdr.shpe.crops import CropSettings
from handhdr.shpe.detnet import DetNetConfig
from handhdr.shpe.loss import LossWeights

Config = Any  # an omegaconf DictConfig or a plain dict of the same structure


def model_config(cfg: Config) -> DetNetConfig:
    """The architecture (``model``, with the top-level ``input_size``)."""
    values = dict(cfg["model"])
    values.pop("pretrained", None)  # set by the shared exporter; DetNet has none
    values["input_size"] = int(cfg["input_size"])
    return DetNetConfig.from_dict(values)


def loss_weights(cfg: Config) -> LossWeights:
    """The weights of eq. (5) (``loss``)."""
    return LossWeights(**{k: float(v) for k, v in dict(cfg["loss"]).items()})


def crop_settings(cfg: Config) -> CropSettings:
    """How context crops are cut (``crop`` and ``input_size``)."""
    return CropSettings(
        input_size=int(cfg["input_size"]),
        box_scale=float(cfg["crop"]["box_scale"]),
        context=float(cfg["crop"]["context"]),
    )


def augment_config(cfg: Config) -> AugmentConfig:
    """The training augmentation (``aug``)."""
    values = dict(cfg["aug"])
    values["scale_range"] = tuple(float(v) for v in values["scale_range"])
    return AugmentConfig(**values)


__all__ = ["augment_config", "crop_settings", "loss_weights", "model_config"]
