"""HASM weights files and ready-to-use predictors.

A HASM weights file is a safetensors state dict of :class:`~handhdr.hasm.model.HASM`
whose metadata holds the architecture (``model``) and the inference settings
(``inference``), so that ``load_hasm(path)`` needs nothing else. ``"default"`` is the
shipped lite model, ``handhdr/weights/hasm_lite.safetensors``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from handhdr.hasm.inference import HASMPredictor, InferenceSettings
from handhdr.hasm.model import HASM, HASMConfig
from handhdr.training.weights import WeightsError, load_weights, resolve_weights, save_weights

SHIPPED_NAME = "hasm_lite"


def save_hasm(
    model: HASM,
    path: str | os.PathLike[str],
    inference: InferenceSettings,
    extra: dict[str, Any] | None = None,
    dtype: torch.dtype | None = torch.float16,
) -> Path:
    """Write ``model`` with the metadata :func:`load_hasm` needs."""
    metadata = {
        "stage": "hasm",
        "model": model.config.to_dict(),
        "inference": vars(inference).copy(),
        **(extra or {}),
    }
    return save_weights(model, path, metadata, dtype=dtype)


def load_hasm(spec: str | os.PathLike[str] = "default") -> tuple[HASM, InferenceSettings]:
    """The HASM network (eval mode, float32) and inference settings of a weights file
    (``default``, ``.safetensors``) or of a training checkpoint (``.ckpt``)."""
    path = resolve_weights(spec, SHIPPED_NAME)
    if path.suffix == ".ckpt":
        state, meta = _from_checkpoint(path)
    else:
        state, meta = load_weights(path)
    if meta.get("stage") != "hasm" or "model" not in meta:
        raise WeightsError(f"{path}: not HASM weights (metadata stage {meta.get('stage')!r})")
    model = HASM(HASMConfig.from_dict(meta["model"]))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise WeightsError(
            f"{path}: weights do not fit the model in its metadata "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    settings = InferenceSettings.from_dict(meta.get("inference", {}))
    return model.eval(), settings


def _from_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """State dict and weights metadata of the network inside a HASM training checkpoint."""
    from handhdr.hasm.training import weights_metadata
    from handhdr.training.export import load_checkpoint

    ckpt = load_checkpoint(path)
    config = ckpt["hyper_parameters"]["config"]
    if config.get("stage") != "hasm":
        raise WeightsError(f"{path}: a checkpoint of stage {config.get('stage')!r}, not hasm")
    prefix = "model."
    state = {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    return state, weights_metadata(config)


def hasm_predictor(
    weights: str | os.PathLike[str] = "default",
    backend: str = "torch",
    device: str = "cpu",
    threads: int | None = None,
    **overrides: Any,
) -> HASMPredictor:
    """A coarse-to-fine :class:`HASMPredictor` on ``backend`` (``torch`` or ``onnx``).

    ``weights``: ``default``, a ``.safetensors`` file, a training checkpoint ``.ckpt``,
    or (ONNX backend) an exported ``.onnx`` file. ``overrides`` replace inference
    settings (e.g. ``box_scale``).
    """
    from handhdr.hasm.runtime import OnnxRunner, TorchRunner, export_onnx
    from handhdr.onnx_session import onnx_metadata

    if backend not in ("torch", "onnx"):
        raise ValueError(f"backend must be 'torch' or 'onnx', got {backend!r}")
    if backend == "onnx" and str(weights).endswith(".onnx"):
        meta = onnx_metadata(weights)
        settings = InferenceSettings.from_dict({**meta.get("inference", {}), **overrides})
        return HASMPredictor(OnnxRunner(weights, device, threads), settings)
    model, settings = load_hasm(weights)
    settings = InferenceSettings.from_dict({**vars(settings), **overrides})
    if backend == "torch":
        if threads:
            torch.set_num_threads(threads)
        return HASMPredictor(TorchRunner(model, device), settings)
    with tempfile.TemporaryDirectory(prefix="handhdr-hasm-") as folder:
        onnx_path = export_onnx(
            model, Path(folder) / "hasm.onnx", settings.size, {"inference": vars(settings)}
        )
        runner = OnnxRunner(onnx_path, device, threads)  # the session holds the model
    return HASMPredictor(runner, settings)
