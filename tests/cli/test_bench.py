"""``handhdr bench`` on the tiny test models."""

from __future__ import annotations

import json

import torch
from typer.testing import CliRunner

from handhdr.cli import app


def test_bench_command_writes_json_and_markdown(tmp_path):
    threads = torch.get_num_threads()
    out = tmp_path / "b.json"
    args = ["bench", "--config", "tiny", "--backend", "onnx", "--frames", "1", "--warmup", "0"]
    args += ["--threads", "1", "--size", "128x96", "--no-mediapipe", "--out", str(out)]
    try:
        result = CliRunner().invoke(app, args)
    finally:
        torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert [r["backend"] for r in report["results"]] == ["onnx"]
    assert report["results"][0]["ms"]["total"]["median"] > 0
    assert (tmp_path / "b.md").is_file() and "whole pipeline" in result.output


def test_bench_command_errors(tmp_path):
    bad = CliRunner().invoke(app, ["bench", "--config", "huge", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "unknown configuration 'huge'" in bad.output
    size = CliRunner().invoke(app, ["bench", "--config", "tiny", "--size", "big"])
    assert size.exit_code == 2 and "WIDTHxHEIGHT" in size.output
