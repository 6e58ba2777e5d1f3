"""The shared trainer on a toy stage: run folder, checkpoints, logs, resume after a crash."""

import csv

import pytest
import torch
from lightning.pytorch.callbacks import Callback
from omegaconf import OmegaConf

from handhdr.training.trainer import (
    fit,
    get_stage,
    last_checkpoint,
    read_run_info,
    resolve_precision,
)


class Crash(Callback):
    """Simulates a kill: raises when step ``at`` is about to start."""

    def __init__(self, at):
        self.at = at

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.at:
            raise KeyboardInterrupt  # what Ctrl-C / a kill signal turns into


def test_resume_continues_step_counter_optimizer_and_schedule(tmp_path, toy_config):
    # killed at an epoch boundary (6 steps per epoch), the resumed run must end exactly
    # where the uninterrupted one does; mid-epoch, Lightning restarts the epoch's data
    full = fit(toy_config(tmp_path, 10, "full"))
    full_ckpt = torch.load(full.last_checkpoint, weights_only=True)
    assert full.global_step == 10

    cfg = toy_config(tmp_path, 10, "crashed")
    cfg.trainer.checkpoint_every_n_steps = 1000  # only the interruption saves
    with pytest.raises((KeyboardInterrupt, SystemExit)):
        fit(cfg, callbacks=[Crash(at=6)])
    crashed = torch.load(last_checkpoint(tmp_path / "crashed"), weights_only=True)
    assert crashed["global_step"] == 6  # saved when interrupted: 6 steps were done
    assert sorted(p.name for p in (tmp_path / "crashed" / "checkpoints").iterdir()) == [
        "best.ckpt",
        "last.ckpt",
    ]
    assert next(iter(crashed["optimizer_states"][0]["state"].values()))["step"] == 6
    assert read_run_info(tmp_path / "crashed")["global_step"] == 6

    resumed = fit(cfg, resume=True)
    ckpt = torch.load(resumed.last_checkpoint, weights_only=True)
    assert resumed.global_step == 10
    assert next(iter(ckpt["optimizer_states"][0]["state"].values()))["step"] == 10
    assert ckpt["lr_schedulers"][0]["last_epoch"] == 10
    assert ckpt["callbacks"]["TrainingClock"]["seconds"] > 0
    # the same data order and no randomness: the resumed run ends where the full one did
    for key, value in full_ckpt["state_dict"].items():
        torch.testing.assert_close(ckpt["state_dict"][key], value)


def test_run_folder_logs_and_refusal_to_overwrite(tmp_path, toy_config):
    result = fit(toy_config(tmp_path, 8), command="handhdr train toy")
    run = tmp_path / "toy-run"
    assert result.run_dir == run
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert result.best_checkpoint == run / "checkpoints" / "best.ckpt"
    assert OmegaConf.load(run / "config.yaml").trainer.max_steps == 8
    assert "handhdr train toy" in (run / "command.txt").read_text()
    info = read_run_info(run)
    assert info["global_step"] == 8 and info["monitor"] == "val/score"
    with open(run / "logs" / "csv" / "version_0" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert len([r for r in rows if r.get("train/loss")]) == 8  # one line per step
    assert len([r for r in rows if r.get("val/score")]) == 2  # validated at steps 4 and 8
    assert list((run / "logs" / "tensorboard" / "version_0").glob("events.out.tfevents.*"))
    with pytest.raises(FileExistsError, match="--resume"):
        fit(toy_config(tmp_path, 8))
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        fit(toy_config(tmp_path, 8, "never-ran"), resume=True)


def test_stage_lookup_and_precision():
    assert get_stage("toy").monitor == "val/score"
    assert get_stage("hasm").name == "hasm"
    with pytest.raises(ValueError, match="unknown stage"):
        get_stage("nope")
    assert resolve_precision("auto", "cpu") == "32-true"
    assert resolve_precision("16-mixed", "gpu") == "16-mixed"


class RawWeights(Callback):
    """Records the toy network's raw (trained, not averaged) weights after each step."""

    def __init__(self):
        self.steps = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.steps.append({k: v.detach().clone() for k, v in pl_module.net.state_dict().items()})


def test_weight_average_is_what_checkpoints_validation_and_resume_carry(tmp_path, toy_config):
    decay, start = 0.5, 3
    cfg = toy_config(tmp_path, 10, "ema")
    cfg.trainer.ema_decay, cfg.trainer.ema_start_step = decay, start
    raw = RawWeights()
    result = fit(cfg, callbacks=[raw])
    ckpt = torch.load(result.last_checkpoint, weights_only=True)
    # the average starts at step index `start` (the 4th step) and then moves by `decay`
    expected = dict(raw.steps[start])
    for weights in raw.steps[start + 1 :]:
        expected = {k: decay * expected[k] + (1 - decay) * weights[k] for k in expected}
    for key, value in expected.items():
        torch.testing.assert_close(ckpt["state_dict"][f"net.{key}"], value)
        torch.testing.assert_close(ckpt["current_model_state"][f"net.{key}"], raw.steps[-1][key])
    average, current = ckpt["state_dict"], ckpt["current_model_state"]
    assert not torch.equal(average["net.weight"], current["net.weight"])

    # killed at step 6 and resumed: the same average at the end; the checkpoint of the
    # kill holds the raw weights of step 6 beside the average
    cfg = toy_config(tmp_path, 10, "ema-crashed")
    cfg.trainer.ema_decay, cfg.trainer.ema_start_step = decay, start
    cfg.trainer.checkpoint_every_n_steps = 1000
    with pytest.raises((KeyboardInterrupt, SystemExit)):
        fit(cfg, callbacks=[Crash(at=6)])
    killed = torch.load(last_checkpoint(tmp_path / "ema-crashed"), weights_only=True)
    torch.testing.assert_close(killed["current_model_state"]["net.weight"], raw.steps[5]["weight"])
    resumed = torch.load(fit(cfg, resume=True).last_checkpoint, weights_only=True)
    for key, value in ckpt["state_dict"].items():
        torch.testing.assert_close(resumed["state_dict"][key], value)


def test_weight_average_settings_are_checked(tmp_path, toy_config):
    cfg = toy_config(tmp_path, 2, "bad-ema")
    cfg.trainer.ema_decay = 1.5
    with pytest.raises(ValueError, match="trainer.ema_decay"):
        fit(cfg)
