"""DetNet weights files and ready-to-use DetNet estimators.

A DetNet weights file is a safetensors state dict of
:class:`~handhdr.shpe.detnet.DetNet` (the ``reference_bone_mm`` buffer included)
whose metadata holds the architecture (``model``), so ``load_detnet(path)`` needs
nothing else. ``"default"`` is the shipped lite model,
``handhdr/weights/shpe_lite.safetensors``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from handhdr.shpe.detnet import DetNet, DetNetConfig
from handhdr.shpe.estimator import DetNetEstimator
from handhdr.training.weights import WeightsError, load_weights, resolve_weights, save_weights

SHIPPED_NAME = "shpe_lite"


def detnet_metadata(model: DetNet) -> dict[str, Any]:
    """What a weights file stores to rebuild ``model``."""
    return {
        "stage": "shpe",
        "estimator": "detnet",
        "model": model.config.to_dict(),
        "reference_bone_mm": float(model.reference_bone_mm),
    }


def save_detnet(
    model: DetNet,
    path: str | os.PathLike[str],
    extra: dict[str, Any] | None = None,
    dtype: torch.dtype | None = torch.float16,
) -> Path:
    """Write ``model`` with the metadata :func:`load_detnet` needs."""
    return save_weights(model, path, {**detnet_metadata(model), **(extra or {})}, dtype=dtype)


def load_detnet(spec: str | os.PathLike[str] = "default") -> DetNet:
    """The DetNet of a weights file (eval mode, float32)."""
    path = resolve_weights(spec, SHIPPED_NAME)
    state, meta = load_weights(path)
    if meta.get("stage") != "shpe" or "model" not in meta:
        raise WeightsError(f"{path}: not SHPE weights (metadata stage {meta.get('stage')!r})")
    try:
        model = DetNet(DetNetConfig.from_dict(meta["model"]))
    except (TypeError, ValueError) as exc:
        raise WeightsError(f"{path}: metadata 'model' is not a DetNet config ({exc})") from exc
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise WeightsError(
            f"{path}: weights do not fit the model in its metadata "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    return model.eval()


def detnet_estimator(
    weights: str | os.PathLike[str] = "default",
    backend: str = "torch",
    device: str = "cpu",
    threads: int | None = None,
    batch_size: int = 16,
    reference_bone_mm: float | None = None,
) -> DetNetEstimator:
    """A :class:`DetNetEstimator` on ``backend`` (``torch`` or ``onnx``).

    ``weights``: ``default``, a ``.safetensors`` file, or (ONNX backend) an exported
    ``.onnx`` file. ``reference_bone_mm`` overrides the prior stored with the weights.
    """
    from handhdr.onnx_session import onnx_metadata
    from handhdr.shpe.runtime import OnnxRunner, TorchRunner, export_onnx

    if backend not in ("torch", "onnx"):
        raise ValueError(f"backend must be 'torch' or 'onnx', got {backend!r}")
    if backend == "torch" and device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("CUDA is not available to PyTorch here; use device cpu")
    if backend == "onnx" and str(weights).endswith(".onnx"):
        meta = onnx_metadata(weights)
        if meta.get("stage") != "shpe":
            raise WeightsError(f"{weights}: not an exported SHPE model (no handhdr metadata)")
        bone = reference_bone_mm or float(meta["reference_bone_mm"])
        runner = OnnxRunner(weights, device, threads)
        return DetNetEstimator(runner, int(meta["input_size"]), bone, batch_size)
    model = load_detnet(weights)
    bone = reference_bone_mm or float(model.reference_bone_mm)
    size = model.config.input_size
    if backend == "torch":
        if threads:
            torch.set_num_threads(threads)
        return DetNetEstimator(TorchRunner(model, device), size, bone, batch_size)
    with tempfile.TemporaryDirectory(prefix="handhdr-shpe-") as folder:
        onnx_path = export_onnx(model, Path(folder) / "detnet.onnx")
        runner = OnnxRunner(onnx_path, device, threads)  # the session holds the model
    return DetNetEstimator(runner, size, bone, batch_size)


__all__ = ["SHIPPED_NAME", "detnet_estimator", "detnet_metadata", "load_detnet", "save_detnet"]
