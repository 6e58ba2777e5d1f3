"""``handhdr predict`` end to end on tiny random-weight models."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.evaluation.predictions import predictions_schema, read_predictions
from handhdr.io import write_image
from handhdr.pipeline.fixtures import write_tiny_weights


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return write_tiny_weights(tmp_path_factory.mktemp("weights"), seed=0)


def _args(weights, *extra):
    return [
        "--hasm", str(weights["hasm"]), "--hdrm", str(weights["hdrm"]),
        "--shpe", str(weights["shpe"]), "--threads", "1", "--no-progress", *extra,
    ]  # fmt: skip


def _odd_folder(root):
    """Images of every awkward kind, a corrupt one, and a file that is not an image."""
    rng = np.random.default_rng(0)
    write_image(root / "rgb.jpg", rng.integers(0, 256, (60, 80, 3), dtype=np.uint8))
    cv2.imwrite(str(root / "gray.png"), rng.integers(0, 256, (40, 50), dtype=np.uint8))
    (root / "deep").mkdir()
    cv2.imwrite(str(root / "deep" / "sixteen.png"), rng.integers(0, 65535, (48, 40), np.uint16))
    Image.fromarray(rng.integers(0, 256, (30, 30, 4), dtype=np.uint8), "RGBA").save(
        root / "deep" / "alpha.png"
    )
    write_image(root / "deep" / "tiny.png", np.full((3, 2, 3), 90, np.uint8))
    write_image(root / "wide.png", rng.integers(0, 256, (40, 1500, 3), dtype=np.uint8))
    (root / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (root / "notes.txt").write_text("not an image")
    return [
        "deep/alpha.png",
        "deep/sixteen.png",
        "deep/tiny.png",
        "gray.png",
        "rgb.jpg",
        "wide.png",
    ]


def test_a_folder_of_odd_images_with_a_corrupt_one(weights, tmp_path):
    import jsonschema

    folder = tmp_path / "in"
    folder.mkdir()
    expected = _odd_folder(folder)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["predict", str(folder), "--out", str(out), *_args(weights)])
    assert result.exit_code == 0, result.output
    assert "skipped broken.jpg" in result.output and "notes.txt" not in result.output
    lines = read_predictions(out / "predictions.jsonl")  # the reader validates every line
    assert [p.file_name for p in lines] == expected
    validator = jsonschema.Draft202012Validator(predictions_schema())
    for text in (out / "predictions.jsonl").read_text().splitlines():
        validator.validate(json.loads(text))
    assert lines[0].hands["right"].joint_visible is not None
    assert not (out / "predictions.jsonl.partial").exists()
    summary = json.loads((out / "predict.json").read_text())
    assert summary["images"] == {"read": 6, "predicted_now": 6, "unreadable": 1}
    # an output folder inside the input folder is not read back as input
    inner = folder / "results"
    args = ["predict", str(folder), "--out", str(inner), "--visualize", *_args(weights)]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert CliRunner().invoke(app, args).exit_code == 0
    assert [p.file_name for p in read_predictions(inner / "predictions.jsonl")] == expected


def test_a_video_names_its_frames(weights, tmp_path):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (64, 48))
    rng = np.random.default_rng(1)
    for _ in range(3):
        writer.write(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    writer.release()
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["predict", str(video), "--out", str(out), "--visualize", *_args(weights)]
    )
    assert result.exit_code == 0, result.output
    names = [p.file_name for p in read_predictions(out / "predictions.jsonl")]
    assert names == ["clip.avi/0", "clip.avi/1", "clip.avi/2"]
    assert sorted(p.name for p in (out / "vis" / "clip.avi").iterdir()) == [
        "0.png", "1.png", "2.png",
    ]  # fmt: skip


def test_no_hand_gives_empty_hands(tmp_path):
    weights = write_tiny_weights(tmp_path / "w", hands=())
    image = tmp_path / "blank.png"
    write_image(image, np.zeros((40, 40, 3), np.uint8))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["predict", str(image), "--out", str(out), *_args(weights)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "predictions.jsonl").read_text()) == {
        "file_name": "blank.png",
        "hands": {},
    }


def test_exit_codes_when_nothing_can_be_read(weights, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"nope")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["predict", str(folder), "--out", str(out), *_args(weights)])
    assert result.exit_code == 1 and "no image could be read" in result.output
    assert not (out / "predictions.jsonl").exists()
    assert not (out / "predictions.jsonl.partial").exists()
    (folder / "a.png").unlink()
    result = CliRunner().invoke(app, ["predict", str(folder), "--out", str(out), *_args(weights)])
    assert result.exit_code == 2 and "no images or videos found" in result.output


def test_missing_shipped_weights_and_bad_options_are_clear(weights, tmp_path, monkeypatch):
    import handhdr.training.weights as shipped

    monkeypatch.setattr(shipped, "WEIGHTS_DIR", tmp_path / "no_weights")
    image = tmp_path / "a.png"
    write_image(image, np.zeros((20, 20, 3), np.uint8))
    runner = CliRunner()
    result = runner.invoke(app, ["predict", str(image), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "hasm_lite.safetensors" in result.output and "handhdr train" in result.output
    result = runner.invoke(
        app,
        ["predict", str(image), "--out", str(tmp_path / "o"), *_args(weights, "--ablation", "x")],
    )
    assert result.exit_code == 2 and "unknown ablation 'x'" in result.output
    result = runner.invoke(
        app,
        ["predict", str(image), "--out", str(tmp_path / "o"), *_args(weights, "--backend", "tf")],
    )
    assert result.exit_code == 2 and "backend" in result.output
    if not torch.cuda.is_available():
        result = runner.invoke(
            app,
            [
                "predict",
                str(image),
                "--out",
                str(tmp_path / "o"),
                *_args(weights, "--device", "cuda"),
            ],
        )
        assert result.exit_code == 2 and "cuda" in result.output.lower()


def test_several_ablations_and_a_variant_write_one_folder_each(weights, tmp_path):
    image = tmp_path / "a.png"
    write_image(image, np.random.default_rng(2).integers(0, 256, (50, 60, 3), dtype=np.uint8))
    out = tmp_path / "out"
    args = _args(
        weights, "--ablation", "hdr", "--ablation", "shpe_only", "--ablation", "again",
        "--hdrm-variant", f"again={weights['hdrm']}",
    )  # fmt: skip
    result = CliRunner().invoke(app, ["predict", str(image), "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    for name in ("hdr", "shpe_only", "again"):
        assert [p.file_name for p in read_predictions(out / name / "predictions.jsonl")] == [
            "a.png"
        ]
    # the same weights as a variant give the same lines as hdr
    assert (out / "again" / "predictions.jsonl").read_text() == (
        out / "hdr" / "predictions.jsonl"
    ).read_text()


def test_an_interrupted_run_resumes_where_it_stopped(weights, tmp_path, monkeypatch):
    from handhdr.pipeline import HDRPipeline

    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for name in ("a.png", "b.png", "c.png"):
        write_image(folder / name, rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))
    out = tmp_path / "out"
    original = HDRPipeline.predict
    calls = []

    def failing(self, image, **kwargs):
        calls.append(image.shape)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return original(self, image, **kwargs)

    monkeypatch.setattr(HDRPipeline, "predict", failing)
    result = CliRunner().invoke(app, ["predict", str(folder), "--out", str(out), *_args(weights)])
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    assert not (out / "predictions.jsonl").exists()  # never half a file
    partial = (out / "predictions.jsonl.partial").read_text().splitlines()
    assert [json.loads(line)["file_name"] for line in partial] == ["a.png"]

    with (out / "predictions.jsonl.partial").open("a") as stream:
        stream.write('{"file_name": "b.png", "hands": {"ri')  # the line the cut tore

    monkeypatch.setattr(HDRPipeline, "predict", original)
    resume = ["predict", str(folder), "--out", str(out), "--resume", *_args(weights)]
    result = CliRunner().invoke(app, resume)
    assert result.exit_code == 0, result.output
    assert "1 from an earlier run" in result.output
    names = [p.file_name for p in read_predictions(out / "predictions.jsonl")]
    assert names == ["a.png", "b.png", "c.png"]
    assert json.loads((out / "predict.json").read_text())["images"]["predicted_now"] == 2

    # a damaged line (not a cut-off last one) is a clear error, and the file stays
    text = (out / "predictions.jsonl").read_text().replace('"b.png"', "b.png", 1)
    (out / "predictions.jsonl").write_text(text)
    result = CliRunner().invoke(app, resume)
    assert result.exit_code == 2 and "predictions.jsonl, line 2: malformed JSON" in result.output
    assert (out / "predictions.jsonl").read_text() == text
    assert not (out / "predictions.jsonl.partial").exists()
