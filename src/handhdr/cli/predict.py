"""``handhdr predict``: the HDR pipeline on an image, a folder of images or a video."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from handhdr.cli.app import app, fail

WeightsOption = Annotated[str, typer.Option(help="default (shipped lite), a file, or .onnx.")]


def parse_variants(values: list[str] | None) -> dict[str, str]:
    """``NAME=PATH`` options -> ``{name: path}``; a clear ``ValueError`` otherwise."""
    out: dict[str, str] = {}
    for value in values or []:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--hdrm-variant expects NAME=PATH, got {value!r}")
        out[name] = path
    return out


@app.command()
def predict(
    input: Annotated[Path, typer.Argument(help="An image, a folder (recursive) or a video.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for predictions.jsonl (and vis/).")],
    backend: Annotated[str, typer.Option(help="torch or onnx.")] = "torch",
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    threads: Annotated[int | None, typer.Option(help="Inference threads.")] = None,
    hasm: WeightsOption = "default",
    hdrm: WeightsOption = "default",
    shpe: Annotated[
        str, typer.Option(help="default, a DetNet file (.safetensors/.onnx) or mediapipe.")
    ] = "default",
    ablation: Annotated[
        list[str] | None,
        typer.Option(
            help="hdr (default), shpe_only, no_removal, no_deocclusion or a --hdrm-variant "
            "name; repeat for several (then one OUT/<ablation>/ folder each)."
        ),
    ] = None,
    hdrm_variant: Annotated[
        list[str] | None,
        typer.Option(help="NAME=PATH: other HDRNet weights, run as ablation NAME."),
    ] = None,
    reference_bone_mm: Annotated[
        float | None, typer.Option(help="Override SHPE's prior wrist-to-middle-MCP length.")
    ] = None,
    visualize: Annotated[
        bool, typer.Option(help="Also write a picture per image under vis/.")
    ] = False,
    resume: Annotated[
        bool, typer.Option(help="Keep the lines of an earlier (interrupted) run, predict the rest.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Predict both hands of every image: 2D and 3D joints, visibility, box, score.

    Writes OUT/predictions.jsonl (the predictions file of docs/predictions.md), one
    line per readable image ("hands": {} when no hand was found). file_name is the
    path relative to INPUT for a folder, "<video>/<frame index>" for a video. The
    file appears when the run ends; --resume continues an interrupted run. A file
    that cannot be read is reported and skipped; the exit code is 1 only when no
    image could be read.
    """
    from tqdm import tqdm

    from handhdr.evaluation.predictions import PredictionsError, PredictionsWriter
    from handhdr.io import atomic_write_json, write_image
    from handhdr.pipeline import HDRPipeline
    from handhdr.pipeline.panel import quick_panel
    from handhdr.pipeline.sources import frame_count, iter_frames, list_sources
    from handhdr.training.weights import WeightsError

    ablations = tuple(dict.fromkeys(ablation or ["hdr"]))
    try:
        variants = parse_variants(hdrm_variant)
        sources = list_sources(input, exclude=out)
        pipe = HDRPipeline.load(
            hasm, hdrm, shpe, backend=backend, device=device, threads=threads,
            hdrm_variants=variants, reference_bone_mm=reference_bone_mm,
        )  # fmt: skip
        unknown = [name for name in ablations if name not in pipe.ablations]
        if unknown:
            raise ValueError(f"unknown ablation {unknown[0]!r}; expected one of {pipe.ablations}")
    except (WeightsError, FileNotFoundError, ImportError, ValueError, TypeError) as exc:
        raise fail(str(exc)) from exc
    if not sources:
        raise fail(f"{input}: no images or videos found (looked for image and video suffixes)")

    folders = {name: out if len(ablations) == 1 else out / name for name in ablations}
    writers = {n: PredictionsWriter(folders[n] / "predictions.jsonl", resume) for n in ablations}
    read = failed = 0
    hands_found = dict.fromkeys(("0", "1", "2"), 0)
    totals = {"hasm": 0.0, "hdrm": 0.0, "shpe": 0.0, "total": 0.0}
    with contextlib.ExitStack() as stack:
        try:
            for writer in writers.values():
                stack.enter_context(writer)
        except PredictionsError as exc:  # --resume from a file that is not ours
            raise fail(str(exc)) from None
        done = set.intersection(*(w.done for w in writers.values()))
        bar = tqdm(
            total=sum(frame_count(s) for s in sources) or None,
            unit="img",
            disable=not progress,
            leave=False,
        )
        try:
            for source in sources:
                for frame in iter_frames(source, skip=done):
                    bar.update(1)
                    if frame.error is not None:
                        failed += 1
                        bar.write(f"skipped {frame.name}: {frame.error}")
                        continue
                    read += 1
                    if frame.image is None:  # done in an earlier run
                        continue
                    results = pipe.predict(frame.image, ablations=ablations)
                    for key in totals:
                        totals[key] += pipe.timings[key]
                    for name, result in results.items():
                        if frame.name in writers[name].done:
                            continue
                        writers[name].write(result.to_image_prediction(frame.name))
                        if visualize:
                            picture = quick_panel(frame.image, result, frame.name)
                            write_image(folders[name] / "vis" / f"{frame.name}.png", picture)
                    hands_found[str(len(results[ablations[0]].hands))] += 1
        except KeyboardInterrupt:
            typer.echo(
                "interrupted: the lines so far are kept (predictions.jsonl.partial); "
                "run the same command with --resume to continue",
                err=True,
            )
            raise
        finally:
            bar.close()
        if read == 0:  # leaves any earlier predictions file as it was
            raise fail(f"no image could be read from {input} ({failed} unreadable)", code=1)
    predicted = sum(hands_found.values())
    summary = {
        "input": str(input),
        "ablations": list(ablations),
        "pipeline": pipe.info,
        "images": {"read": read, "predicted_now": predicted, "unreadable": failed},
        "images_by_hands_found": hands_found,
        "mean_ms": {k: (v / predicted if predicted else None) for k, v in totals.items()},
    }
    atomic_write_json(out / "predict.json", summary)
    for writer in writers.values():
        kept = f", {writer.kept} from an earlier run" if writer.kept else ""
        typer.echo(f"wrote {writer.path} ({len(writer)} images{kept})")
    if visualize:
        typer.echo(f"pictures under {out}/{'' if len(ablations) == 1 else '<ablation>/'}vis/")
    typer.echo(
        f"{read} images read, {failed} unreadable; hands found per image: "
        + ", ".join(f"{k}: {v}" for k, v in hands_found.items())
    )
