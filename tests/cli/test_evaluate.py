"""``handhdr eval`` end to end on a tiny InterHand2.6M-format dataset written by the test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from handhdr.camera import world_to_camera
from handhdr.cli import app
from handhdr.datasets.interhand_format import InterHandFixture, make_fixture_dataset
from handhdr.evaluation.predictions import HandPrediction, ImagePrediction, write_predictions
from handhdr.io import read_image

RIGHT_SHIFT = np.array([0.0, 3.0, 4.0])  # 5 mm on every non-wrist joint of the right hand


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> InterHandFixture:
    root = tmp_path_factory.mktemp("ih26m")
    return make_fixture_dataset(
        root, "test", seed=5, num_captures=2, num_cameras=3, num_frames=3,
        invalid_joint_rate=0.1, write_images=False,
    )  # fmt: skip


def _camera_joints(fixture: InterHandFixture, image) -> np.ndarray:
    camera = fixture.camera(image.capture, image.camera)
    frame = fixture.frame(image.capture, image.frame_idx)
    return world_to_camera(frame.world_coord, camera.camrot, camera.campos)


def _predictions(fixture: InterHandFixture, shift_right: bool = False) -> list[ImagePrediction]:
    """Exact root-relative predictions for the hands each image's hand type implies."""
    lines = []
    for image in fixture.images:
        joints = _camera_joints(fixture, image)
        hands = {}
        for hand, sl in (("right", slice(0, 21)), ("left", slice(21, 42))):
            if image.hand_type not in (hand, "interacting"):
                continue
            relative = joints[sl] - joints[sl][20]
            if shift_right and hand == "right":
                relative[:20] += RIGHT_SHIFT
            hands[hand] = HandPrediction(joints_3d=relative, score=1.0)
        lines.append(ImagePrediction(image.file_name, hands))
    return lines


def _run(root: Path, predictions: Path, out: Path, *extra: str):
    args = ["eval", "--root", str(root), "--split", "test"]
    args += ["--predictions", str(predictions), "--out", str(out), *extra]
    return CliRunner().invoke(app, args)


def test_perfect_predictions_give_zero(dataset, tmp_path):
    predictions = tmp_path / "predictions.jsonl"
    write_predictions(predictions, _predictions(dataset))
    result = _run(dataset.root, predictions, tmp_path / "out")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    for key in ("mpjpe_sh", "mpjpe_ih", "mpjpe_all", "mpjpe_inter"):
        assert metrics["official"][key] == pytest.approx(0.0, abs=1e-3)
    assert metrics["handedness"]["accuracy_all"] == 1.0
    assert metrics["counts"]["images_predicted"] == len(dataset.images)
    assert metrics["counts"]["images_missing"] == 0


def test_known_perturbation_gives_the_known_value(dataset, tmp_path):
    predictions = tmp_path / "predictions.jsonl"
    write_predictions(predictions, _predictions(dataset, shift_right=True))
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = _run(dataset.root, predictions, out)
    assert result.exit_code == 0, result.output
    assert (out / "notes.txt").read_text() == "keep me"

    valid = np.array([image.joint_valid for image in dataset.images], dtype=bool)
    valid[:, :21] &= valid[:, 20:21]  # root rule
    valid[:, 21:] &= valid[:, 41:42]
    hand_type = np.array([image.hand_type for image in dataset.images])
    subsets = {
        "sh": hand_type != "interacting",
        "ih": hand_type == "interacting",
        "all": np.ones(len(hand_type), dtype=bool),
        "inter": (hand_type == "interacting") & (valid.sum(axis=1) > 30),
    }
    metrics = json.loads((out / "metrics.json").read_text())
    for key, rows in subsets.items():
        # official: per-joint mean 5 on joints 0-19, 0 on the right wrist and the left
        # hand, averaged over the joints with samples (all 42 here): 20 * 5 / 42
        has_samples = valid[rows].any(axis=0)
        assert has_samples.all(), key  # precondition of the hand-derived value
        assert metrics["official"][f"mpjpe_{key}"] == pytest.approx(100 / 42, abs=1e-3), key
    # plain mean: 5 mm times the share of valid joints that are right non-wrist joints
    plain = 5.0 * valid[:, :20].sum() / valid.sum()
    assert metrics["wrist_aligned_mean"]["mpjpe_all"] == pytest.approx(plain, abs=1e-3)
    assert abs(plain - 100 / 42) > 0.1  # this fixture tells the two protocols apart
    # a translation of one hand's fingers is not a similarity of the hand: PA stays > 0
    assert metrics["pa_mpjpe"]["mpjpe_all"] > 0.1

    assert "IH26M-SH | IH26M-IH | IH26M-ALL | IH26M-Inter" in result.output
    assert f"{100 / 42:.2f}" in result.output
    assert f"{100 / 42:.2f}" in (out / "metrics.md").read_text()
    chart = read_image(out / "per_joint_errors.png")
    assert chart.shape == (400, 1200, 3)


