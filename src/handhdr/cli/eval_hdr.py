"""``handhdr eval-hdr``: de-occlusion and removal quality of HDRM against Telea inpainting."""

from __future__ import annotations

from typing import Annotated

import typer

from handhdr.cli import options as opt
from handhdr.cli.app import app, fail


@app.command("eval-hdr")
def eval_hdr(
    root: opt.RootOption,
    out: opt.OutOption,
    split: opt.SplitOption = "test",
    weights: Annotated[
        str,
        typer.Option(
            "--weights", help="default (shipped lite HDRM), a .safetensors file or a .ckpt."
        ),
    ] = "default",
    backend: opt.BackendOption = opt.Backend.torch,
    device: opt.DeviceOption = opt.Device.cpu,
    threads: opt.ThreadsOption = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Crops per batch.")] = 16,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Evaluate only the first N interacting images.")
    ] = None,
) -> None:
    """Score HDRNet and OpenCV Telea on both hands of every interacting-hand image.

    Ground-truth masks, crops at the module resolution, PSNR / SSIM / L1 inside the
    undilated de-occlusion (M_D) and removal (M_R) regions; writes OUT/metrics.json.
    """
    import time

    from tqdm import tqdm

    from handhdr.datasets.interhand import InterHandDataset
    from handhdr.datasets.interhand_format import DatasetFormatError
    from handhdr.hdrm.evaluate import evaluate_hdr, telea_inpaint
    from handhdr.hdrm.weights import hdrm_inpainter
    from handhdr.io import atomic_write_json
    from handhdr.training.weights import WeightsError

    try:
        model = hdrm_inpainter(weights, backend=backend.value, device=device.value, threads=threads)
        dataset = InterHandDataset(root, split=split, subset="IH", load_hdr_gt=True)
    except (WeightsError, DatasetFormatError, FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from exc
    count = len(dataset) if limit is None else min(limit, len(dataset))
    samples = (dataset[i] for i in tqdm(range(count), desc="eval-hdr", unit="img"))
    start = time.perf_counter()
    try:
        metrics = evaluate_hdr(
            samples,
            {"hdrnet": model, "telea": telea_inpaint},
            resolution=model.resolution,
            scale=model.crop.scale,
            batch_size=batch_size,
        )
    except (DatasetFormatError, ValueError) as exc:
        raise fail(str(exc)) from exc
    metrics["protocol"] = {
        "root": str(root),
        "split": split,
        "weights": weights,
        "backend": backend.value,
        "resolution": model.resolution,
        "crop_scale": model.crop.scale,
        "masks": "ground truth",
        "regions": "undilated M_D (deocclusion) and M_R (removal) of eq. (2), on the crop",
        "baseline": "cv2.inpaint(crop, M_D | M_R, 5, cv2.INPAINT_TELEA)",
        "seconds": round(time.perf_counter() - start, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "metrics.json", metrics)
    for name in ("hdrnet", "telea"):
        for region in ("deocclusion", "removal"):
            r = metrics[name][region]
            scores = ", ".join(
                f"{k} {r[k]:.3f}" if r[k] is not None else f"{k} n/a"
                for k in ("psnr", "ssim", "l1")
            )
            typer.echo(f"{name:7s} {region:12s} {scores}")
    typer.echo(f"{metrics['counts']['hands']} hands of {metrics['counts']['images']} images")
    typer.echo(f"wrote {out / 'metrics.json'}")
