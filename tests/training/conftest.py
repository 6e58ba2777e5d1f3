"""A toy stage for the shared trainer's tests (no transformers, runs in a second)."""

import lightning.pytorch as L
import pytest
import torch
from omegaconf import OmegaConf
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from handhdr.training.config import COMMON_DEFAULTS, to_container
from handhdr.training.trainer import Stage, register_stage


class ToyTask(L.LightningModule):
    def __init__(self, config):
        super().__init__()
        self.save_hyperparameters({"config": config})
        torch.manual_seed(0)
        self.net = nn.Linear(3, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self.net(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/score", -nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=0.05)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 / (1 + step))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class ToyData(L.LightningDataModule):
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(1)
        x = torch.randn(24, 3, generator=g)
        self.data = TensorDataset(x, x @ torch.tensor([[1.0], [-2.0], [0.5]]))

    def train_dataloader(self):
        return DataLoader(self.data, batch_size=4, shuffle=False)

    def val_dataloader(self):
        return DataLoader(self.data, batch_size=8)


register_stage(
    Stage(
        name="toy",
        build_module=lambda cfg: ToyTask(to_container(cfg)),
        build_datamodule=lambda cfg: ToyData(),
        shipped_model=lambda module: module.net,
        weights_metadata=lambda cfg: {"stage": "toy"},
        monitor="val/score",
    )
)


def make_toy_config(root, max_steps, name="toy-run"):
    cfg = OmegaConf.merge(
        OmegaConf.create(COMMON_DEFAULTS),
        {
            "stage": "toy",
            "name": "toy",
            "run": {"root": str(root), "name": name},
            "trainer": {
                "max_steps": max_steps,
                "val_every_n_steps": 4,
                "checkpoint_every_n_steps": 1,
                "log_every_n_steps": 1,
                "progress_bar": False,
            },
        },
    )
    return cfg


@pytest.fixture
def toy_config():
    """``toy_config(root, max_steps, name)``: a configuration of the toy stage."""
    return make_toy_config
