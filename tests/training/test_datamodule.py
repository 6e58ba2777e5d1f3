import pytest
import torch
from omegaconf import OmegaConf
from torch.utils.data import TensorDataset

from handhdr.training.datamodule import StageDataModule


def _module(batch_size: int, n_train: int, with_val: bool) -> StageDataModule:
    cfg = OmegaConf.create({"data": {"batch_size": batch_size, "num_workers": 0}})
    module = StageDataModule(cfg)
    module.unit = "crops"
    module.train_set = TensorDataset(torch.arange(n_train))
    module.val_set = TensorDataset(torch.arange(3)) if with_val else None
    return module


def test_train_loader_drops_the_last_partial_batch_and_val_keeps_everything():
    module = _module(batch_size=4, n_train=10, with_val=True)
    assert [len(b[0]) for b in module.train_dataloader()] == [4, 4]
    assert sum(len(b[0]) for b in module.val_dataloader()) == 3


def test_no_validation_set_gives_no_loader():
    assert _module(batch_size=2, n_train=4, with_val=False).val_dataloader() == []


def test_a_training_set_smaller_than_a_batch_is_a_clear_error():
    with pytest.raises(ValueError, match="3 training crops, fewer than one batch of 8"):
        _module(batch_size=8, n_train=3, with_val=False).train_dataloader()
