import json

import torch
import yaml
from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.hasm.fixtures import make_mask_fixture
from handhdr.hasm.weights import load_hasm

TINY = {
    "stage": "hasm",
    "input_size": 32,
    "model": {
        "hidden_sizes": [8, 16, 32, 64],
        "depths": [1, 1, 1, 1],
        "num_attention_heads": [1, 2, 4, 8],
        "decoder_width": 16,
        "dropout": 0.0,
        "drop_path_rate": 0.0,
        "pretrained": None,
    },
    "inference": {"size": 32, "box_scale": 1.5, "min_region": 0.1, "threshold": 0.5},
    "aug": {
        "scale_range": [0.5, 2.0],
        "hand_window_prob": 0.5,
        "hand_box_scale": [1.2, 2.2],
        "hand_shift": 0.15,
        "flip_prob": 0.5,
        "photometric": True,
    },
    "optim": {
        "lr": 1e-3,
        "weight_decay": 0.01,
        "betas": [0.9, 0.999],
        "head_lr_mult": 10.0,
        "warmup_steps": 1,
        "warmup_ratio": 1e-6,
        "power": 1.0,
    },
    "trainer": {
        "max_steps": 2,
        "val_every_n_steps": 2,
        "checkpoint_every_n_steps": 1,
        "log_every_n_steps": 1,
        "progress_bar": False,
    },
    "data": {"batch_size": 2, "num_workers": 0, "val_max_samples": 4},
}


def test_train_resume_and_export(tmp_path):
    make_mask_fixture(tmp_path / "ds", "train", seed=0, num_frames=2)
    make_mask_fixture(tmp_path / "ds", "val", seed=1, num_captures=1, num_frames=1)
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    runner = CliRunner()
    args = [
        "train",
        "hasm",
        "--config",
        str(config),
        "--data",
        str(tmp_path / "ds"),
        f"run.root={tmp_path / 'runs'}",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "hasm-tiny"
    assert "step 2" in result.output and (run / "checkpoints" / "best.ckpt").is_file()

    # the same command again would overwrite the run: refused
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "--resume" in result.output
    result = runner.invoke(app, [*args, "--resume", "trainer.max_steps=3"])
    assert result.exit_code == 0, result.output
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 3
    assert next(iter(ckpt["optimizer_states"][0]["state"].values()))["step"] == 3
    assert len((run / "command.txt").read_text().splitlines()) == 2

    out = tmp_path / "weights" / "hasm_tiny.safetensors"
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"miou": 0.5}))
    result = runner.invoke(
        app,
        [
            "train",
            "export",
            str(run),
            "--out",
            str(out),
            "--which",
            "last",
            "--metrics",
            str(metrics),
        ],
    )
    assert result.exit_code == 0, result.output
    model, settings = load_hasm(out)
    assert settings.size == 32 and model.config.hidden_sizes == [8, 16, 32, 64]
    # a checkpoint loads directly too, to the same network (up to the fp16 of the export)
    from_ckpt, ckpt_settings = load_hasm(run / "checkpoints" / "last.ckpt")
    assert ckpt_settings == settings
    for key, value in from_ckpt.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, atol=1e-2, rtol=1e-3)
    assert "| miou | 0.5000 |" in out.with_suffix(".md").read_text()


def test_export_carries_a_side_classifier_into_side_invariant_hasm(tmp_path):
    from handhdr.hasm.side import SideCropSettings, SideNet, SideNetConfig, load_side, save_side
    from handhdr.hasm.weights import load_hasm_sides

    make_mask_fixture(tmp_path / "ds", "train", seed=0, num_frames=2)
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    runner = CliRunner()
    base = ["train", "hasm", "--config", str(config), "--data", str(tmp_path / "ds")]
    base.append(f"run.root={tmp_path / 'runs'}")
    for name, invariant in (("ordered", "false"), ("invariant", "true")):
        result = runner.invoke(
            app, [*base, f"run.name={name}", f"+loss.side_invariant={invariant}"]
        )
        assert result.exit_code == 0, result.output
    torch.manual_seed(0)
    side = save_side(
        SideNet(SideNetConfig(widths=(4, 8), hidden=8)), tmp_path / "side.safetensors",
        SideCropSettings(size=32, context=32),
    )  # fmt: skip
    export = ["train", "export", "--which", "last", "--sides", str(side)]
    out = tmp_path / "w" / "ordered.safetensors"
    result = runner.invoke(app, [*export, str(tmp_path / "runs" / "ordered"), "--out", str(out)])
    assert result.exit_code == 2 and "side_invariant is false" in result.output
    assert not out.exists()  # refused before anything is written
    out = tmp_path / "w" / "invariant.safetensors"
    result = runner.invoke(app, [*export, str(tmp_path / "runs" / "invariant"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    _, settings = load_hasm(out)
    assert settings.side_invariant
    carried, _ = load_hasm_sides(out)
    original, _ = load_side(side)
    for key, value in original.state_dict().items():
        torch.testing.assert_close(carried.state_dict()[key], value)
    assert "## Side classifier" in out.with_suffix(".md").read_text()


def test_bad_overrides_and_missing_data_are_reported(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["train", "hasm", "optim.lrr=1"])
    assert result.exit_code == 2 and "no key 'optim.lrr'" in result.output
    result = runner.invoke(app, ["train", "hasm", "--config", "nope"])
    assert result.exit_code == 2 and "no config named 'nope'" in result.output
    result = runner.invoke(app, ["train", "export", str(tmp_path), "--out", str(tmp_path / "w.pt")])
    assert result.exit_code == 2 and ".safetensors" in result.output
