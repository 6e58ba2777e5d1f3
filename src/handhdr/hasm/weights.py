"""HASM weights files and ready-to-use predictors.

A HASM weights file is a safetensors state dict of :class:`~handhdr.hasm.model.HASM`
whose metadata holds the architecture (``model``) and the inference settings
(``inference``), so that ``load_hasm(path)`` needs nothing else. ``"default"`` is the
shipped lite model, ``handhdr/weights/hasm_lite.safetensors``.

Weights trained side-invariantly (``inference.side_invariant``) carry their side
classifier (:mod:`handhdr.hasm.side`) in the same file: its tensors under ``side.``
and its architecture and crop settings under the metadata key ``side``
(:func:`attach_sides`), so that one file is still one HASM everywhere a HASM spec is
taken.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from handhdr.hasm.inference import HASMPredictor, InferenceSettings
from handhdr.hasm.model import HASM, HASMConfig
from handhdr.hasm.side import (
    SideCropSettings,
    SideNet,
    SideNetConfig,
    load_side,
    onnx_side_classifier,
    side_classifier,
)
from handhdr.training.weights import (
    WeightsError,
    load_weights,
    resolve_weights,
    save_weights,
    state_from_checkpoint,
)

SHIPPED_NAME = "hasm_lite"
SIDE_PREFIX = "side."
SIDE_ONNX_KEY = "side_file"  # ONNX metadata: the exported side classifier beside hasm.onnx


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


def _read(spec: str | os.PathLike[str]) -> tuple[Path, dict[str, torch.Tensor], dict[str, Any]]:
    path = resolve_weights(spec, SHIPPED_NAME)
    if path.suffix == ".ckpt":
        state, meta = _from_checkpoint(path)
    else:
        state, meta = load_weights(path)
    if meta.get("stage") != "hasm" or "model" not in meta:
        raise WeightsError(f"{path}: not HASM weights (metadata stage {meta.get('stage')!r})")
    return path, state, meta


def load_hasm(spec: str | os.PathLike[str] = "default") -> tuple[HASM, InferenceSettings]:
    """The HASM network (eval mode, float32) and inference settings of a weights file
    (``default``, ``.safetensors``) or of a training checkpoint (``.ckpt``)."""
    path, state, meta = _read(spec)
    state = {k: v for k, v in state.items() if not k.startswith(SIDE_PREFIX)}
    model = HASM(HASMConfig.from_dict(meta["model"]))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise WeightsError(
            f"{path}: weights do not fit the model in its metadata "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    settings = InferenceSettings.from_dict(meta.get("inference", {}))
    return model.eval(), settings


def load_hasm_sides(spec: str | os.PathLike[str] = "default") -> tuple[SideNet, SideCropSettings]:
    """The side classifier carried by side-invariant HASM weights; a ``WeightsError``
    naming the file when it carries none."""
    path, state, meta = _read(spec)
    if "side" not in meta:
        raise WeightsError(
            f"{path}: no side classifier in these HASM weights (metadata key 'side'); "
            "attach one with handhdr train export RUN --sides SIDE.safetensors"
        )
    net = SideNet(SideNetConfig.from_dict(meta["side"]["model"]))
    n = len(SIDE_PREFIX)
    side_state = {k[n:]: v for k, v in state.items() if k.startswith(SIDE_PREFIX)}
    missing, unexpected = net.load_state_dict(side_state, strict=False)
    if missing or unexpected:
        raise WeightsError(
            f"{path}: the side classifier's tensors do not fit its metadata "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    return net.eval(), SideCropSettings.from_dict(meta["side"].get("crop", {}))


def attach_sides(
    hasm: str | os.PathLike[str],
    sides: str | os.PathLike[str],
    out: str | os.PathLike[str],
    dtype: torch.dtype | None = torch.float16,
) -> Path:
    """Write ``out``: the side-invariant HASM weights ``hasm`` with the side classifier
    ``sides`` (weights or a ``side`` checkpoint) inside, floating tensors as ``dtype``
    (None: float32)."""
    path, state, meta = _read(hasm)
    if not meta.get("inference", {}).get("side_invariant", False):
        raise WeightsError(
            f"{path}: these HASM weights tell right from left themselves "
            "(inference.side_invariant is false); a side classifier would override them"
        )
    net, crop = load_side(sides)
    hasm_state = {k: v for k, v in state.items() if not k.startswith(SIDE_PREFIX)}
    side_state = {SIDE_PREFIX + k: v for k, v in net.state_dict().items()}
    side_meta = {"model": net.config.to_dict(), "crop": vars(crop), "source": str(sides)}
    metadata = {**meta, "side": side_meta}
    return save_weights({**hasm_state, **side_state}, out, metadata, dtype=dtype)


def _from_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """State dict and weights metadata of the network inside a HASM training checkpoint."""
    from handhdr.hasm.training import weights_metadata

    state, config = state_from_checkpoint(path, "hasm", "model.")
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
        sides = None
        if settings.side_invariant:
            if SIDE_ONNX_KEY not in meta:
                raise WeightsError(
                    f"{weights}: a side-invariant HASM exported without its side classifier "
                    f"(no {SIDE_ONNX_KEY!r} in its metadata); export it again with handhdr export"
                )
            side_path = Path(weights).with_name(str(meta[SIDE_ONNX_KEY]))
            if not side_path.is_file():
                raise WeightsError(f"{side_path}: the side classifier of {weights} is missing")
            sides = onnx_side_classifier(side_path, device, threads)
        return HASMPredictor(OnnxRunner(weights, device, threads), settings, sides)
    model, settings = load_hasm(weights)
    settings = InferenceSettings.from_dict({**vars(settings), **overrides})
    sides = None
    if settings.side_invariant:
        net, crop = load_hasm_sides(weights)
        sides = side_classifier(net, crop, backend, device, threads)
    if backend == "torch":
        if threads:
            torch.set_num_threads(threads)
        return HASMPredictor(TorchRunner(model, device), settings, sides)
    with tempfile.TemporaryDirectory(prefix="handhdr-hasm-") as folder:
        onnx_path = export_onnx(
            model, Path(folder) / "hasm.onnx", settings.size, {"inference": vars(settings)}
        )
        runner = OnnxRunner(onnx_path, device, threads)  # the session holds the model
    return HASMPredictor(runner, settings, sides)
