import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.datasets.interhand import InterHandDataset
from handhdr.hasm.fixtures import make_mask_fixture
from handhdr.hasm.inference import InferenceSettings
from handhdr.hasm.model import HASM, HASMConfig
from handhdr.hasm.weights import save_hasm


def crafted_weights(path):
    """A HASM whose amodal heads say 'hand' everywhere and visible heads 'no hand'."""
    model = HASM(
        HASMConfig(
            hidden_sizes=[8, 16, 32, 64],
            depths=[1, 1, 1, 1],
            num_attention_heads=[1, 2, 4, 8],
            decoder_width=16,
        )
    )
    with torch.no_grad():
        for k, head in enumerate(model.decoder.heads):
            head.classifier.weight.zero_()
            head.classifier.bias.copy_(torch.tensor([0.0, 5.0 if k in (0, 2) else -5.0]))
    return save_hasm(model.eval(), path, InferenceSettings(size=64))


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_eval_seg_reports_the_known_iou(tmp_path, backend):
    make_mask_fixture(tmp_path / "ds", "test", seed=4)
    weights = crafted_weights(tmp_path / "hasm.safetensors")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("other results")
    result = CliRunner().invoke(
        app,
        [
            "eval-seg",
            "--root",
            str(tmp_path / "ds"),
            "--split",
            "test",
            "--weights",
            str(weights),
            "--out",
            str(out),
            "--backend",
            backend,
            "--workers",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    gt = np.stack([s.masks for s in InterHandDataset(tmp_path / "ds", "test", load_hdr_gt=False)])
    pixels = gt[:, 0].size
    # amodal predicted on every pixel of every frame: IoU = hand pixels / all pixels
    assert metrics["right_amodal"] == pytest.approx(gt[:, 0].sum() / pixels)
    assert metrics["left_amodal"] == pytest.approx(gt[:, 2].sum() / pixels)
    assert metrics["right_visible"] == 0.0 and metrics["left_visible"] == 0.0
    expected_miou = (gt[:, 0].sum() + gt[:, 2].sum()) / pixels / 4
    assert metrics["miou"] == pytest.approx(expected_miou)
    assert metrics["num_images"] == len(gt) and metrics["backend"] == backend
    assert (out / "keep.txt").read_text() == "other results"
    assert "miou" in result.output


def test_eval_seg_errors_are_clear(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "eval-seg",
            "--root",
            str(tmp_path),
            "--weights",
            str(tmp_path / "none.safetensors"),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2 and "none.safetensors: weights file not found" in result.output
    result = runner.invoke(
        app,
        ["eval-seg", "--root", str(tmp_path), "--out", str(tmp_path), "--backend", "tf"],
    )
    assert result.exit_code == 2 and "--backend" in result.output
