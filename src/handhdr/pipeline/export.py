"""Export the three stages to ONNX for ``handhdr predict --backend onnx`` and deployment.

Each stage goes through its own exporter (the files the ONNX backends of the stages
already run) and carries the ``handhdr`` metadata its loader needs: HASM its
inference settings, HDRNet its crop settings, DetNet its input size and prior
reference bone. ``manifest.json`` lists the files with their source weights,
SHA-256, inputs and outputs, and the command that runs them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from handhdr.io import file_sha256
from handhdr.pipeline.loading import MissingWeightsError, missing_shipped

MANIFEST_NAME = "manifest.json"
FILE_NAMES: dict[str, str] = {"hasm": "hasm.onnx", "hdrm": "hdrm.onnx", "shpe": "shpe.onnx"}
SIDE_FILE = "hasm_side.onnx"  # the side classifier of a side-invariant HASM


def _io(path: Path) -> dict[str, Any]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)

    def describe(values: Any) -> dict[str, list[Any]]:
        out = {}
        for value in values:
            dims = value.type.tensor_type.shape.dim
            out[value.name] = [d.dim_param or d.dim_value for d in dims]
        return out

    return {"inputs": describe(model.graph.input), "outputs": describe(model.graph.output)}


def _check(spec: str | os.PathLike[str], stage: str) -> None:
    if str(spec) == "default":
        missing = missing_shipped({stage: "default"})
        if missing:
            raise MissingWeightsError(missing)
    elif str(spec).endswith(".onnx"):
        raise ValueError(f"{spec}: already an ONNX file; export takes .safetensors or .ckpt")


def export_hasm(spec: str | os.PathLike[str], path: Path) -> Path:
    """HASM (foreground logits) with its inference settings in the metadata; a
    side-invariant HASM's side classifier goes beside it (``SIDE_FILE``), named in
    that metadata."""
    from handhdr.hasm.runtime import export_onnx
    from handhdr.hasm.side import export_side_onnx
    from handhdr.hasm.weights import SIDE_ONNX_KEY, load_hasm, load_hasm_sides

    _check(spec, "hasm")
    model, settings = load_hasm(spec)
    info: dict[str, Any] = {"inference": vars(settings)}
    if settings.side_invariant:
        net, crop = load_hasm_sides(spec)
        export_side_onnx(net, path.with_name(SIDE_FILE), crop)
        info[SIDE_ONNX_KEY] = SIDE_FILE
    return export_onnx(model, path, settings.size, info)


def export_hdrm(spec: str | os.PathLike[str], path: Path) -> Path:
    """HDRNet (mask algebra, UNet, composite) with its crop settings in the metadata."""
    from handhdr.hdrm.export import export_onnx
    from handhdr.hdrm.weights import load_hdrnet
    from handhdr.io import atomic_path
    from handhdr.onnx_session import add_onnx_metadata

    _check(spec, "hdrm")
    net, crop = load_hdrnet(spec)
    info = {"stage": "hdrm", "resolution": net.config.resolution, "crop": vars(crop)}
    with atomic_path(path) as tmp:
        export_onnx(net, tmp)
        add_onnx_metadata(tmp, info)
    return path


def export_shpe(spec: str | os.PathLike[str], path: Path) -> Path:
    """DetNet with its readout, input size and prior reference bone in the metadata."""
    from handhdr.shpe.runtime import export_onnx
    from handhdr.shpe.weights import load_detnet

    _check(spec, "shpe")
    return export_onnx(load_detnet(spec), path)


def export_pipeline(
    out: str | os.PathLike[str],
    hasm: str | os.PathLike[str] = "default",
    hdrm: str | os.PathLike[str] = "default",
    shpe: str | os.PathLike[str] = "default",
    hdrm_variants: Mapping[str, str | os.PathLike[str]] | None = None,
) -> dict[str, Any]:
    """Write ``hasm.onnx``, ``hdrm.onnx``, ``shpe.onnx`` (and ``hdrm_<name>.onnx`` per
    variant) and ``manifest.json`` into ``out``; returns the manifest."""
    import onnx
    import onnxruntime

    import handhdr
    from handhdr.hasm.weights import SIDE_ONNX_KEY
    from handhdr.io import atomic_write_json
    from handhdr.onnx_session import onnx_metadata

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    missing = missing_shipped({"hasm": str(hasm), "hdrm": str(hdrm), "shpe": str(shpe)})
    if missing:  # all at once, before minutes of exporting
        raise MissingWeightsError(missing)
    jobs: list[tuple[str, Any, str | os.PathLike[str], str]] = [
        ("hasm", export_hasm, hasm, FILE_NAMES["hasm"]),
        ("hdrm", export_hdrm, hdrm, FILE_NAMES["hdrm"]),
        ("shpe", export_shpe, shpe, FILE_NAMES["shpe"]),
    ]
    for name, spec in (hdrm_variants or {}).items():
        jobs.append((f"hdrm:{name}", export_hdrm, spec, f"hdrm_{name}.onnx"))
    stages: dict[str, Any] = {}
    for key, exporter, spec, file_name in jobs:
        path = exporter(spec, folder / file_name)
        stages[key] = {
            "file": file_name,
            "weights": str(spec),
            "sha256": file_sha256(path),
            "bytes": path.stat().st_size,
            **_io(path),
        }
        side = folder / SIDE_FILE
        if key == "hasm" and onnx_metadata(path).get(SIDE_ONNX_KEY) == SIDE_FILE:
            stages[key]["side_classifier"] = {
                "file": SIDE_FILE,
                "sha256": file_sha256(side),
                "bytes": side.stat().st_size,
                **_io(side),
            }
    files = {k: f"{folder}/{v['file']}" for k, v in stages.items() if ":" not in k}
    command = (
        f"handhdr predict INPUT --out OUT --backend onnx --hasm {files['hasm']} "
        f"--hdrm {files['hdrm']} --shpe {files['shpe']}"
    )
    manifest = {
        "format": "handhdr-onnx-pipeline",
        "version": 1,
        "handhdr": getattr(handhdr, "__version__", "unknown"),
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "stages": stages,
        "run": command,
    }
    atomic_write_json(folder / MANIFEST_NAME, manifest)
    return manifest


__all__ = [
    "FILE_NAMES",
    "SIDE_FILE",
    "MANIFEST_NAME",
    "export_hasm",
    "export_hdrm",
    "export_pipeline",
    "export_shpe",
]
