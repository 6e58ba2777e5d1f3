"""``handhdr eval --pipeline`` logic: predictions per ablation, resume, metrics, tables."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from handhdr.datasets.interhand import InterHandDataset
from handhdr.datasets.interhand_format import make_fixture_dataset
from handhdr.evaluation.fixtures import OraclePipeline
from handhdr.evaluation.pipeline_eval import (
    BASE_ABLATIONS,
    GtScaleCounts,
    PipelineEvalError,
    ablation_names,
    evaluate_pipeline,
    gt_bone_lengths,
    gt_boxes,
    open_images,
    rescale_to_gt,
    table_order,
)
from handhdr.evaluation.predictions import (
    HandPrediction,
    ImagePrediction,
    PredictionsError,
    partial_path,
    read_predictions,
)
from handhdr.evaluation.run import evaluate_predictions, load_ground_truth

SCALES = {"shpe_only": 1.3, "no_removal": 1.2, "no_deocclusion": 0.9, "hdr": 1.0}
SHIFTS = {"hdr": (0.0, 3.0, 4.0)}  # 5 mm on every non-wrist joint


@pytest.fixture(scope="module")
def ih_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ih")
    make_fixture_dataset(
        root, "test", seed=4, num_captures=2, num_cameras=2, num_frames=3,
        image_size=(64, 48), invalid_joint_rate=0.15,
    )  # fmt: skip
    return root


def _oracle(root: Path, scales=SCALES, shifts=SHIFTS) -> OraclePipeline:
    images = InterHandDataset(root, "test", load_masks=False, load_hdr_gt=False)
    return OraclePipeline(images, scales, shifts)


def _by_hand(gt, scale: float, shift, gt_scale: bool) -> dict[str, float | None]:
    """Official MPJPE per subset for oracle answers, computed here from the definition:
    wrist-relative errors of root-valid joints, per-joint means, mean over joints."""
    rel = gt.joints_cam.astype(np.float64).copy()
    rel[:, :21] -= rel[:, 20:21]
    rel[:, 21:] -= rel[:, 41:42]
    pred = rel * scale
    shift = np.asarray(shift, np.float64)
    for sl in (slice(0, 20), slice(21, 41)):
        pred[:, sl] += shift
    if gt_scale:  # each hand scaled to the ground-truth bone where wrist and MCP are valid
        for wrist, mcp in ((20, 11), (41, 32)):
            hand = slice(wrist - 20, wrist + 1)
            ok = gt.joint_valid[:, wrist] & gt.joint_valid[:, mcp]
            own = np.linalg.norm(pred[:, mcp], axis=-1)
            target = np.linalg.norm(rel[:, mcp], axis=-1)
            factor = np.where(ok, target / own, 1.0)
            pred[:, hand] *= factor[:, None, None]
    valid = gt.joint_valid.copy()
    valid[:, :21] &= valid[:, 20:21]
    valid[:, 21:] &= valid[:, 41:42]
    errors = np.linalg.norm(pred - rel, axis=-1)
    out = {}
    subsets = {
        "sh": np.isin(gt.hand_type, ("right", "left")),
        "ih": gt.hand_type == "interacting",
        "all": np.ones(len(gt), bool),
    }
    for key, rows in subsets.items():
        means = [errors[rows & valid[:, j], j].mean() for j in range(42) if valid[rows, j].any()]
        out[key] = float(np.mean(means)) if means else None
    return out


def test_ablation_names_and_table_order():
    assert ablation_names() == BASE_ABLATIONS
    names = ablation_names(["my_hdrm", "no_transformer", "no_discriminator"])
    assert names[:4] == BASE_ABLATIONS and names[4:] == (
        "my_hdrm",
        "no_transformer",
        "no_discriminator",
    )
    assert table_order(names) == [
        "shpe_only", "no_removal", "no_deocclusion", "no_discriminator", "no_transformer",
        "my_hdrm", "hdr",
    ]  # fmt: skip
    with pytest.raises(PipelineEvalError, match="already an ablation"):
        ablation_names(["hdr"])
    with pytest.raises(PipelineEvalError, match="names a file"):
        ablation_names(["../x"])


def test_gt_boxes_are_the_boxes_of_the_valid_joints():
    joints = np.zeros((42, 2))
    joints[:21] = np.stack([np.linspace(10, 30, 21), np.linspace(5, 45, 21)], axis=1)
    joints[0] = (500.0, 500.0)  # not valid: must not widen the box
    valid = np.zeros(42, bool)
    valid[1:21] = True
    boxes = gt_boxes(joints, valid)
    assert set(boxes) == {"right"}  # no valid left joint: no left box
    assert boxes["right"] == pytest.approx((11.0, 7.0, 19.0, 38.0))


def test_metrics_match_a_hand_computation(ih_root, tmp_path):
    pipe = _oracle(ih_root)
    metrics = evaluate_pipeline(pipe, "interhand", ih_root, tmp_path / "out")
    gt = load_ground_truth("interhand", ih_root)
    assert len(pipe.calls) == len(gt)  # one predict call per image for all ablations
    assert all(boxes is None for _, boxes in pipe.calls)  # no ground truth enters
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert saved["ablations"] == list(BASE_ABLATIONS)
    for name in BASE_ABLATIONS:
        shift = SHIFTS.get(name, (0.0, 0.0, 0.0))
        official = _by_hand(gt, SCALES[name], shift, gt_scale=False)
        scaled = _by_hand(gt, SCALES[name], shift, gt_scale=True)
        for key in ("sh", "ih", "all"):
            assert saved[name]["official"][f"mpjpe_{key}"] == pytest.approx(official[key], abs=1e-3)
            assert saved[name]["official_gt_scale"][f"mpjpe_{key}"] == pytest.approx(
                scaled[key], abs=1e-3
            )
        # the official block is that of `handhdr eval` on the file as written
        path = tmp_path / "out" / "predictions" / f"{name}.jsonl"
        assert saved[name]["official"] == evaluate_predictions(gt, path, "interhand")["official"]
        assert len(read_predictions(path)) == len(gt)
        assert (tmp_path / "out" / "ablations" / name / "metrics.json").is_file()
    # a pure scale error vanishes at the ground-truth scale, except for the hands whose
    # middle MCP is not annotated (left as predicted)
    assert (
        saved["shpe_only"]["official_gt_scale"]["mpjpe_all"]
        < 0.2 * (saved["shpe_only"]["official"]["mpjpe_all"])
    )
    r = saved["reduction"]["official"]
    ih = (saved["hdr"]["official"]["mpjpe_ih"], saved["shpe_only"]["official"]["mpjpe_ih"])
    assert r["relative"] == pytest.approx((ih[0] - ih[1]) / ih[1])
    assert saved["run"]["predicted_now"] == len(gt)
    assert saved["run"]["mean_ms_per_image"]["total"] == pytest.approx(6.0)
    assert metrics["hdr"] == saved["hdr"]
    md = (tmp_path / "out" / "metrics.md").read_text()
    for label in ("SHPE only", "w/o Removal", "w/o De-occlusion", "full HDR", "+HDR"):
        assert label in md
    assert f"{saved['hdr']['official']['mpjpe_all']:.2f}" in md
    assert "IH MPJPE, full HDR vs SHPE only (official)" in md


def test_gt_scale_rescaling_is_exact():
    from handhdr.datasets.schema import GroundTruthTable

    rng = np.random.default_rng(0)
    valid = np.ones((2, 42), bool)
    valid[1, 32] = False  # b: left middle MCP not annotated
    table = GroundTruthTable(
        file_names=["a.jpg", "b.jpg"],
        joints_cam=rng.normal(0, 40, (2, 42, 3)).astype(np.float32),
        joints_img=np.zeros((2, 42, 2), np.float32),
        joint_valid=valid,
        hand_type=np.array(["interacting"] * 2),
        intrinsics=np.zeros((2, 3, 3), np.float32),
    )
    pred = rng.normal(0, 30, (21, 3))
    lines = [
        ImagePrediction("a.jpg", {"right": HandPrediction(joints_3d=pred)}),
        ImagePrediction(
            "b.jpg",
            {"right": HandPrediction(joints_3d=pred), "left": HandPrediction(joints_3d=pred)},
        ),  # fmt: skip
        ImagePrediction("c.jpg", {"left": HandPrediction(joints_3d=pred)}),
    ]
    counts = GtScaleCounts()
    out = list(rescale_to_gt(lines, table, counts))
    bones = gt_bone_lengths(table)
    assert np.isnan(bones[1, 1]) and np.isfinite(bones[1, 0])
    for line, row in ((out[0], 0), (out[1], 1)):
        j = line.hands["right"].joints_3d
        assert np.linalg.norm(j[11] - j[20]) == pytest.approx(bones[row, 0], rel=1e-12)
        np.testing.assert_allclose(j[20], pred[20])  # scaled about the wrist
        direction = (j - j[20]) / np.linalg.norm(j[11] - j[20])
        expected = (pred - pred[20]) / np.linalg.norm(pred[11] - pred[20])
        np.testing.assert_allclose(direction, expected, atol=1e-12)
    np.testing.assert_array_equal(out[1].hands["left"].joints_3d, pred)  # no GT bone
    assert out[2] is lines[2]
    assert (counts.rescaled, counts.no_gt_bone, counts.unknown_image) == (2, 1, 1)


def test_resume_skips_images_already_written(ih_root, tmp_path):
    out = tmp_path / "out"
    pipe = _oracle(ih_root)
    first = evaluate_pipeline(pipe, "interhand", ih_root, out, max_images=3)
    gt = load_ground_truth("interhand", ih_root)
    n = len(gt)
    assert len(pipe.calls) == 3
    assert first["hdr"]["counts"]["images_predicted"] == 3
    assert first["hdr"]["counts"]["images_missing"] == n - 3
    # an interruption: the last line of one file cut short, one image lost in another
    predictions = out / "predictions"
    text = (predictions / "hdr.jsonl").read_text()
    (predictions / "hdr.jsonl").write_text(text[: len(text) - 40])
    lines = (predictions / "no_removal.jsonl").read_text().splitlines(keepends=True)
    (predictions / "no_removal.jsonl").write_text("".join(lines[:1]))
    again = _oracle(ih_root)
    second = evaluate_pipeline(again, "interhand", ih_root, out)
    redone = [name for name, _ in again.calls]
    assert redone == gt.file_names[1:]  # image 0 is in every file; 1 and 2 were not
    for name in BASE_ABLATIONS:
        written = [p.file_name for p in read_predictions(predictions / f"{name}.jsonl")]
        assert sorted(written) == sorted(gt.file_names)  # each image once
        assert second[name]["counts"]["images_missing"] == 0
    assert second["run"] == {**second["run"], "skipped_done": 1, "predicted_now": n - 1}
    # nothing left to do: no call at all
    third = _oracle(ih_root)
    evaluate_pipeline(third, "interhand", ih_root, out)
    assert third.calls == []


def test_resume_with_other_settings_is_refused(ih_root, tmp_path):
    out = tmp_path / "out"
    evaluate_pipeline(_oracle(ih_root), "interhand", ih_root, out, max_images=1)
    with pytest.raises(PipelineEvalError, match="gt_boxes: False then, True now"):
        evaluate_pipeline(_oracle(ih_root), "interhand", ih_root, out, use_gt_boxes=True)
    with pytest.raises(PipelineEvalError, match="weights"):
        evaluate_pipeline(
            _oracle(ih_root), "interhand", ih_root, out, settings={"weights": {"hasm": "x"}}
        )


def test_gt_boxes_reach_the_pipeline(ih_root, tmp_path):
    pipe = _oracle(ih_root)
    evaluate_pipeline(pipe, "interhand", ih_root, tmp_path / "out", use_gt_boxes=True)
    dataset = InterHandDataset(ih_root, "test", load_images=False)
    for i, (name, boxes) in enumerate(pipe.calls):
        assert name == dataset.file_names[i]
        sample = dataset[i]
        expected = gt_boxes(sample.joints_img, sample.joint_valid)
        assert boxes == expected
        for k, hand in enumerate(("right", "left")):
            assert (hand in boxes) == bool(sample.joint_valid[21 * k : 21 * k + 21].any())


def test_variants_are_scored_and_tabled(ih_root, tmp_path):
    scales = {**SCALES, "no_transformer": 1.05}
    pipe = _oracle(ih_root, scales)
    names = ablation_names(["no_transformer"])
    metrics = evaluate_pipeline(pipe, "interhand", ih_root, tmp_path / "out", ablations=names)
    assert "no_transformer" in metrics and metrics["ablations"][-1] == "no_transformer"
    md = (tmp_path / "out" / "metrics.md").read_text()
    assert "w/o Transformer Block" in md
    rows = [line for line in md.splitlines() if re.match(r"\| #\d", line)]
    order = [row.split("|")[2].strip() for row in rows[:5]]
    assert order == ["SHPE only", "w/o Removal", "w/o De-occlusion", "w/o Transformer Block",
                     "full HDR"]  # fmt: skip


def test_an_interrupted_run_keeps_its_lines_in_partials_and_resumes(ih_root, tmp_path):
    out = tmp_path / "out"
    predictions = out / "predictions"
    pipe = _oracle(ih_root)
    real_predict = pipe.predict

    def dies_on_the_third_image(image, **kwargs):
        if len(pipe.calls) == 2:
            raise KeyboardInterrupt
        return real_predict(image, **kwargs)

    pipe.predict = dies_on_the_third_image
    with pytest.raises(KeyboardInterrupt):
        evaluate_pipeline(pipe, "interhand", ih_root, out)
    gt = load_ground_truth("interhand", ih_root)
    for name in BASE_ABLATIONS:
        assert not (predictions / f"{name}.jsonl").exists()  # never half a file
        lines = partial_path(predictions / f"{name}.jsonl").read_text().splitlines()
        assert [json.loads(line)["file_name"] for line in lines] == gt.file_names[:2]
    again = _oracle(ih_root)
    metrics = evaluate_pipeline(again, "interhand", ih_root, out)
    assert [name for name, _ in again.calls] == gt.file_names[2:]
    for name in BASE_ABLATIONS:
        assert _sorted_names(predictions / f"{name}.jsonl") == sorted(gt.file_names)
        assert not partial_path(predictions / f"{name}.jsonl").exists()
        assert metrics[name]["counts"]["images_missing"] == 0


def _sorted_names(path: Path) -> list[str]:
    return sorted(p.file_name for p in read_predictions(path))


def test_a_broken_predictions_file_is_refused_not_dropped(ih_root, tmp_path):
    out = tmp_path / "out"
    evaluate_pipeline(_oracle(ih_root), "interhand", ih_root, out, max_images=2)
    path = out / "predictions" / "hdr.jsonl"
    first, second = path.read_text().splitlines(keepends=True)
    path.write_text(first + "not json\n" + second)
    with pytest.raises(PredictionsError, match=r"hdr.jsonl, line 2: malformed JSON.*delete it"):
        evaluate_pipeline(_oracle(ih_root), "interhand", ih_root, out)
    assert path.read_text() == first + "not json\n" + second


def _write_tzionas(root: Path) -> list[np.ndarray]:
    """Two annotated frames with different pixels (the oracle tells them apart)."""
    from handhdr.io import write_image

    rng = np.random.default_rng(3)
    points_of = []
    for frame in ("000", "005"):
        image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        write_image(root / "01" / "1" / "rgb" / f"{frame}.png", image)
        points = rng.integers(2, 46, size=(28, 2))
        points[[3, 20]] = 0
        label = root / "01" / "1" / "joints_2D_GT" / f"{frame}.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text("\n".join(f"{i}\t{x}\t{y}" for i, (x, y) in enumerate(points)) + "\n")
        points_of.append(points)
    return points_of


def test_tzionas_gives_2d_epe_in_table_2_layout(tmp_path):
    from handhdr.datasets.tzionas import TzionasDataset

    root = tmp_path / "tz"
    _write_tzionas(root)
    pipe = OraclePipeline(TzionasDataset(root), SCALES)
    metrics = evaluate_pipeline(pipe, "tzionas", root, tmp_path / "out")
    for name in BASE_ABLATIONS:  # the oracle's 2D joints are the ground truth's
        assert metrics[name]["epe_2d"]["epe_all"] == pytest.approx(0.0, abs=1e-3)
        assert "official" not in metrics[name] and "official_gt_scale" not in metrics[name]
    md = (tmp_path / "out" / "metrics.md").read_text()
    assert "Table 2" in md and "SHPE+HDR" in md
    assert metrics["reduction"]["measure"] == "epe_all"


def test_gt_masks_reach_the_pipeline_and_missing_ones_are_named(tmp_path):
    from handhdr.datasets.masks import mask_path, write_masks

    root = tmp_path / "ih"
    make_fixture_dataset(root, "test", seed=9, num_captures=1, num_cameras=1, num_frames=3,
                         image_size=(40, 32))  # fmt: skip
    dataset = InterHandDataset(root, "test", load_masks=False, load_hdr_gt=False)
    rng = np.random.default_rng(0)
    written = {}
    for i in range(len(dataset)):
        name = dataset.file_names[i]
        masks = rng.random((4, 32, 40)) < 0.3
        path = mask_path(root, "test", name)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_masks(path, masks)
        written[name] = masks
    pipe = _oracle(root)
    metrics = evaluate_pipeline(pipe, "interhand", root, tmp_path / "out", use_gt_masks=True)
    assert metrics["source"]["gt_masks"] is True
    assert [name for name, _ in pipe.calls] == list(dataset.file_names)
    for (name, _), given in zip(pipe.calls, pipe.masks, strict=True):
        np.testing.assert_array_equal(given, written[name])
    without = _oracle(root)
    evaluate_pipeline(without, "interhand", root, tmp_path / "plain")
    assert without.masks == [None] * len(dataset)  # only the image otherwise
    with pytest.raises(PipelineEvalError, match="gt_masks: True then, False now"):
        evaluate_pipeline(_oracle(root), "interhand", root, tmp_path / "out")
    # an image without its masks file: named, and nothing scored
    missing = mask_path(root, "test", dataset.file_names[1])
    missing.unlink()
    with pytest.raises(PipelineEvalError, match=r"image.*--gt-masks needs this image's four"):
        evaluate_pipeline(_oracle(root), "interhand", root, tmp_path / "again", use_gt_masks=True)
    assert not (tmp_path / "again" / "metrics.json").exists()


def test_gt_masks_on_a_dataset_without_masks_is_refused(tmp_path):
    with pytest.raises(PipelineEvalError, match="tzionas dataset has no ground-truth masks"):
        open_images("tzionas", tmp_path, masks=True)
