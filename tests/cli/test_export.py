"""``handhdr export``: three ONNX files and a manifest that ``predict --backend onnx`` runs."""

from __future__ import annotations

import hashlib
import json

import numpy as np
from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.onnx_session import onnx_metadata
from handhdr.pipeline import HDRPipeline
from handhdr.pipeline.fixtures import write_tiny_weights


def test_export_then_run_the_onnx_files(tmp_path):
    weights = write_tiny_weights(tmp_path / "w", seed=1, variants=("no_transformer",))
    out = tmp_path / "onnx"
    args = ["export", "--out", str(out), "--hasm", str(weights["hasm"])]
    args += ["--hdrm", str(weights["hdrm"]), "--shpe", str(weights["shpe"])]
    args += ["--hdrm-variant", f"no_transformer={weights['no_transformer']}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["stages"]) == {"hasm", "hdrm", "shpe", "hdrm:no_transformer"}
    for stage in manifest["stages"].values():
        data = (out / stage["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == stage["sha256"]
    assert manifest["stages"]["hdrm"]["inputs"]["switches"] == ["batch", 2]
    assert onnx_metadata(out / "hdrm.onnx")["crop"] == {"scale": 2.0}
    assert onnx_metadata(out / "hasm.onnx")["inference"]["size"] == 64
    assert "--backend onnx" in manifest["run"]

    image = np.random.default_rng(4).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    files = [out / "hasm.onnx", out / "hdrm.onnx", out / "shpe.onnx"]
    by_onnx = HDRPipeline.load(*files, backend="onnx", threads=1).predict(image)["hdr"]
    by_torch = HDRPipeline.load(weights["hasm"], weights["hdrm"], weights["shpe"]).predict(image)
    assert list(by_onnx.hands) == list(by_torch["hdr"].hands) == ["right", "left"]
    for hand, found in by_onnx.hands.items():
        other = by_torch["hdr"].hands[hand]
        assert found.box == other.box
        assert (np.linalg.norm(found.joints_2d - other.joints_2d, axis=1) < 1.0).mean() > 0.9


def test_export_refuses_missing_and_onnx_inputs(tmp_path, monkeypatch):
    import handhdr.training.weights as shipped

    monkeypatch.setattr(shipped, "WEIGHTS_DIR", tmp_path / "none")
    result = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    for name in ("hasm_lite", "hdrm_lite", "shpe_lite"):
        assert name in result.output
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"x")
    result = CliRunner().invoke(
        app, ["export", "--out", str(tmp_path / "o"), "--hasm", str(fake), "--hdrm", str(fake),
              "--shpe", str(fake)],
    )  # fmt: skip
    assert result.exit_code == 2 and "already an ONNX file" in result.output
    assert not (tmp_path / "o" / "manifest.json").exists()
