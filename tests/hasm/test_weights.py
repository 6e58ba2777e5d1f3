import numpy as np
import pytest
import torch

from handhdr.hasm.inference import HASMPredictor, InferenceSettings
from handhdr.hasm.model import HASM
from handhdr.hasm.weights import (
    attach_sides,
    hasm_predictor,
    load_hasm,
    load_hasm_sides,
    save_hasm,
)
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


def side_invariant_files(tiny_config, tmp_path):
    """A side-invariant tiny HASM, a tiny side classifier, and the two in one file."""
    from handhdr.hasm.side import SideCropSettings, SideNet, SideNetConfig, save_side

    torch.manual_seed(0)
    settings = InferenceSettings(size=64, coarse_size=64, side_invariant=True)
    hasm = save_hasm(HASM(tiny_config).eval(), tmp_path / "h.safetensors", settings, dtype=None)
    torch.manual_seed(1)
    net = SideNet(SideNetConfig(widths=(4, 8), hidden=8)).eval()
    crops = SideCropSettings(size=32, context=32, min_pixels=5)
    side = save_side(net, tmp_path / "side.safetensors", crops, dtype=None)
    return hasm, side, attach_sides(hasm, side, tmp_path / "bundle.safetensors", dtype=None)


def test_side_invariant_weights_carry_their_side_classifier(tiny_config, tmp_path):
    from handhdr.hasm.side import load_side

    hasm, side, bundle = side_invariant_files(tiny_config, tmp_path)
    with pytest.raises(ValueError, match="side classifier"):
        hasm_predictor(hasm)  # side-invariant weights alone cannot order their masks
    with pytest.raises(WeightsError, match="no side classifier"):
        load_hasm_sides(hasm)
    plain, _ = load_hasm(hasm)
    model, settings = load_hasm(bundle)
    assert settings.side_invariant
    for key, value in plain.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, rtol=0, atol=0)
    carried, crops = load_hasm_sides(bundle)
    original, original_crops = load_side(side)
    assert crops == original_crops
    for key, value in original.state_dict().items():
        torch.testing.assert_close(carried.state_dict()[key], value, rtol=0, atol=0)

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    image[10:40, 10:30] = 255
    predictor = hasm_predictor(bundle)
    result = predictor(image)
    raw = HASMPredictor(predictor.runner, InferenceSettings(size=64, coarse_size=64))(image)
    order = [2, 3, 0, 1] if predictor.sides.exchange(image, raw.masks) else [0, 1, 2, 3]
    np.testing.assert_array_equal(result.logits, raw.logits[order])
    by_onnx = hasm_predictor(bundle, backend="onnx")(image)
    np.testing.assert_array_equal(by_onnx.masks, result.masks)


def test_attach_sides_refuses_a_hasm_that_tells_sides_itself(tiny_config, tmp_path):
    _, side, _ = side_invariant_files(tiny_config, tmp_path)
    ordered = save_hasm(HASM(tiny_config), tmp_path / "o.safetensors", InferenceSettings(size=64))
    with pytest.raises(WeightsError, match="side_invariant is false"):
        attach_sides(ordered, side, tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


def test_exported_onnx_hasm_finds_its_side_classifier(tiny_config, tmp_path):
    from handhdr.pipeline.export import SIDE_FILE, export_hasm

    _, _, bundle = side_invariant_files(tiny_config, tmp_path)
    folder = tmp_path / "onnx"
    folder.mkdir()
    path = export_hasm(bundle, folder / "hasm.onnx")
    assert (folder / SIDE_FILE).is_file()
    image = np.random.default_rng(3).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    by_file = hasm_predictor(path, backend="onnx")(image)
    np.testing.assert_array_equal(by_file.masks, hasm_predictor(bundle)(image).masks)
    (folder / SIDE_FILE).unlink()
    with pytest.raises(WeightsError, match=SIDE_FILE):
        hasm_predictor(path, backend="onnx")
