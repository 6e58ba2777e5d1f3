import numpy as np
import pytest
import torch

from handhdr.hasm.inference import InferenceSettings
from handhdr.hasm.model import HASM
from handhdr.hasm.weights import hasm_predictor, load_hasm, save_hasm
from handhdr.training.weights import WeightsError, save_weights


def test_round_trip_rebuilds_the_model_from_the_file_alone(tiny_config, tmp_path):
    torch.manual_seed(0)
    model = HASM(tiny_config).eval()
    settings = InferenceSettings(size=64, box_scale=1.7)
    path = save_hasm(model, tmp_path / "h.safetensors", settings, dtype=None)
    loaded, loaded_settings = load_hasm(path)
    assert loaded_settings == settings
    assert loaded.config == tiny_config
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value, rtol=0, atol=0)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))


def test_fp16_weights_load_as_float32_and_stay_close(tiny_config, tmp_path):
    torch.manual_seed(0)
    model = HASM(tiny_config).eval()
    path = save_hasm(model, tmp_path / "h.safetensors", InferenceSettings(size=64))
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        assert f.get_tensor("decoder.heads.0.classifier.weight").dtype == torch.float16
    loaded, _ = load_hasm(path)
    assert loaded.decoder.heads[0].classifier.weight.dtype == torch.float32
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), atol=2e-2, rtol=1e-2)


def test_wrong_files_are_refused(tiny_config, tmp_path):
    save_weights(torch.nn.Linear(2, 2), tmp_path / "other.safetensors", {"stage": "shpe"})
    with pytest.raises(WeightsError, match="not HASM weights"):
        load_hasm(tmp_path / "other.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(WeightsError, match="not a readable safetensors"):
        load_hasm(tmp_path / "junk.safetensors")
    with pytest.raises(WeightsError, match="not found"):
        load_hasm(tmp_path / "missing.safetensors")


def test_torch_and_onnx_predictors_agree(tiny_config, tmp_path):
    torch.manual_seed(0)
    model = HASM(tiny_config).eval()
    path = save_hasm(model, tmp_path / "h.safetensors", InferenceSettings(size=64), dtype=None)
    image = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    by_torch = hasm_predictor(path, backend="torch")(image)
    by_onnx = hasm_predictor(path, backend="onnx")(image)
    np.testing.assert_allclose(by_onnx.logits, by_torch.logits, atol=1e-4)
    assert by_torch.masks.shape == (4, 50, 70)
    assert hasm_predictor(path, box_scale=2.0).settings.box_scale == 2.0
