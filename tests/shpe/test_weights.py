"""DetNet weights files: round trip, the prior bone travels with them, estimators on
both backends, bad files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from handhdr.shpe.detnet import DetNet
from handhdr.shpe.weights import detnet_estimator, load_detnet, save_detnet
from handhdr.training.weights import WeightsError, save_weights


@pytest.fixture
def weights_file(tiny_config, tmp_path):
    torch.manual_seed(0)
    model = DetNet(tiny_config).eval()
    model.reference_bone_mm.fill_(87.0)
    with torch.no_grad():  # sigmoid's steep middle: distinct maxima for the argmax
        model.heatmap_head.predict.bias.zero_()
    return model, save_detnet(model, tmp_path / "detnet.safetensors", dtype=None)


def test_round_trip(weights_file):
    model, path = weights_file
    loaded = load_detnet(path)
    assert loaded.config == model.config and float(loaded.reference_bone_mm) == 87.0
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)


def test_estimators_agree_across_backends(weights_file, tmp_path):
    _, path = weights_file
    crops = np.random.default_rng(0).integers(0, 256, (2, 3, 32, 32), dtype=np.uint8)
    torch_result = detnet_estimator(path, backend="torch")(crops)
    onnx_result = detnet_estimator(path, backend="onnx", threads=1)(crops)
    assert "87.0 mm" in detnet_estimator(path).scale_rule
    np.testing.assert_allclose(onnx_result.confidence, torch_result.confidence, atol=1e-4)
    same = (onnx_result.joints_2d == torch_result.joints_2d).all(axis=-1)
    assert same.mean() > 0.9
    np.testing.assert_allclose(onnx_result.joints_3d[same], torch_result.joints_3d[same], atol=1e-2)
    override = detnet_estimator(path, reference_bone_mm=100.0)(crops)
    np.testing.assert_allclose(override.joints_3d, torch_result.joints_3d * 100 / 87, atol=1e-3)


def test_bad_weights_are_refused(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        load_detnet(tmp_path / "missing.safetensors")
    other = save_weights({"x": torch.zeros(1)}, tmp_path / "hasm.safetensors", {"stage": "hasm"})
    with pytest.raises(WeightsError, match="not SHPE weights"):
        load_detnet(other)
    with pytest.raises(ValueError, match="backend"):
        detnet_estimator(other, backend="tflite")


def test_cuda_without_a_gpu_is_a_clear_error(weights_file):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    _, path = weights_file
    with pytest.raises(ValueError, match="CUDA"):
        detnet_estimator(path, device="cuda")
    with pytest.raises(ValueError, match="CUDA"):
        detnet_estimator(path, backend="onnx", device="cuda")
