import numpy as np
import torch

from handhdr.hdrm.export import HDRNetOnnx, export_onnx
from handhdr.hdrm.network import HDRNet


def test_onnx_runtime_agrees_with_torch(tmp_path, tiny_config):
    torch.manual_seed(0)
    net = HDRNet(tiny_config).eval()
    # non-trivial batch-norm statistics, as after training
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    path = export_onnx(net, tmp_path / "hdrnet.onnx")
    runner = HDRNetOnnx(path, threads=1)
    rng = np.random.default_rng(0)
    image = rng.random((3, 3, 32, 32), dtype=np.float32)
    masks = (rng.random((3, 4, 32, 32)) > 0.5).astype(np.float32)
    switches = np.array([[1, 1], [1, 0], [0, 1]], np.float32)
    got = runner(image, masks, switches)
    with torch.no_grad():
        ref = net(torch.from_numpy(image), torch.from_numpy(masks), torch.from_numpy(switches))
    np.testing.assert_allclose(got, ref.composite.numpy(), atol=1e-4)
    assert runner.resolution == 32
