import csv
import dataclasses

import lightning.pytorch as L
import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from torch.utils.data import DataLoader, Dataset
from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.hdrm.losses import HDRLossTerms
from handhdr.hdrm.network import HDRNetConfig
from handhdr.hdrm.training import (
    HDRMDataModule,
    HDRMTask,
    mask_labels,
    model_config,
    stage_overrides,
)
from handhdr.training.config import load_config, to_container

TINY_MODEL = [
    "model.resolution=32",
    "model.channels=[8,16,16,16,16]",
    "model.kernels=[7,5,5,3,3]",
    "model.transformer=[{at: enc3, heads: 1, mlp_ratio: 2, sr_ratio: 2}]",
    "discriminator.widths=[8,8,8,8]",
]


def test_named_configs_and_ablations():
    lite = load_config("hdrm", "lite")
    paper = load_config("hdrm", "paper")
    assert model_config(paper) == HDRNetConfig(composite_dilation=2)
    assert model_config(lite).resolution == 128 and lite.trainer.max_steps == 4000
    assert paper.stage1.lr == 1.5e-3 and paper.stage2.lr == 1e-3
    assert lite.run.name == "hdrm-lite-stage1"
    lite_dict = to_container(lite)
    for name, key in (("no_transformer", "use_transformer"), ("no_discriminator", "enabled")):
        ablation = to_container(load_config("hdrm", name))
        block = "model" if key == "use_transformer" else "discriminator"
        assert ablation[block][key] is False and lite_dict[block][key] is True
        ablation[block][key] = True
        ablation["name"] = "lite"
        ablation["run"]["name"] = lite_dict["run"]["name"]
        ablation["stage2"]["init"] = lite_dict["stage2"]["init"]
        assert ablation == lite_dict  # the ablation changes one key and nothing else


def test_stage_two_overrides():
    cfg = load_config("hdrm", "lite", stage_overrides(2))
    assert cfg.train_stage == 2 and cfg.trainer.max_steps == 1200
    assert cfg.trainer.max_time == "00:00:25:00"
    assert cfg.run.name == "hdrm-lite-stage2"
    assert cfg.stage2.init == "runs/hdrm-lite-stage1/checkpoints/last.ckpt"
    with pytest.raises(ValueError, match="1 or 2"):
        stage_overrides(3)


def test_stage_two_mask_sources(hdr_dataset):
    data = [str(hdr_dataset)]
    assert mask_labels(load_config("hdrm", "lite", data=data)) == ("gt",)
    paper_way = mask_labels(load_config("hdrm", "lite", stage_overrides(2), data=data))
    assert len(paper_way) == 1 and paper_way[0].startswith("hasm:")
    both = load_config("hdrm", "lite", [*stage_overrides(2), "stage2.masks=both"], data=data)
    assert mask_labels(both) == (paper_way[0], "gt")
    # one cache per (split, mask source); hdr_dataset has no val split
    specs = HDRMDataModule(both)._specs()
    assert [(split, spec.masks) for _, split, spec in specs] == [
        ("train", paper_way[0]),
        ("train", "gt"),
    ]
    assert specs[0][2].folder_name() != specs[1][2].folder_name()
    bad = load_config("hdrm", "lite", [*stage_overrides(2), "stage2.masks=gt"], data=data)
    with pytest.raises(ValueError, match="stage2.masks"):
        mask_labels(bad)


def _scene_batch(n=4, r=64, seed=0):
    """Crops of a flat-colour target square half hidden by a distractor square."""
    rng = np.random.default_rng(seed)
    images, targets, masks = [], [], []
    for _ in range(n):
        bg, hand, other = rng.integers(30, 220, size=(3, 3))
        target = np.empty((r, r, 3), np.uint8)
        target[:] = bg
        m = np.zeros((4, r, r), bool)
        a, b = rng.integers(12, 24, size=2)
        m[0, a : a + 24, a : a + 24] = True
        m[2, b + 8 : b + 32, b + 8 : b + 32] = True
        m[1] = m[0] & ~m[2]
        m[3] = m[2]
        target[m[0]] = hand
        image = target.copy()
        image[m[2]] = other
        images.append(image.transpose(2, 0, 1))
        targets.append(target.transpose(2, 0, 1))
        masks.append(m)
    return {
        "image": torch.from_numpy(np.stack(images)),
        "target": torch.from_numpy(np.stack(targets)),
        "masks": torch.from_numpy(np.stack(masks).astype(np.uint8)),
    }


class _Repeat(Dataset):
    def __init__(self, batch):
        self.batch = batch

    def __len__(self):
        return 64

    def __getitem__(self, i):
        return {k: v[i % len(v)] for k, v in self.batch.items()}


