import numpy as np
import onnxruntime as ort
import pytest
import torch

from handhdr.onnx_session import add_onnx_metadata, onnx_metadata, onnx_session


@pytest.fixture
def linear_onnx(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2).eval()
    path = tmp_path / "linear.onnx"
    torch.onnx.export(model, (torch.zeros(1, 3),), str(path), dynamo=False,
                      input_names=["x"], output_names=["y"])  # fmt: skip
    return model, path


def test_metadata_round_trip_and_absent(linear_onnx):
    _, path = linear_onnx
    assert onnx_metadata(path) == {}
    add_onnx_metadata(path, {"stage": "test", "size": 64})
    assert onnx_metadata(path) == {"stage": "test", "size": 64}


def test_session_runs_the_model(linear_onnx):
    model, path = linear_onnx
    session = onnx_session(path, threads=1)
    x = np.random.default_rng(0).normal(size=(1, 3)).astype(np.float32)
    (y,) = session.run(None, {"x": x})
    np.testing.assert_allclose(y, model(torch.from_numpy(x)).detach().numpy(), atol=1e-6)


def test_cuda_without_a_provider_is_a_clear_error(linear_onnx):
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("CUDA provider present")
    with pytest.raises(ValueError, match="linear.onnx.*no CUDA provider"):
        onnx_session(linear_onnx[1], device="cuda")


@pytest.mark.parametrize("threads", [None, 2])
def test_worker_threads_do_not_spin(linear_onnx, threads):
    options = onnx_session(linear_onnx[1], threads=threads).get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.get_session_config_entry("session.inter_op.allow_spinning") == "0"
