"""DetNet with its readout in ONNX Runtime agrees with PyTorch."""

from __future__ import annotations

import numpy as np
import torch

from handhdr.onnx_session import onnx_metadata
from handhdr.shpe.detnet import DetNet
from handhdr.shpe.runtime import OnnxRunner, TorchRunner, export_onnx


def _trained_like(config) -> DetNet:
    """A random DetNet with BN statistics that are not the identity (eval mode)."""
    torch.manual_seed(0)
    model = DetNet(config)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(4, 3, config.input_size, config.input_size))
    model.reference_bone_mm.fill_(92.5)
    with torch.no_grad():  # sigmoid's steep middle: distinct maxima for the argmax
        model.heatmap_head.predict.bias.zero_()
    return model.eval()


def test_onnx_agrees_with_torch(tiny_config, tmp_path):
    model = _trained_like(tiny_config)
    path = export_onnx(model, tmp_path / "detnet.onnx", {"note": "test"})
    meta = onnx_metadata(path)
    assert meta["input_size"] == 32 and meta["reference_bone_mm"] == 92.5
    assert meta["note"] == "test" and meta["stage"] == "shpe"
    images = np.random.default_rng(1).random((3, 3, 32, 32), dtype=np.float32)
    uv_t, xyz_t, peak_t = TorchRunner(model)(images)
    uv_o, xyz_o, peak_o = OnnxRunner(path, threads=1)(images)
    assert uv_o.shape == (3, 21, 2) and xyz_o.shape == (3, 21, 3) and peak_o.shape == (3, 21)
    np.testing.assert_allclose(peak_o, peak_t, atol=1e-4)
    # the argmax may only differ where two cells are within float error of each other
    with torch.no_grad():
        heat = model(torch.from_numpy(images))[0].flatten(2)
    top2 = heat.topk(2, dim=-1).values
    clear = (top2[..., 0] - top2[..., 1] > 1e-4).numpy()
    assert clear.mean() > 0.9
    np.testing.assert_array_equal(uv_o[clear], uv_t[clear])
    np.testing.assert_allclose(xyz_o[clear], xyz_t[clear], atol=1e-4)
