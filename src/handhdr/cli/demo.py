"""``handhdr demo``: the main command; runs with no arguments on the shipped defaults."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from handhdr.cli.app import app, fail

if TYPE_CHECKING:
    from handhdr.datasets.interhand import InterHandDataset

DEMO_SEED = 7  # fixed: the demo shows the same scenes on every machine
DEMO_SIZE = (512, 334)

WeightsOption = Annotated[str, typer.Option(help="default (shipped lite) or a weights file.")]


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for everything the demo writes.")] = Path(
        "handhdr-demo"
    ),
    num: Annotated[int, typer.Option(min=1, max=16, help="Interacting-hand images.")] = 4,
    hasm: WeightsOption = "default",
    hdrm: WeightsOption = "default",
    shpe: WeightsOption = "default",
    backend: Annotated[str, typer.Option(help="torch or onnx.")] = "torch",
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    threads: Annotated[int | None, typer.Option(help="Inference threads.")] = None,
) -> None:
    """Run HDR (HASM -> HDRM -> SHPE) on synthetic interacting-hand images.

    The demo renders two-hand scenes with the synthetic data engine (fixed seed),
    runs the pipeline with the shipped lite weights and writes, per image, a panel
    like the paper's Fig. 2 and 5 (predicted masks, boxes, HDRM input and
    de-occluded crops, 2D skeletons, a 3D view) and predictions.jsonl. While shipped
    weights are missing it shows the synthetic ground truth instead and says which
    weights are missing.
    """
    from handhdr.datasets.interhand import InterHandDataset
    from handhdr.pipeline.loading import missing_shipped
    from handhdr.synth import SynthConfig, generate

    data_root = out / "data"
    config = SynthConfig(
        split="test", seed=DEMO_SEED, width=DEMO_SIZE[0], height=DEMO_SIZE[1],
        mix={"sh": 0.0, "ih": 1.0},
    )  # fmt: skip
    typer.echo(f"rendering {num} synthetic interacting-hand images into {data_root} ...")
    generate(data_root, config, num, progress=False)
    dataset = InterHandDataset(data_root, split="test")
    count = min(num, len(dataset))
    missing = missing_shipped({"hasm": hasm, "hdrm": hdrm, "shpe": shpe})
    if missing:
        _ground_truth_panel(dataset, count, out)
        names = ", ".join(f"{stage.upper()} ({path})" for stage, path in missing.items())
        typer.echo(
            f"note: no shipped weights for {names}, so no predictions were made: the panel "
            "shows the ground truth of the synthetic data engine. Train and export them "
            "(docs/training.md) or pass --hasm/--hdrm/--shpe weights files."
        )
        return
    _predict(dataset, count, out, hasm, hdrm, shpe, backend, device, threads)


def _predict(
    dataset: InterHandDataset,
    count: int,
    out: Path,
    hasm: str,
    hdrm: str,
    shpe: str,
    backend: str,
    device: str,
    threads: int | None,
) -> None:
    """Panels and predictions.jsonl from the pipeline; the error against the known truth."""
    import numpy as np

    from handhdr.evaluation.predictions import PredictionsWriter
    from handhdr.io import write_image
    from handhdr.joints import HAND_SLICES, WRIST
    from handhdr.pipeline import HDRPipeline
    from handhdr.pipeline.panel import figure_panel
    from handhdr.training.weights import WeightsError

    try:
        pipe = HDRPipeline.load(hasm, hdrm, shpe, backend=backend, device=device, threads=threads)
    except (WeightsError, ValueError, ImportError) as exc:
        raise fail(str(exc)) from exc
    errors: list[np.ndarray] = []
    found = 0
    predictions = out / "predictions.jsonl"
    with PredictionsWriter(predictions) as writer:
        for i in range(count):
            sample = dataset[i]
            assert sample.image is not None
            result = pipe.predict(sample.image)["hdr"]
            writer.write(result.to_image_prediction(sample.file_name))
            title = f"{sample.file_name}  ({pipe.timings['total']:.0f} ms)"
            panel = out / f"panel_{i:02d}.png"
            write_image(panel, figure_panel(sample.image, result, title))
            typer.echo(f"wrote {panel}: {', '.join(result.hands) or 'no hand'} found")
            for hand, predicted in result.hands.items():
                found += 1
                sl = HAND_SLICES[hand]
                valid = sample.joint_valid[sl]
                if valid[WRIST]:
                    truth = sample.joints_cam[sl] - sample.joints_cam[sl][WRIST]
                    errors.append(np.linalg.norm(predicted.joints_3d - truth, axis=1)[valid])
    typer.echo(f"wrote {predictions} ({count} images, {found} hands)")
    if errors:
        mpjpe = float(np.concatenate(errors).mean())
        typer.echo(f"wrist-aligned 3D error against the synthetic ground truth: {mpjpe:.1f} mm")
    typer.echo(f"everything is in {out.resolve()}")


def _ground_truth_panel(dataset: InterHandDataset, count: int, out: Path) -> None:
    """The fallback without weights: skeletons, amodal boxes, masks and HDR targets."""
    import numpy as np

    from handhdr.io import write_image
    from handhdr.visualize import HAND_COLOURS, draw_box, draw_skeleton, grid, label, mask_overlay

    rows = []
    for i in range(count):
        sample = dataset[i]
        assert sample.image is not None and sample.masks is not None
        annotated = sample.image
        for k, hand in enumerate(("right", "left")):
            sl = slice(21 * k, 21 * k + 21)
            if not sample.joint_valid[sl].any():
                continue
            annotated = draw_skeleton(
                annotated, sample.joints_img[sl], sample.joint_valid[sl], HAND_COLOURS[hand]
            )
            ys, xs = np.nonzero(sample.masks[2 * k])
            if xs.size:
                box = (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
                annotated = draw_box(annotated, np.array(box), HAND_COLOURS[hand])
        blank = np.full_like(sample.image, 255)
        rows.append(
            [
                label(annotated, f"{sample.file_name.split('/')[-1]}: joints, amodal boxes"),
                label(mask_overlay(sample.image, sample.masks), "masks (dark: hidden part)"),
                label(sample.hdr_gt.get("right", blank), "right hand alone (HDR target)"),
                label(sample.hdr_gt.get("left", blank), "left hand alone (HDR target)"),
            ]
        )
    panel = out / "demo_panel.png"
    write_image(panel, grid(rows))
    typer.echo(f"wrote {panel} (ground truth)")
