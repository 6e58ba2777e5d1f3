"""``handhdr demo``: predictions with weights, the ground-truth panel without."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.evaluation.predictions import read_predictions
from handhdr.io import read_image
from handhdr.pipeline.fixtures import write_tiny_weights


def test_without_shipped_weights_it_shows_the_ground_truth_and_says_so(tmp_path, monkeypatch):
    import handhdr.training.weights as shipped

    monkeypatch.setattr(shipped, "WEIGHTS_DIR", tmp_path / "no_weights")
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--num", "1"])
    assert result.exit_code == 0, result.output
    assert "no shipped weights for HASM" in result.output  # honest about what it did not do
    assert "hdrm_lite.safetensors" in result.output and "shpe_lite.safetensors" in result.output
    assert not (tmp_path / "demo" / "predictions.jsonl").exists()
    panel = read_image(tmp_path / "demo" / "demo_panel.png")
    assert panel.shape[0] == 334 and panel.shape[1] == 4 * 512 + 3 * 4  # one row, four tiles
    tile = panel[:, :512].astype(int)
    red = (tile[..., 0] > 200) & (tile[..., 1] < 80) & (tile[..., 2] < 80)
    green = (tile[..., 1] > 170) & (tile[..., 0] < 80) & (tile[..., 2] < 100)
    assert red.sum() > 50 and green.sum() > 50  # both hands' skeletons and boxes
    # the two HDR targets differ: each shows a different hand alone
    right_alone, left_alone = panel[:, 2 * 516 : 2 * 516 + 512], panel[:, 3 * 516 :]
    assert np.abs(right_alone.astype(int) - left_alone.astype(int)).mean() > 1


def test_with_weights_it_predicts_and_draws_a_panel_per_image(tmp_path):
    weights = write_tiny_weights(tmp_path / "w")
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--num", "1", "--threads", "1"]
    args += ["--hasm", str(weights["hasm"]), "--hdrm", str(weights["hdrm"])]
    args += ["--shpe", str(weights["shpe"])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "no shipped weights" not in result.output
    assert f"everything is in {out.resolve()}" in result.output
    lines = read_predictions(out / "predictions.jsonl", require=("joints_3d", "joints_2d"))
    assert len(lines) == 1 and set(lines[0].hands) == {"right", "left"}
    assert lines[0].file_name.endswith(".jpg")  # the synthetic image's dataset name
    panel = read_image(out / "panel_00.png")
    assert panel.shape[0] > 400 and panel.shape[1] > 1000
    red = (panel[..., 0] > 200) & (panel[..., 1] < 80) & (panel[..., 2] < 80)
    green = (panel[..., 1] > 170) & (panel[..., 0] < 80) & (panel[..., 2] < 100)
    assert red.sum() > 200 and green.sum() > 200  # boxes, masks, skeletons of both hands
    assert not (out / "demo_panel.png").exists()
