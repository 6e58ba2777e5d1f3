"""Write an evaluation to ``OUT/``: ``metrics.json``, ``metrics.md`` and a per-joint chart.

Other files in ``OUT`` are left alone; each of ours is written atomically. The table
follows the layout of Table 1 of the HDR paper (columns IH26M-SH, IH26M-IH, IH26M-ALL,
IH26M-Inter), with one row per protocol.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from handhdr.io import atomic_path, atomic_write_json, atomic_write_text

METRICS_JSON = "metrics.json"
METRICS_MD = "metrics.md"
CHART_PNG = "per_joint_errors.png"

TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("sh", "IH26M-SH"),
    ("ih", "IH26M-IH"),
    ("all", "IH26M-ALL"),
    ("inter", "IH26M-Inter"),
)
PROTOCOL_ROWS: tuple[tuple[str, str], ...] = (
    ("official", "MPJPE, official InterHand2.6M"),
    ("wrist_aligned_mean", "MPJPE, wrist-aligned plain mean"),
    ("middle_mcp_scaled", "MPJPE, middle-MCP root + scale"),
    ("pa_mpjpe", "PA-MPJPE"),
)
PROTOCOL_NOTES = """\
- **MPJPE, official InterHand2.6M**: each hand aligned on its own wrist; a joint counts
  when it and its hand's wrist are valid; errors collected per joint, per-joint means,
  then the unweighted mean over the 42 joints (wrists, always 0, included). SH / IH by
  the ground-truth hand type; ALL joins them per joint; Inter = IH images with more
  than 30 valid joints.
- **wrist-aligned plain mean**: the same errors, averaged over all valid joints of all
  images (each joint of each image weighs the same).
- **middle-MCP root + scale**: each hand rooted at its middle MCP, the prediction scaled
  so that its wrist-to-middle-MCP length equals the ground truth's; mean over valid
  joints (needs the hand's wrist and middle MCP valid).
- **PA-MPJPE**: each hand aligned by a similarity transform (Procrustes with scale) on
  its valid joints; mean over valid joints.
- **MRRPE**: right wrist minus left wrist, predicted vs ground truth, on interacting
  images with both wrists valid; only for predictions in the camera frame.
- Missing images are left out of every mean; a hand a line leaves out while the
  ground truth has it is scored with all 21 joints at its root.
"""


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def format_table(metrics: dict[str, Any]) -> str:
    """The headline numbers as a Markdown table (paper Table 1 layout for 3D datasets)."""
    if "official" in metrics:
        header = ["protocol (mm)", *(name for _, name in TABLE_COLUMNS)]
        rows = [
            [label, *(_fmt(metrics[key][f"mpjpe_{col}"]) for col, _ in TABLE_COLUMNS)]
            for key, label in PROTOCOL_ROWS
        ]
        return _markdown_table(header, rows)
    columns = [(col, name) for col, name in TABLE_COLUMNS if f"epe_{col}" in metrics["epe_2d"]]
    header = ["protocol (px)", *(name.replace("IH26M-", "") for _, name in columns)]
    rows = [["2D EPE", *(_fmt(metrics["epe_2d"][f"epe_{col}"]) for col, _ in columns)]]
    return _markdown_table(header, rows)


def _summary_lines(metrics: dict[str, Any]) -> list[str]:
    counts = metrics["counts"]
    lines = [
        f"- images: {counts['images_predicted']} predicted of {counts['images_ground_truth']}, "
        f"{counts['images_missing']} missing, {counts['images_unknown']} unknown",
        f"- hands missed: {counts['hands_missed']}, extra hands: {counts['hands_extra']}",
    ]
    if counts["missing_examples"]:
        lines.append(f"- missing, e.g.: {', '.join(counts['missing_examples'])}")
    if counts["unknown_examples"]:
        lines.append(f"- unknown, e.g.: {', '.join(counts['unknown_examples'])}")
    hand = metrics["handedness"]
    lines.append(
        "- handedness accuracy: "
        + ", ".join(f"{k.removeprefix('accuracy_').upper()} {_fmt(v, 4)}" for k, v in hand.items())
    )
    if "mrrpe" in metrics:
        mrrpe = metrics["mrrpe"]
        lines.append(f"- MRRPE: {_fmt(mrrpe['mrrpe'])} mm over {mrrpe['images']} images")
    epe = metrics.get("epe_2d", {})
    if "official" in metrics and "epe_all" in epe:
        lines.append(f"- 2D EPE (ALL): {_fmt(epe['epe_all'])} px")
    return lines


def format_markdown(metrics: dict[str, Any]) -> str:
    """``metrics.md``: where the numbers come from, the table, the rest, definitions."""
    source = metrics.get("source", {})
    title = f"# Evaluation: {source.get('dataset', '?')} {source.get('split', '')}".rstrip()
    parts = [title, ""]
    parts += [f"- {key}: `{value}`" for key, value in source.items()]
    parts += ["", format_table(metrics), "", *_summary_lines(metrics), ""]
    parts += [f"Per-joint errors: ![per-joint errors]({CHART_PNG})", ""]
    if "official" in metrics:
        parts += ["## Protocols", "", PROTOCOL_NOTES]
    return "\n".join(parts)


def write_chart(metrics: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Bar chart of the per-joint errors (official ALL in mm, or 2D EPE in px)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    per_joint = metrics["per_joint"]
    key, unit = ("official_all", "mm") if "official_all" in per_joint else ("epe_2d_all", "px")
    values = np.array([np.nan if v is None else v for v in per_joint[key]], dtype=np.float64)
    names = per_joint["joint_names"]
    colors = ["tab:red"] * 21 + ["tab:green"] * 21  # right red, left green (as the panels)
    fig, ax = plt.subplots(figsize=(12, 4), dpi=100)
    ax.bar(np.arange(len(values)), np.nan_to_num(values), color=colors)
    ax.set_xticks(np.arange(len(values)), names, rotation=90, fontsize=7)
    ax.set_ylabel(f"error ({unit})")
    label = "MPJPE, official, ALL" if unit == "mm" else "2D EPE, ALL"
    ax.set_title(f"Per-joint error ({label}); right hand red, left hand green")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def write_report(metrics: dict[str, Any], out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``metrics.json``, ``metrics.md`` and the chart into ``out_dir``; their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / METRICS_JSON, "markdown": out / METRICS_MD, "chart": out / CHART_PNG}
    atomic_write_json(paths["json"], metrics)
    write_chart(metrics, paths["chart"])
    atomic_write_text(paths["markdown"], format_markdown(metrics))
    return paths
