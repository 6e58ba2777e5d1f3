"""Build the three stage runtimes of the pipeline from weights specs.

A spec is ``"default"`` (the shipped lite weights in ``handhdr/weights/``), a
``.safetensors`` weights file, a training checkpoint ``.ckpt`` (HASM, HDRM), or with
``backend="onnx"`` an exported ``.onnx`` file (``handhdr export``). SHPE also takes
``"mediapipe"`` (optional extra) or any object that follows the single-hand estimator
interface. A missing shipped file is a :class:`MissingWeightsError` that names the
file and the commands that make it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from handhdr.hasm.weights import SHIPPED_NAME as HASM_SHIPPED
from handhdr.hdrm.weights import HDRM, CropSettings
from handhdr.hdrm.weights import SHIPPED_NAME as HDRM_SHIPPED
from handhdr.pipeline.segment import Segmenter
from handhdr.shpe.interface import SingleHandEstimator
from handhdr.shpe.weights import SHIPPED_NAME as SHPE_SHIPPED
from handhdr.training.weights import WeightsError, shipped_weights_path

STAGES: tuple[str, str, str] = ("hasm", "hdrm", "shpe")
SHIPPED_NAMES: dict[str, str] = {"hasm": HASM_SHIPPED, "hdrm": HDRM_SHIPPED, "shpe": SHPE_SHIPPED}
BACKENDS: tuple[str, str] = ("torch", "onnx")
DEVICES: tuple[str, str] = ("cpu", "cuda")

# how each shipped file is made (docs/training.md has the data and the evaluation)
MAKE_SHIPPED: dict[str, str] = {
    "hasm": "handhdr train hasm --config lite --data DATA && handhdr train export "
    "runs/hasm-lite --which best --out src/handhdr/weights/hasm_lite.safetensors",
    "hdrm": "handhdr train hdrm --stage 1 --config lite --data DATA && handhdr train hdrm "
    "--stage 2 --config lite --data DATA && handhdr train export runs/hdrm-lite-stage2 "
    "--out src/handhdr/weights/hdrm_lite.safetensors",
    "shpe": "handhdr train shpe --config lite --data DATA && handhdr train export "
    "runs/shpe-lite --out src/handhdr/weights/shpe_lite.safetensors",
}


class MissingWeightsError(WeightsError):
    """Shipped weights that this installation does not have (yet); ``missing`` maps
    each such stage to the path its file should have."""

    def __init__(self, missing: dict[str, Path]) -> None:
        self.missing = dict(missing)
        lines = [
            f"{path}: the shipped {stage.upper()} weights are not in this installation; "
            f"make them with: {MAKE_SHIPPED[stage]} (docs/training.md), or pass --{stage} PATH"
            for stage, path in self.missing.items()
        ]
        super().__init__("\n".join(lines))


def missing_shipped(specs: dict[str, Any] | None = None) -> dict[str, Path]:
    """The stages whose spec is ``"default"`` (all, without ``specs``) and whose shipped
    file is missing, with the path it should have."""
    specs = specs or dict.fromkeys(STAGES, "default")
    out = {}
    for stage in STAGES:
        if str(specs.get(stage, "default")) == "default":
            path = shipped_weights_path(SHIPPED_NAMES[stage])
            if not path.is_file():
                out[stage] = path
    return out


def check_backend(backend: str, device: str) -> None:
    """A clear ``ValueError`` for an unknown backend or device, or CUDA without one."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if backend == "torch" and device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for, but torch sees no CUDA device; use cpu")


def _resolve(stage: str, spec: str | os.PathLike[str], backend: str) -> str | Path:
    if str(spec) == "default":
        path = shipped_weights_path(SHIPPED_NAMES[stage])
        if not path.is_file():
            raise MissingWeightsError({stage: path})
        return "default"
    path = Path(spec)
    if not path.is_file():
        raise WeightsError(f"{path}: {stage.upper()} weights file not found")
    if path.suffix == ".onnx" and backend != "onnx":
        raise WeightsError(f"{path}: an exported ONNX model runs only with backend 'onnx'")
    return path


def load_segmenter(
    spec: str | os.PathLike[str] = "default",
    backend: str = "torch",
    device: str = "cpu",
    threads: int | None = None,
) -> Segmenter:
    """HASM (coarse to fine, or on given boxes) from a weights spec."""
    from handhdr.hasm.weights import hasm_predictor
    from handhdr.pipeline.segment import HASMSegmenter

    weights = _resolve("hasm", spec, backend)
    return HASMSegmenter(hasm_predictor(weights, backend, device, threads))


class OnnxFileHDRM(HDRM):
    """:class:`HDRM` on an exported HDRNet ``.onnx`` file (``handhdr export``): the same
    call, crop settings from the file's ``handhdr`` metadata (the paper's x2 without)."""

    def __init__(
        self, path: str | os.PathLike[str], device: str = "cpu", threads: int | None = None
    ) -> None:
        from handhdr.hdrm.export import HDRNetOnnx
        from handhdr.onnx_session import onnx_metadata

        meta = onnx_metadata(path)
        if meta and meta.get("stage") != "hdrm":
            raise WeightsError(f"{path}: an exported {meta.get('stage')!r} model, not HDRM")
        self._onnx = HDRNetOnnx(path, threads=threads, device=device)
        self.resolution = self._onnx.resolution
        self.crop = CropSettings(**meta.get("crop", {}))
        self.backend = "onnx"
        self.device = torch.device("cpu")  # inputs and outputs stay numpy


def load_inpainter(
    spec: str | os.PathLike[str] = "default",
    backend: str = "torch",
    device: str = "cpu",
    threads: int | None = None,
) -> HDRM:
    """HDRM (HDRNet on uint8 crops) from a weights spec."""
    from handhdr.hdrm.weights import hdrm_inpainter

    weights = _resolve("hdrm", spec, backend)
    if isinstance(weights, Path) and weights.suffix == ".onnx":
        return OnnxFileHDRM(weights, device, threads)
    return hdrm_inpainter(weights, backend, device, threads)


def load_pose_estimator(
    spec: Any = "default",
    backend: str = "torch",
    device: str = "cpu",
    threads: int | None = None,
    reference_bone_mm: float | None = None,
) -> SingleHandEstimator:
    """SHPE from a weights spec, ``"mediapipe"``, or an estimator object (returned as is)."""
    if not isinstance(spec, (str, os.PathLike)):
        if not isinstance(spec, SingleHandEstimator):
            raise TypeError(
                f"shpe must be a weights spec or a single-hand estimator, got {type(spec).__name__}"
            )
        return spec
    if str(spec) == "mediapipe":
        from handhdr.shpe.estimators import load_estimator

        return load_estimator("mediapipe")
    from handhdr.shpe.weights import detnet_estimator

    weights = _resolve("shpe", spec, backend)
    return detnet_estimator(weights, backend, device, threads, reference_bone_mm=reference_bone_mm)


__all__ = [
    "BACKENDS",
    "DEVICES",
    "MAKE_SHIPPED",
    "STAGES",
    "MissingWeightsError",
    "OnnxFileHDRM",
    "check_backend",
    "load_inpainter",
    "load_pose_estimator",
    "load_segmenter",
    "missing_shipped",
]