def test_missing_and_unknown_images_are_reported(dataset, tmp_path):
    lines = _predictions(dataset)
    dropped = [lines[1].file_name, lines[7].file_name]
    lines = [line for line in lines if line.file_name not in dropped]
    lines.append(ImagePrediction("Capture9/none/cam1/image1.jpg", {}))
    predictions = tmp_path / "predictions.jsonl"
    write_predictions(predictions, lines)
    result = _run(dataset.root, predictions, tmp_path / "out")
    assert result.exit_code == 0, result.output
    counts = json.loads((tmp_path / "out" / "metrics.json").read_text())["counts"]
    assert counts["images_missing"] == 2 and sorted(counts["missing_examples"]) == sorted(dropped)
    assert counts["images_unknown"] == 1
    assert "2 missing, 1 unknown" in result.output


def test_bad_predictions_file_is_a_clear_error(dataset, tmp_path):
    good = json.dumps(_predictions(dataset)[0].to_json())
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text(good + "\n" + '{"file_name": "a.jpg", "hands": {"left": {}}}\n')
    result = _run(dataset.root, predictions, tmp_path / "out")
    assert result.exit_code == 2
    assert f"{predictions}, line 2, key 'hands.left'" in result.output
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_predictions_that_match_nothing_are_an_error(dataset, tmp_path):
    predictions = tmp_path / "predictions.jsonl"
    write_predictions(predictions, [ImagePrediction("images/test/x.jpg", {})])
    result = _run(dataset.root, predictions, tmp_path / "out")
    assert result.exit_code == 2 and "names an image of the ground truth" in result.output


def test_missing_inputs_are_errors(dataset, tmp_path):
    result = _run(tmp_path / "nowhere", tmp_path / "p.jsonl", tmp_path / "out")
    assert result.exit_code == 2 and "nowhere" in result.output
    result = _run(dataset.root, tmp_path / "p.jsonl", tmp_path / "out")
    assert result.exit_code == 2 and "p.jsonl: predictions file not found" in result.output
    result = CliRunner().invoke(app, ["eval", "--root", str(dataset.root), "--out", "x"])
    assert result.exit_code == 2 and "--predictions" in result.output


def _write_tzionas(root: Path, rng: np.random.Generator) -> None:
    """One sequence, two annotated frames, in the published layout (640x480 PNG)."""
    from handhdr.io import write_image

    for frame in ("000", "005"):
        write_image(root / "01" / "1" / "rgb" / f"{frame}.png", np.zeros((480, 640, 3), np.uint8))
        points = rng.integers(20, 460, size=(28, 2))
        points[[3, 20]] = 0  # "0 0": not annotated
        lines = [f"{i}\t{x}\t{y}" for i, (x, y) in enumerate(points)]
        label = root / "01" / "1" / "joints_2D_GT" / f"{frame}.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text("\n".join(lines) + "\n")


def test_tzionas_2d_epe(tmp_path):
    from handhdr.datasets.tzionas import read_joints_file, to_interhand42

    root = tmp_path / "tzionas"
    _write_tzionas(root, np.random.default_rng(0))
    lines = []
    for frame in ("000", "005"):
        uv, _ = to_interhand42(read_joints_file(root / "01/1/joints_2D_GT" / f"{frame}.txt"))
        uv = uv.astype(np.float64) + np.array([3.0, 4.0])  # 5 px off everywhere
        hands = {
            "right": HandPrediction(joints_2d=uv[:21]),
            "left": HandPrediction(joints_2d=uv[21:]),
        }
        lines.append(ImagePrediction(f"01/1/rgb/{frame}.png", hands))
    predictions = tmp_path / "predictions.jsonl"
    write_predictions(predictions, lines)
    out = tmp_path / "out"
    result = _run(root, predictions, out, "--dataset", "tzionas")
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epe_2d"]["epe_all"] == pytest.approx(5.0, abs=1e-4)
    assert metrics["epe_2d"]["epe_ih"] == pytest.approx(5.0, abs=1e-4)
    assert "official" not in metrics
    assert metrics["source"]["dataset"] == "tzionas" and "branch" not in metrics["source"]
    assert "| 2D EPE" in result.output and "5.00" in result.output


def test_tzionas_needs_2d_joints(tmp_path):
    root = tmp_path / "tzionas"
    _write_tzionas(root, np.random.default_rng(1))
    hand = HandPrediction(joints_3d=np.zeros((21, 3)))
    predictions = tmp_path / "predictions.jsonl"
    write_predictions(predictions, [ImagePrediction("01/1/rgb/000.png", {"right": hand})])
    result = _run(root, predictions, tmp_path / "out", "--dataset", "tzionas")
    assert result.exit_code == 2
    assert "line 1, key 'hands.right.joints_2d'" in result.output
