import numpy as np
import pytest
import torch

from handhdr.hdrm.network import HDRNet
from handhdr.hdrm.weights import HDRM, CropSettings, hdrm_inpainter, load_hdrnet, save_hdrnet
from handhdr.training.weights import WeightsError, save_weights


def _crops(n=3, r=32, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, r, r, 3), dtype=np.uint8)
    masks = np.zeros((n, 4, r, r), bool)
    masks[:, 0, 8:24, 8:24] = True
    masks[:, 2, 14:30, 14:30] = True
    masks[:, 1] = masks[:, 0] & ~masks[:, 2]
    masks[:, 3] = masks[:, 2]
    return images, masks


def test_save_load_round_trip(tmp_path, tiny_config):
    torch.manual_seed(0)
    net = HDRNet(tiny_config).eval()
    path = save_hdrnet(net, tmp_path / "w.safetensors", CropSettings(scale=1.8))
    loaded, crop = load_hdrnet(path)
    assert crop.scale == 1.8 and loaded.config == tiny_config
    for key, value in net.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value, atol=2e-3, rtol=1e-3)
    save_weights(net, tmp_path / "other.safetensors", {"stage": "hasm", "model": {}})
    with pytest.raises(WeightsError, match="not HDRM weights"):
        load_hdrnet(tmp_path / "other.safetensors")
    with pytest.raises(WeightsError, match="not found"):
        load_hdrnet(tmp_path / "missing.safetensors")


def test_hdrm_on_uint8_crops_torch_and_onnx_agree(tmp_path, tiny_config):
    torch.manual_seed(0)
    path = save_hdrnet(HDRNet(tiny_config), tmp_path / "w.safetensors", dtype=None)
    images, masks = _crops()
    torch_out = hdrm_inpainter(path, backend="torch")(images, masks)
    onnx_model = hdrm_inpainter(path, backend="onnx", threads=1)
    onnx_out = onnx_model(images, masks)
    assert torch_out.dtype == np.uint8 and torch_out.shape == images.shape
    assert np.abs(torch_out.astype(int) - onnx_out.astype(int)).max() <= 1
    # outside the (dilated) erased region the crop is returned unchanged
    far = np.ones((32, 32), bool)
    far[5:33, 5:33] = False
    assert (torch_out[:, far] == images[:, far]).all()
    # without removal and de-occlusion nothing is erased: the input comes back
    np.testing.assert_array_equal(onnx_model(images, masks, np.zeros(2)), images)


def test_bad_crops_are_rejected(tiny_config):
    model = HDRM(HDRNet(tiny_config))
    images, masks = _crops()
    with pytest.raises(ValueError, match="uint8 crops"):
        model(images.astype(np.float32), masks)
    with pytest.raises(ValueError, match="masks"):
        model(images, masks[:, :3])
    assert model(images[:0], masks[:0]).shape == (0, 32, 32, 3)
