"""metrics.json / metrics.md / chart writing and the Table-1 layout."""

from __future__ import annotations

import json

import numpy as np

from handhdr.evaluation.report import format_markdown, format_table, write_report
from handhdr.io import read_image
from handhdr.joints import INTERHAND42_NAMES


def _metrics_3d() -> dict:
    def block(base: float) -> dict:
        return {"mpjpe_sh": base, "mpjpe_ih": base + 1, "mpjpe_all": base + 2, "mpjpe_inter": None}

    per_joint = [float(j) for j in range(42)]
    per_joint[20] = None  # a joint without samples
    return {
        "source": {"dataset": "interhand", "split": "test", "predictions": "p.jsonl"},
        "official": block(8.514),
        "wrist_aligned_mean": block(9.0),
        "middle_mcp_scaled": block(10.0),
        "pa_mpjpe": block(5.0),
        "mrrpe": {"mrrpe": None, "images": 0},
        "handedness": {"accuracy_sh": 1.0, "accuracy_ih": 0.5, "accuracy_all": 0.75},
        "epe_2d": {"note": "some predicted hands have no joints_2d"},
        "per_joint": {"joint_names": list(INTERHAND42_NAMES), "official_all": per_joint},
        "counts": {
            "images_ground_truth": 10,
            "images_predicted": 8,
            "images_missing": 2,
            "missing_examples": ["a.jpg", "b.jpg"],
            "images_unknown": 1,
            "unknown_examples": ["zz.jpg"],
            "hands_missed": 3,
            "hands_extra": 0,
        },
    }


def test_table_has_the_paper_table_1_columns_and_one_row_per_protocol():
    lines = format_table(_metrics_3d()).splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == ["protocol (mm)", "IH26M-SH", "IH26M-IH", "IH26M-ALL", "IH26M-Inter"]
    rows = {r.strip("|").split("|")[0].strip(): r for r in lines[2:]}
    assert len(rows) == 4
    official = [c.strip() for c in rows["MPJPE, official InterHand2.6M"].strip("|").split("|")]
    assert official[1:] == ["8.51", "9.51", "10.51", "-"]  # None prints as "-"
    assert [c.strip() for c in rows["PA-MPJPE"].strip("|").split("|")][1:4] == [
        "5.00",
        "6.00",
        "7.00",
    ]


def test_2d_table():
    metrics = {"epe_2d": {"epe_sh": None, "epe_ih": 8.7, "epe_all": 8.7}}
    lines = format_table(metrics).splitlines()
    assert [c.strip() for c in lines[0].strip("|").split("|")] == [
        "protocol (px)",
        "SH",
        "IH",
        "ALL",
    ]
    assert [c.strip() for c in lines[2].strip("|").split("|")] == ["2D EPE", "-", "8.70", "8.70"]


def test_markdown_lists_counts_and_examples():
    text = format_markdown(_metrics_3d())
    assert "8 predicted of 10, 2 missing, 1 unknown" in text
    assert "a.jpg, b.jpg" in text and "zz.jpg" in text
    assert "hands missed: 3" in text
    assert "predictions: `p.jsonl`" in text


def test_write_report_keeps_other_files_and_round_trips(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"\x00weights")
    (tmp_path / "metrics.json").write_text("stale")
    metrics = _metrics_3d()
    paths = write_report(metrics, tmp_path)
    assert (tmp_path / "model.safetensors").read_bytes() == b"\x00weights"
    assert json.loads(paths["json"].read_text()) == metrics
    assert format_table(metrics) in paths["markdown"].read_text()
    image = read_image(paths["chart"])
    assert image.shape == (400, 1200, 3)
    # right-hand bars are red, left-hand bars green
    red = (image[..., 0] > 150) & (image[..., 1] < 80)
    green = (image[..., 1] > 120) & (image[..., 0] < 100)
    assert red[:, :600].sum() > 1000 and green[:, 600:].sum() > 1000
    assert not red[:, 650:].any()
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers == ["metrics.json", "metrics.md", "model.safetensors", "per_joint_errors.png"]


def test_chart_uses_2d_errors_for_a_2d_evaluation(tmp_path):
    values = np.linspace(1, 20, 42)
    metrics = {
        "source": {"dataset": "tzionas"},
        "epe_2d": {"epe_sh": None, "epe_ih": 3.0, "epe_all": 3.0},
        "handedness": {"accuracy_all": 1.0},
        "per_joint": {"joint_names": list(INTERHAND42_NAMES), "epe_2d_all": values.tolist()},
        "counts": _metrics_3d()["counts"],
    }
    paths = write_report(metrics, tmp_path / "new" / "out")  # OUT is created
    assert "2D EPE" in paths["markdown"].read_text()
    assert read_image(paths["chart"]).shape == (400, 1200, 3)
