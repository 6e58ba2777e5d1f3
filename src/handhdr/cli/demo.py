"""``handhdr demo``: the main command; runs with no arguments on the shipped defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handhdr.cli.app import app

DEMO_SEED = 7  # fixed: the demo shows the same scenes on every machine
DEMO_SIZE = (512, 334)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for everything the demo writes.")] = Path(
        "handhdr-demo"
    ),
    num: Annotated[int, typer.Option(min=1, max=16, help="Interacting-hand images.")] = 4,
) -> None:
    """Make synthetic interacting-hand images and show the HDR ground truth for them.

    The demo renders two-hand scenes with the synthetic data engine, reads them back
    through the InterHand2.6M reader, and draws a panel per image: the image with
    2D skeletons and boxes, the amodal/visible masks, and each hand's
    de-occlusion/removal target. The learned stages (HASM, HDRM, SHPE) have no
    shipped weights yet, so no predictions are made; the demo says so.
    """
    import numpy as np

    from handhdr.datasets.interhand import InterHandDataset
    from handhdr.io import write_image
    from handhdr.synth import SynthConfig, generate
    from handhdr.visualize import HAND_COLOURS, draw_box, draw_skeleton, grid, label, mask_overlay

    data_root = out / "data"
    config = SynthConfig(
        split="test", seed=DEMO_SEED, width=DEMO_SIZE[0], height=DEMO_SIZE[1],
        mix={"sh": 0.0, "ih": 1.0},
    )  # fmt: skip
    typer.echo(f"rendering {num} synthetic interacting-hand images into {data_root} ...")
    generate(data_root, config, num, progress=False)
    dataset = InterHandDataset(data_root, split="test")
    rows = []
    for i in range(min(num, len(dataset))):
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
    typer.echo(f"wrote {panel}")
    typer.echo(
        "note: this is the ground truth of the synthetic data engine. The pipeline "
        "(HASM -> HDRM -> SHPE) has no shipped weights yet, so no predictions were made."
    )
