import json

import pytest
import torch

from handhdr.training.export import export_run, find_checkpoint, load_checkpoint, scalar_metrics
from handhdr.training.trainer import fit
from handhdr.training.weights import load_weights


def test_export_best_and_last_with_a_model_card(tmp_path, toy_config):
    data = tmp_path / "data"
    data.mkdir()
    (data / "synth" / "train").mkdir(parents=True)
    stats = {"num": 100, "config": {"seed": 7, "mix": {"sh": 0.58, "ih": 0.42}}}
    (data / "synth" / "train" / "stats.json").write_text(json.dumps(stats))
    cfg = toy_config(tmp_path, 8)
    cfg.data.sources = [{"root": str(data), "kind": "interhand"}]
    result = fit(cfg, command="handhdr train toy --data data")
    ckpt = load_checkpoint(result.last_checkpoint)
    weights, card = export_run(
        result.run_dir,
        tmp_path / "w" / "toy.safetensors",
        which="last",
        metrics={"miou": 0.9, "hdrnet": {"removal": {"psnr": 19.5}}, "per_image": [1, 2]},
        notes="made by a test",
    )
    state, meta = load_weights(weights)
    assert meta["stage"] == "toy" and meta["global_step"] == 8 and meta["dtype"] == "float16"
    torch.testing.assert_close(state["weight"], ckpt["state_dict"]["net.weight"].half().float())
    text = card.read_text()
    assert card == tmp_path / "w" / "toy.md"
    assert "handhdr train toy --data data" in text and '"seed": 7' in text and '"num": 100' in text
    assert "| miou | 0.9000 |" in text and "made by a test" in text
    assert "| hdrnet.removal.psnr | 19.5000 |" in text and "per_image" not in text
    assert "| run | 8 steps, " in text and meta["train_seconds"] > 0
    assert find_checkpoint(result.run_dir, "best").name == "best.ckpt"


def test_missing_checkpoints_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="--which last"):
        find_checkpoint(tmp_path, "best")
    with pytest.raises(ValueError, match="best' or 'last"):
        find_checkpoint(tmp_path, "first")
    torch.save({"state_dict": {}}, tmp_path / "x.ckpt")
    with pytest.raises(ValueError, match="no handhdr training config"):
        load_checkpoint(tmp_path / "x.ckpt")


def test_scalar_metrics_flattens_nested_blocks():
    metrics = {"a": 1, "b": {"c": {"d": 2.5}, "e": "x"}, "f": [1]}
    assert scalar_metrics(metrics) == {"a": 1, "b.c.d": 2.5, "b.e": "x"}


def test_export_can_change_inference_settings_only(tmp_path, toy_config):
    cfg = toy_config(tmp_path, 4)
    cfg.inference = {"size": 160}
    result = fit(cfg)
    out = tmp_path / "w.safetensors"
    _, card = export_run(result.run_dir, out, which="last", inference=["inference.size=224"])
    ckpt = load_checkpoint(result.last_checkpoint)
    assert ckpt["hyper_parameters"]["config"]["inference"]["size"] == 160  # run untouched
    assert "inference.size=224" in card.read_text()
    for bad in ("model.width=3", "inference.nope=1", "inference.size"):
        with pytest.raises(ValueError, match="inference.KEY=VALUE"):
            export_run(result.run_dir, out, which="last", inference=[bad])
