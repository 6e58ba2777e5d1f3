import numpy as np
import pytest
import torch

from handhdr.hasm.model import HASM
from handhdr.hasm.runtime import OnnxRunner, TorchRunner, export_onnx
from handhdr.onnx_session import onnx_metadata


@pytest.fixture
def model(tiny_config):
    torch.manual_seed(0)
    net = HASM(tiny_config).eval()
    # BatchNorm statistics away from the identity, as after training
    for head in net.decoder.heads:
        head.fuse[1].running_mean.uniform_(-0.5, 0.5)
        head.fuse[1].running_var.uniform_(0.5, 2.0)
    return net


def test_onnx_agrees_with_torch(model, tmp_path):
    path = export_onnx(model, tmp_path / "hasm.onnx", size=64, metadata={"inference": {"size": 64}})
    assert onnx_metadata(path) == {"stage": "hasm", "size": 64, "inference": {"size": 64}}
    torch_runner, onnx_runner = TorchRunner(model), OnnxRunner(path)
    rng = np.random.default_rng(0)
    for shape in [(1, 64, 64, 3), (3, 96, 96, 3)]:  # batch and size are dynamic
        crops = rng.integers(0, 256, shape, dtype=np.uint8)
        expected = torch_runner(crops)
        got = onnx_runner(crops)
        assert got.shape == expected.shape == (shape[0], 4, shape[1] // 4, shape[2] // 4)
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_torch_runner_is_the_foreground_minus_background_logit(model):
    crops = np.random.default_rng(1).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    with torch.no_grad():
        x = torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255
        logits = model(x)
    expected = (logits[:, :, 1] - logits[:, :, 0]).numpy()
    np.testing.assert_allclose(TorchRunner(model)(crops), expected, atol=1e-5)
    with pytest.raises(ValueError, match="uint8"):
        TorchRunner(model)(crops.astype(np.float32))
