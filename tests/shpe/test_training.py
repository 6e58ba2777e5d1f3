"""SHPE training: a few steps lower eq. (5); validation measures."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from handhdr.shpe.config import loss_weights
from handhdr.shpe.detnet import DetNet
from handhdr.shpe.loss import shpe_loss
from handhdr.shpe.targets import make_targets, map_to_crop
from handhdr.shpe.training import training_loss, validation_errors
from handhdr.training.config import load_config


def _batch(n: int = 4, size: int = 32):
    rng = np.random.default_rng(0)
    image = torch.from_numpy(rng.integers(0, 256, (n, 3, size, size), dtype=np.uint8))
    joints_2d = torch.from_numpy(rng.uniform(2, size - 3, (n, 21, 2))).float()
    joints_3d = torch.from_numpy(rng.normal(0, 40, (n, 21, 3))).float()
    return {
        "image": image,
        "joints_2d": joints_2d,
        "joints_3d": joints_3d,
        "valid": torch.ones(n, 21, dtype=torch.bool),
    }


def test_a_few_steps_lower_the_loss(tiny_config):
    torch.manual_seed(0)
    model = DetNet(tiny_config).train()
    weights = loss_weights(load_config("shpe", "lite"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch = _batch()
    losses = []
    for _ in range(10):
        loss, terms = training_loss(model, batch, weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert set(terms) == {"heatmap", "delta", "location", "l2"}
    assert losses[-1] < 0.8 * losses[0]


def test_heatmap_sigma_reaches_the_targets(tiny_config):
    torch.manual_seed(0)
    model = DetNet(tiny_config).eval()
    weights = loss_weights(load_config("shpe", "lite"))
    batch = _batch()
    c = model.config
    with torch.no_grad():
        default, _ = training_loss(model, batch, weights)
        wide, terms = training_loss(model, batch, weights, heatmap_sigma=3.0)
        targets = make_targets(
            batch["joints_2d"], batch["joints_3d"], batch["valid"], c.map_size, c.stride, 3.0
        )
        _, expected = shpe_loss(model(batch["image"].float() / 255.0), targets, (), weights)
    assert not torch.isclose(default, wide)
    for name in ("heatmap", "delta", "location"):
        assert torch.isclose(terms[name], expected[name], rtol=1e-5)


def test_validation_errors_of_a_perfect_readout(tiny_config):
    """A DetNet forced to output the targets has zero validation errors (up to the cell)."""
    model = DetNet(tiny_config).eval()
    batch = _batch(2)
    m, stride = tiny_config.map_size, tiny_config.stride
    cells = torch.tensor([[3.0, 5.0]]).expand(2, 21, 2)
    batch["joints_2d"] = map_to_crop(cells, stride)  # on cell centres: exact readout
    rooted = batch["joints_3d"] - batch["joints_3d"][:, 20:21]
    bone = torch.linalg.vector_norm(rooted[:, 11], dim=-1)
    model.reference_bone_mm.fill_(float(bone[0]))
    heat = torch.zeros(2, 21, m, m)
    heat[:, :, 5, 3] = 1.0
    location = (rooted / bone[:, None, None])[..., None, None].expand(2, 21, 3, m, m)
    model.forward = lambda images: (heat, torch.zeros_like(location), location)  # type: ignore[method-assign]
    sums = validation_errors(model, batch)
    mpjpe, count = sums["mpjpe"]
    assert count == 2 * 21 and float(mpjpe) < 1e-3
    assert float(sums["epe_2d"][0]) < 1e-4
    prior, _ = sums["mpjpe_prior_scale"]  # exact for the first hand, off for the second
    assert float(prior) > 0


def test_train_export_and_resume_on_the_shared_trainer(sh_root, tmp_path):
    from handhdr.shpe.weights import load_detnet
    from handhdr.training.export import export_run
    from handhdr.training.trainer import fit, read_run_info

    overrides = [
        "input_size=32", "model.stem_channels=8",
        "model.blocks=[{units: 1, width: 4, out: 16, stride: 2, dilation: 1}]",
        "model.squeeze_channels=8", "model.head_channels=8",
        "trainer.max_steps=4", "trainer.val_every_n_steps=2",
        "trainer.checkpoint_every_n_steps=2", "trainer.progress_bar=false",
        "trainer.accelerator=cpu", "trainer.threads=1", "data.batch_size=2", "data.num_workers=0",
        "trainer.log_every_n_steps=1", f"run.root={tmp_path}",
    ]  # fmt: skip
    cfg = load_config("shpe", "lite", [*overrides, "optim.milestones=[1]"], data=[str(sh_root)])
    result = fit(cfg)
    assert result.global_step == 4 and result.best_checkpoint is not None
    weights, card = export_run(result.run_dir, tmp_path / "shpe_tiny.safetensors")
    model = load_detnet(weights)
    assert model.config.input_size == 32 and model.config.squeeze_channels == 8
    # the prior bone is the training hands' mean, carried by the weights
    from handhdr.shpe.data import SHPEDataModule

    data = SHPEDataModule(cfg)
    data.setup("fit")
    assert float(model.reference_bone_mm) == pytest.approx(data.reference_bone_mm, rel=1e-3)
    assert "SHPE weights" in card.read_text()
    longer = [*overrides, "trainer.max_steps=6", "optim.milestones=[5]"]
    resumed = fit(load_config("shpe", "lite", longer, data=[str(sh_root)]), resume=True)
    assert resumed.global_step == 6
    assert read_run_info(result.run_dir)["global_step"] == 6
    # the resumed leg follows the new milestone, not the stored decay of the first leg
    lrs = {}
    for path in sorted((result.run_dir / "logs" / "csv").glob("version_*/metrics.csv")):
        for row in csv.DictReader(path.open()):
            if row.get("lr-Adam"):
                lrs[int(row["step"])] = float(row["lr-Adam"])
    assert lrs[2] == pytest.approx(1e-4)  # first leg, after milestone 1
    assert lrs[4] == pytest.approx(1e-3) and lrs[5] == pytest.approx(1e-4)


def test_init_copies_a_weights_file_and_names_a_mismatch(tmp_path):
    import types

    from handhdr.shpe.training import SHPETask
    from handhdr.shpe.weights import save_detnet
    from handhdr.training.config import to_container

    tiny = [
        "input_size=32", "model.stem_channels=8",
        "model.blocks=[{units: 1, width: 4, out: 16, stride: 2, dilation: 1}]",
        "model.squeeze_channels=8", "model.head_channels=8",
    ]  # fmt: skip
    torch.manual_seed(3)
    source = SHPETask(to_container(load_config("shpe", "lite", tiny)))
    path = save_detnet(source.model, tmp_path / "w.safetensors", dtype=torch.float32)
    task = SHPETask(to_container(load_config("shpe", "lite", [*tiny, f"init={path}"])))
    task.trainer = types.SimpleNamespace(ckpt_path=None)  # what setup reads of the trainer
    task.setup("fit")
    for key, value in source.model.state_dict().items():
        torch.testing.assert_close(task.model.state_dict()[key], value)
    resumed = SHPETask(to_container(load_config("shpe", "lite", [*tiny, f"init={path}"])))
    resumed.trainer = types.SimpleNamespace(ckpt_path="last.ckpt")  # resuming: init is ignored
    resumed.setup("fit")
    assert not torch.equal(resumed.model.stem[0].weight, source.model.stem[0].weight)
    wider = SHPETask(to_container(load_config("shpe", "lite", [*tiny, "model.head_channels=4",
                                                              f"init={path}"])))  # fmt: skip
    wider.trainer = types.SimpleNamespace(ckpt_path=None)
    with pytest.raises(ValueError, match="w.safetensors: its network does not match"):
        wider.setup("fit")
