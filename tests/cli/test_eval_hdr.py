import json

import pytest
import torch
from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.datasets.interhand import InterHandDataset
from handhdr.hdrm.evaluate import evaluate_hdr, telea_inpaint
from handhdr.hdrm.fixtures import write_hdr_dataset
from handhdr.hdrm.network import HDRNet, HDRNetConfig, TransformerSpec
from handhdr.hdrm.weights import hdrm_inpainter, save_hdrnet


@pytest.fixture(scope="module")
def dataset_and_weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval_hdr")
    write_hdr_dataset(root / "data", "test", seed=3, num_frames=2)
    torch.manual_seed(0)
    config = HDRNetConfig(
        resolution=32,
        channels=(8, 16, 16, 16, 16),
        kernels=(7, 5, 5, 3, 3),
        transformer=(TransformerSpec("enc3", 1, 2, 2),),
    )
    weights = save_hdrnet(HDRNet(config), root / "hdrm.safetensors", dtype=None)
    return root / "data", weights


def test_eval_hdr_writes_both_methods_and_regions(dataset_and_weights, tmp_path):
    root, weights = dataset_and_weights
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("other files stay")
    args = ["eval-hdr", "--root", str(root), "--split", "test", "--weights", str(weights)]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--backend", "onnx"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert (out / "keep.txt").read_text() == "other files stay"
    for method in ("hdrnet", "telea"):
        for region in ("deocclusion", "removal"):
            block = metrics[method][region]
            assert set(block) >= {"psnr", "ssim", "l1"}
            assert block["pixels"] > 0 and 0 < block["psnr"] < 100 and block["l1"] > 0
    assert metrics["counts"] == {"images": 4, "hands": 8}
    # the same numbers as the Python API with the torch backend (uint8 outputs may
    # differ by one level between the two runtimes)
    reader = InterHandDataset(root, "test", subset="IH", load_hdr_gt=True)
    methods = {"hdrnet": hdrm_inpainter(weights), "telea": telea_inpaint}
    direct = evaluate_hdr((reader[i] for i in range(len(reader))), methods, resolution=32)
    assert direct["telea"] == metrics["telea"]
    for region in ("deocclusion", "removal"):
        got, ref = metrics["hdrnet"][region], direct["hdrnet"][region]
        assert got["psnr"] == pytest.approx(ref["psnr"], abs=0.05)


def test_eval_hdr_errors_are_clear(dataset_and_weights, tmp_path):
    root, weights = dataset_and_weights
    runner = CliRunner()
    missing = tmp_path / "none.safetensors"
    result = runner.invoke(
        app, ["eval-hdr", "--root", str(root), "--weights", str(missing), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "none.safetensors" in result.output
    result = runner.invoke(
        app,
        ["eval-hdr", "--root", str(tmp_path / "nothing"), "--weights", str(weights),
         "--out", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 2
    result = runner.invoke(
        app, ["eval-hdr", "--root", str(root), "--backend", "tf", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "--backend" in result.output
