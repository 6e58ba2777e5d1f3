"""``handhdr eval-shpe`` end to end on a tiny InterHand2.6M-format dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.datasets.interhand import InterHandDataset
from handhdr.datasets.interhand_format import make_fixture_dataset
from handhdr.shpe.interface import HandPoseResult

SIZE = 48


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Single- and two-hand images, no masks (boxes then come from the 2D joints)."""
    path = tmp_path_factory.mktemp("ih26m_shpe")
    make_fixture_dataset(
        path, "test", seed=7, num_captures=2, num_cameras=2, num_frames=3,
        hand_types=("right", "left", "interacting"), image_size=(160, 120),
    )  # fmt: skip
    return path


class Blind:
    """Finds nothing: 3D at the wrist, 2D at the crop centre -- errors known in advance."""

    name, input_size, scale_rule = "blind", SIZE, "none"

    def __call__(self, crops):
        return HandPoseResult.empty(len(crops), SIZE)


def _expected(root):
    gt = InterHandDataset(root, "test", load_images=False, load_masks=False).ground_truth()
    err_3d, err_2d = [], []
    for i, hand in enumerate(gt.hand_type):
        if hand == "interacting":
            continue  # not a single-hand image
        sl = slice(0, 21) if hand == "right" else slice(21, 42)
        valid = gt.joint_valid[i, sl]
        if not valid[20]:
            continue
        rel = gt.joints_cam[i, sl] - gt.joints_cam[i, sl][20]
        if valid[11]:
            err_3d.append(np.linalg.norm(rel, axis=-1)[valid])
        points = gt.joints_img[i, sl][valid]
        lo, hi = points.min(axis=0), points.max(axis=0)
        side = max(2 * (hi - lo).max(), 16.0)
        err_2d.append(np.linalg.norm(points - (lo + hi) / 2, axis=-1) * SIZE / side)
    return np.concatenate(err_3d).mean(), np.concatenate(err_2d).mean()


def test_known_errors_end_to_end(root, tmp_path, monkeypatch):
    import handhdr.shpe.estimators as estimators

    monkeypatch.setattr(estimators, "load_estimator", lambda *args, **kwargs: Blind())
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("other results")
    args = ["eval-shpe", "--root", str(root), "--split", "test", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert (out / "keep.txt").read_text() == "other results"
    mpjpe, epe = _expected(root)
    assert metrics["mpjpe"] == pytest.approx(mpjpe, rel=1e-4)
    assert metrics["mpjpe_prior_scale"] == pytest.approx(mpjpe, rel=1e-4)
    assert metrics["epe_2d"] == pytest.approx(epe, rel=1e-4)
    assert metrics["box_source"]["amodal_mask"] == 0 and metrics["notes"]
    assert metrics["estimator"]["name"] == "blind"
    assert metrics["dataset"]["split"] == "test"
    assert "box of the valid 2D joints" in result.output


def test_detnet_weights_on_both_backends(root, tmp_path):
    from handhdr.shpe.detnet import BlockSpec, DetNet, DetNetConfig
    from handhdr.shpe.weights import save_detnet

    torch.manual_seed(0)
    config = DetNetConfig(
        input_size=SIZE, stem_channels=8, blocks=[BlockSpec(1, 4, 16, stride=2)],
        squeeze_channels=8, head_channels=8,
    )  # fmt: skip
    weights = save_detnet(DetNet(config).eval(), tmp_path / "tiny.safetensors")
    scores = {}
    for backend in ("torch", "onnx"):
        out = tmp_path / backend
        args = ["eval-shpe", "--root", str(root), "--out", str(out), "--weights", str(weights)]
        extra = ["--backend", backend, "--limit", "4", "--threads", "1"]
        result = CliRunner().invoke(app, [*args, *extra])
        assert result.exit_code == 0, result.output
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["estimator"]["backend"] == backend
        assert metrics["estimator"]["input_size"] == SIZE
        assert "reference bone" in metrics["estimator"]["scale_rule"]
        assert metrics["counts"]["images"] == 4
        scores[backend] = metrics["mpjpe_prior_scale"]
    assert scores["onnx"] == pytest.approx(scores["torch"], rel=0.05)


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--backend", "tflite"], "--backend"),
        (["--device", "tpu"], "--device"),
        (["--estimator", "openpose"], "--estimator"),
        (["--weights", "missing.safetensors"], "not found"),
    ],
)
def test_bad_options_fail_clearly(root, tmp_path, extra, message):
    args = ["eval-shpe", "--root", str(root), "--out", str(tmp_path), *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_mediapipe_without_the_extra_says_how_to_install(root, tmp_path):
    try:
        import mediapipe  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the mediapipe extra is installed here")
    args = ["eval-shpe", "--root", str(root), "--out", str(tmp_path), "--estimator", "mediapipe"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert 'pip install "handhdr[mediapipe]"' in result.output
