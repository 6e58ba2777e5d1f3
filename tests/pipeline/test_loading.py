"""Loading stage runtimes from weights specs: backends, ONNX files, clear refusals."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.hdrm.weights import hdrm_inpainter
from handhdr.pipeline.export import export_hdrm
from handhdr.pipeline.loading import (
    OnnxFileHDRM,
    check_backend,
    load_inpainter,
    load_pose_estimator,
    missing_shipped,
)
from handhdr.training.weights import WeightsError


def test_an_exported_hdrnet_file_runs_like_the_torch_one(tiny_weights, tmp_path):
    path = export_hdrm(tiny_weights["hdrm"], tmp_path / "hdrm.onnx")
    onnx = load_inpainter(path, backend="onnx", threads=1)
    assert isinstance(onnx, OnnxFileHDRM) and onnx.resolution == 32 and onnx.crop.scale == 2.0
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    masks = rng.random((2, 4, 32, 32)) > 0.5
    switches = np.array([[1, 0], [0, 1]], np.float32)
    a = onnx(images, masks, switches).astype(int)
    b = hdrm_inpainter(tiny_weights["hdrm"])(images, masks, switches).astype(int)
    assert np.abs(a - b).max() <= 1


def test_refusals_name_the_problem(tiny_weights, tmp_path, monkeypatch):
    (tmp_path / "x.onnx").write_bytes(b"")
    with pytest.raises(WeightsError, match="runs only with backend 'onnx'"):
        load_inpainter(tmp_path / "x.onnx", backend="torch")
    with pytest.raises(WeightsError, match="HDRM weights file not found"):
        load_inpainter(tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="backend must be"):
        check_backend("jax", "cpu")
    with pytest.raises(ValueError, match="device must be"):
        check_backend("torch", "tpu")
    with pytest.raises(TypeError, match="single-hand estimator"):
        load_pose_estimator(42)
    import handhdr.training.weights as shipped

    monkeypatch.setattr(shipped, "WEIGHTS_DIR", tmp_path)
    (tmp_path / "shpe_lite.safetensors").write_bytes(b"")
    assert set(missing_shipped()) == {"hasm", "hdrm"}
    assert missing_shipped({"hasm": "x", "hdrm": "y", "shpe": "default"}) == {}
