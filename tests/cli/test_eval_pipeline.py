"""``handhdr eval --pipeline`` end to end: a ground-truth stand-in pipeline for the numbers,
the real HDRPipeline with tiny random weights for the wiring."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.datasets.interhand import InterHandDataset
from handhdr.datasets.interhand_format import make_fixture_dataset
from handhdr.evaluation.fixtures import OraclePipeline
from handhdr.evaluation.predictions import read_predictions
from handhdr.pipeline import ABLATIONS, HDRPipeline

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ih")
    make_fixture_dataset(
        root, "test", seed=6, num_captures=1, num_cameras=2, num_frames=3,
        image_size=(96, 64), invalid_joint_rate=0.0,
    )  # fmt: skip
    return root


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    from handhdr.pipeline.fixtures import write_tiny_weights

    return write_tiny_weights(tmp_path_factory.mktemp("w"), variants=("no_transformer",))


def _weights(tiny: dict[str, Path]) -> list[str]:
    """The --hasm/--hdrm/--shpe options for the tiny weights."""
    return ["--hasm", str(tiny["hasm"]), "--hdrm", str(tiny["hdrm"]), "--shpe", str(tiny["shpe"])]


def _eval(root: Path, out: Path, *extra: str):
    args = ["eval", "--pipeline", "--root", str(root), "--split", "test", "--out", str(out)]
    return CliRunner().invoke(app, [*args, *extra])


def test_pipeline_mode_with_a_stand_in(root, tmp_path, monkeypatch):
    images = InterHandDataset(root, "test", load_masks=False, load_hdr_gt=False)
    scales = {"shpe_only": 1.5, "no_removal": 1.2, "no_deocclusion": 1.1, "hdr": 1.0}
    given = {}

    def fake_load(*args, **kwargs):
        given.update(kwargs, args=args)
        return OraclePipeline(images, scales)

    monkeypatch.setattr(HDRPipeline, "load", fake_load)
    result = _eval(root, tmp_path / "out", "--backend", "onnx", "--threads", "2")
    assert result.exit_code == 0, result.output
    assert given["backend"] == "onnx" and given["threads"] == 2
    assert given["args"] == ("default", "default", "default")
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["ablations"] == list(ABLATIONS)
    assert metrics["hdr"]["official"]["mpjpe_all"] == pytest.approx(0.0, abs=1e-3)
    assert metrics["shpe_only"]["official_gt_scale"]["mpjpe_all"] == pytest.approx(0.0, abs=1e-3)
    assert metrics["shpe_only"]["official"]["mpjpe_all"] > 1.0
    assert "Table 5" in result.output and "full HDR" in result.output
    assert f"{len(images)} images predicted now" in result.output


def test_argument_errors(root, tmp_path):
    bad = _eval(root, tmp_path / "o", "--hdrm-variant", "no_transformer")
    assert bad.exit_code == 2 and "NAME=PATH" in bad.output
    both = _eval(root, tmp_path / "o", "--predictions", "p.jsonl")
    assert both.exit_code == 2 and "leave out --predictions" in both.output
    missing = _eval(tmp_path / "nowhere", tmp_path / "o")
    assert missing.exit_code == 2 and "dataset folder not found" in missing.output


def test_default_weights_missing_is_a_clear_error(root, tmp_path, monkeypatch):
    import handhdr.training.weights as shipped

    monkeypatch.setattr(shipped, "WEIGHTS_DIR", tmp_path / "no_weights")
    result = _eval(root, tmp_path / "o")
    assert result.exit_code == 2 and "shipped" in result.output and "--hasm PATH" in result.output


def test_real_pipeline_with_tiny_weights(root, tiny, tmp_path):
    out = tmp_path / "out"
    weights = _weights(tiny)
    variant = ["--hdrm-variant", f"no_transformer={tiny['no_transformer']}"]
    result = _eval(root, out, *weights, *variant, "--max-images", "3")
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    names = [*ABLATIONS, "no_transformer"]
    assert metrics["ablations"] == names
    for name in names:
        for block in ("official", "official_gt_scale"):
            assert metrics[name][block]["mpjpe_all"] is not None
        assert metrics[name]["counts"]["images_predicted"] == 3
    # the lines are exactly what predict gives for that image
    pipe = HDRPipeline.load(
        tiny["hasm"], tiny["hdrm"], tiny["shpe"],
        hdrm_variants={"no_transformer": tiny["no_transformer"]},
    )  # fmt: skip
    dataset = InterHandDataset(root, "test", load_masks=False, load_hdr_gt=False)
    sample = dataset[1]
    expected = pipe.predict(sample.image, ablations=names)
    for name in names:
        line = read_predictions(out / "predictions" / f"{name}.jsonl")[1]
        assert line.file_name == sample.file_name
        want = expected[name].to_image_prediction(sample.file_name).to_json()
        assert line.to_json() == want
    # resumed without --max-images: only the rest is predicted
    again = _eval(root, out, *weights, *variant)
    assert again.exit_code == 0, again.output
    assert f"{len(dataset) - 3} images predicted now, 3 already done" in again.output
    for name in names:
        assert len(read_predictions(out / "predictions" / f"{name}.jsonl")) == len(dataset)
    # other weights: refused
    other = _eval(root, out, "--hasm", str(tiny["hasm"]), "--hdrm", str(tiny["no_transformer"]),
                  "--shpe", str(tiny["shpe"]), *variant)  # fmt: skip
    assert other.exit_code == 2 and "other settings" in other.output


def test_real_pipeline_with_gt_boxes(root, tiny, tmp_path):
    weights = _weights(tiny)
    result = _eval(root, tmp_path / "out", *weights, "--gt-boxes", "--backend", "onnx")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["source"]["gt_boxes"] is True and metrics["source"]["backend"] == "onnx"
    assert np.isfinite(metrics["hdr"]["official_gt_scale"]["mpjpe_ih"])


def test_real_pipeline_with_gt_masks(tiny, tmp_path):
    from handhdr.datasets.masks import mask_path, write_masks

    root = tmp_path / "ih"
    make_fixture_dataset(root, "test", seed=7, num_captures=1, num_cameras=1, num_frames=2,
                         image_size=(96, 64), invalid_joint_rate=0.0)  # fmt: skip
    dataset = InterHandDataset(root, "test", load_images=False, load_hdr_gt=False)
    masks = np.zeros((4, 64, 96), bool)
    masks[0, 10:40, 10:40] = masks[1, 10:40, 10:40] = True  # a right hand only
    for name in dataset.file_names:
        path = mask_path(root, "test", name)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_masks(path, masks)
    weights = _weights(tiny)
    result = _eval(root, tmp_path / "out", *weights, "--gt-masks")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["source"]["gt_masks"] is True
    for line in read_predictions(tmp_path / "out" / "predictions" / "hdr.jsonl"):
        assert list(line.hands) == ["right"]  # the masks decide, not the tiny HASM


def test_default_weights_are_named_by_their_digest(root, tmp_path):
    import hashlib

    from handhdr.training.weights import shipped_weights_path

    result = _eval(root, tmp_path / "out", "--max-images", "1", "--backend", "onnx")
    assert result.exit_code == 0, result.output
    run = json.loads((tmp_path / "out" / "predictions" / "run.json").read_text())
    for stage, name in (("hasm", "hasm_lite"), ("hdrm", "hdrm_lite"), ("shpe", "shpe_lite")):
        path = shipped_weights_path(name)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        assert run["weights"][stage] == f"default ({path.name}, sha256 {digest})"
    # the shipped files changed since: the run is not resumed with them
    run["weights"]["hdrm"] = "default (hdrm_lite.safetensors, sha256 0000000000000000)"
    (tmp_path / "out" / "predictions" / "run.json").write_text(json.dumps(run))
    again = _eval(root, tmp_path / "out", "--max-images", "1", "--backend", "onnx")
    assert again.exit_code == 2 and "other settings" in again.output
