"""The shipped lite weights (``handhdr/weights/``): format, model cards, size, and that
``handhdr demo`` with no arguments runs the real pipeline on them."""

from __future__ import annotations

import pytest
from safetensors import safe_open
from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.evaluation.predictions import read_predictions
from handhdr.pipeline import missing_shipped
from handhdr.pipeline.loading import SHIPPED_NAMES, STAGES
from handhdr.training.weights import WEIGHTS_DIR, read_metadata, shipped_weights_path

MAX_TOTAL_BYTES = 30 * 1024 * 1024  # the house limit for everything shipped


def test_every_stage_ships_fp16_weights_with_a_model_card():
    assert missing_shipped() == {}, "a stage has no shipped weights"
    for stage in STAGES:
        path = shipped_weights_path(SHIPPED_NAMES[stage])
        meta = read_metadata(path)
        assert meta["stage"] == stage and meta["dtype"] == "float16"
        with safe_open(str(path), framework="pt") as f:
            dtypes = {str(f.get_slice(k).get_dtype()) for k in f.keys()}
        assert dtypes <= {"F16", "I64", "BOOL"}, f"{path}: {dtypes}"  # no fp32 left
        card = path.with_suffix(".md").read_text()
        for section in ("## Training data", "## Training", "## Commands", "## Evaluation"):
            assert section in card, f"{path.with_suffix('.md')} lacks {section}"
        assert "seed" in card and f"handhdr train {stage}" in card


def test_the_weights_folder_stays_under_30_mb():
    total = sum(p.stat().st_size for p in WEIGHTS_DIR.iterdir() if p.is_file())
    assert 0 < total <= MAX_TOTAL_BYTES, f"{WEIGHTS_DIR}: {total / 2**20:.1f} MB"


@pytest.mark.usefixtures("one_torch_thread")
def test_demo_without_arguments_runs_the_shipped_pipeline(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["demo", "--num", "2", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "no shipped weights" not in result.output
    out = tmp_path / "handhdr-demo"
    lines = read_predictions(out / "predictions.jsonl")
    assert len(lines) == 2
    assert (out / "panel_00.png").stat().st_size > 10_000 and (out / "panel_01.png").is_file()