def test_a_few_training_steps_lower_the_loss():
    torch.manual_seed(0)
    overrides = [
        "model.resolution=64",
        "model.channels=[8,16,16,16,16,16]",
        "model.kernels=[7,5,5,3,3,3]",
        "model.transformer=[{at: enc3, heads: 1, mlp_ratio: 2, sr_ratio: 2}]",
        "discriminator.widths=[8,8,8,8]",
        "stage1.lr=2e-3",
        "optim.power=0.0",
        "aug.color_jitter=0.0",
    ]
    task = HDRMTask(to_container(load_config("hdrm", "lite", overrides)))
    batch = _scene_batch()

    def hole_loss():
        task.eval()
        with torch.no_grad():
            image, target, masks = task._inputs(batch)
            out = task.generator(image, masks)
            t = HDRLossTerms()(out.raw, out.composite, target, out.m_d, out.m_r)
        task.train()
        return float(t["l1_deocclusion"] + t["l1_removal"])

    before = hole_loss()
    trainer = L.Trainer(
        max_steps=20, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(task, DataLoader(_Repeat(batch), batch_size=4, shuffle=True))
    # one batch = one step, although the generator and the discriminator both stepped
    assert trainer.global_step == 20
    after = hole_loss()
    # the GAN makes single runs noisy: 0.38-0.53 of the start over seeds 0-3 at 20 steps
    assert after < 0.7 * before


def test_train_both_stages_from_the_command_line_and_export(hdr_dataset, tmp_path, monkeypatch):
    from handhdr.hasm.model import HASM, HASMConfig
    from handhdr.hasm.weights import save_hasm
    from handhdr.hdrm.weights import load_hdrnet

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    common = [
        *TINY_MODEL,
        "data.val_split=test",
        "data.batch_size=2",
        "data.num_workers=0",
        "data.min_erased=1",
        "trainer.val_every_n_steps=2",
        "trainer.checkpoint_every_n_steps=2",
        "trainer.log_every_n_steps=1",
        "trainer.progress_bar=false",
    ]
    args = ["train", "hdrm", "--stage", "1", "--data", str(hdr_dataset), "trainer.max_steps=2"]
    result = runner.invoke(app, args + common)
    assert result.exit_code == 0, result.output
    stage1 = tmp_path / "runs" / "hdrm-lite-stage1"
    assert (stage1 / "checkpoints" / "last.ckpt").is_file()
    assert list((stage1 / "samples").glob("val_*.png"))
    rows = list(csv.DictReader(open(next(stage1.glob("logs/csv/version_*/metrics.csv")))))
    assert any(r.get("val/psnr") for r in rows) and any(r.get("train/l1_valid") for r in rows)
    assert (tmp_path / "runs" / "hdrm-cache").is_dir()

    tiny = {"hidden_sizes": [8, 16, 32, 64], "depths": [1] * 4, "num_attention_heads": [1, 2, 4, 8]}
    torch.manual_seed(0)  # random HASM weights: its masks still give a few crops
    hasm = HASM(HASMConfig(**tiny, decoder_width=16))
    from handhdr.hasm.inference import InferenceSettings

    save_hasm(hasm, tmp_path / "hasm.safetensors", InferenceSettings(size=64, coarse_to_fine=False))
    args = ["train", "hdrm", "--stage", "2", "--data", str(hdr_dataset), "trainer.max_steps=2"]
    more = [
        f"stage2.hasm_weights={tmp_path / 'hasm.safetensors'}",
        "stage2.hasm_backend=torch",
        "stage2.masks=both",
    ]
    result = runner.invoke(app, args + common + more)
    stage2 = tmp_path / "runs" / "hdrm-lite-stage2"
    assert result.exit_code == 0, result.output
    assert (stage2 / "checkpoints" / "last.ckpt").is_file()
    out = tmp_path / "hdrm.safetensors"
    result = runner.invoke(
        app, ["train", "export", str(stage2), "--out", str(out), "--which", "last"]
    )
    assert result.exit_code == 0, result.output
    net, crop = load_hdrnet(out)
    assert net.config.resolution == 32 and crop.scale == 2.0
    assert OmegaConf.load(stage2 / "config.yaml").train_stage == 2
    assert dataclasses.asdict(net.config)["channels"] == (8, 16, 16, 16, 16)
    # a training checkpoint loads as it is, with the same (full precision) weights
    from_ckpt, _ = load_hdrnet(stage2 / "checkpoints" / "last.ckpt")
    for key, value in from_ckpt.state_dict().items():
        torch.testing.assert_close(net.state_dict()[key], value, atol=2e-3, rtol=1e-3)
    with pytest.raises(ValueError, match="not HDRM"):
        load_hdrnet(tmp_path / "hasm.safetensors")
