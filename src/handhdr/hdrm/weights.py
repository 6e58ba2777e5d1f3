"""HDRNet weights files and a ready-to-use HDRM on uint8 crops (torch or ONNX Runtime).

A HDRM weights file is a safetensors state dict of :class:`HDRNet` whose metadata
holds the architecture (``model``) and the crop settings (``crop``: ``scale``), so
``load_hdrnet(path)`` needs nothing else. ``"default"`` is the shipped lite model,
``handhdr/weights/hdrm_lite.safetensors``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from handhdr.hdrm.network import HDRNet, HDRNetConfig
from handhdr.training.weights import WeightsError, load_weights, resolve_weights, save_weights

SHIPPED_NAME = "hdrm_lite"


@dataclass(frozen=True)
class CropSettings:
    """How the pipeline cuts HDRM crops (stored with the weights)."""

    scale: float = 2.0  # box side = scale x the amodal mask's longer side


def save_hdrnet(
    net: HDRNet,
    path: str | os.PathLike[str],
    crop: CropSettings | None = None,
    extra: dict[str, Any] | None = None,
    dtype: torch.dtype | None = torch.float16,
) -> Path:
    """Write ``net`` with the metadata :func:`load_hdrnet` needs."""
    metadata = {
        "stage": "hdrm",
        "model": net.config.to_dict(),
        "crop": vars(crop or CropSettings()).copy(),
        **(extra or {}),
    }
    return save_weights(net, path, metadata, dtype=dtype)


def load_hdrnet(spec: str | os.PathLike[str] = "default") -> tuple[HDRNet, CropSettings]:
    """The HDRNet (eval mode, float32) and crop settings of a weights file (``default``,
    ``.safetensors``) or of a HDRM training checkpoint (``.ckpt``)."""
    path = resolve_weights(spec, SHIPPED_NAME)
    if path.suffix == ".ckpt":
        return _from_checkpoint(path)
    state, meta = load_weights(path)
    if meta.get("stage") != "hdrm" or "model" not in meta:
        raise WeightsError(f"{path}: not HDRM weights (metadata stage {meta.get('stage')!r})")
    net = _build(path, HDRNetConfig.from_dict(meta["model"]), state)
    return net, CropSettings(**meta.get("crop", {}))


def _from_checkpoint(path: Path) -> tuple[HDRNet, CropSettings]:
    from handhdr.training.export import load_checkpoint

    try:
        ckpt = load_checkpoint(path)
    except ValueError as exc:
        raise WeightsError(str(exc)) from exc
    config = ckpt["hyper_parameters"]["config"]
    if config.get("stage") != "hdrm":
        raise WeightsError(f"{path}: a {config.get('stage')!r} checkpoint, not HDRM")
    model = {k: v for k, v in config["model"].items() if k != "pretrained"}
    prefix = "generator."
    state = {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    net = _build(path, HDRNetConfig.from_dict(model), state)
    return net, CropSettings(scale=float(config["crop"]["scale"]))


def _build(path: Path, config: HDRNetConfig, state: dict[str, torch.Tensor]) -> HDRNet:
    net = HDRNet(config)
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise WeightsError(
            f"{path}: weights do not fit the model in its metadata "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    return net.eval()


class HDRM:
    """HDRNet on batches of uint8 crops: ``(B, R, R, 3)`` images and ``(B, 4, R, R)``
    masks (target amodal, target visible, distractor amodal, distractor visible) ->
    ``(B, R, R, 3)`` uint8 composites. ``switches`` ``(B, 2)`` or ``(2,)``: [de-occlusion,
    removal], 1 = on."""

    def __init__(
        self,
        net: HDRNet,
        crop: CropSettings | None = None,
        backend: str = "torch",
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        if backend not in ("torch", "onnx"):
            raise ValueError(f"backend must be 'torch' or 'onnx', got {backend!r}")
        if device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' asked for, but torch sees no CUDA device")
        self.resolution = net.config.resolution
        self.crop = crop or CropSettings()
        self.backend = backend
        self.device = torch.device(device)
        self._onnx = None
        if backend == "torch":
            if threads:
                torch.set_num_threads(threads)
            self.net = net.eval().to(self.device)
        else:
            from handhdr.hdrm.export import HDRNetOnnx, export_onnx

            with tempfile.TemporaryDirectory(prefix="handhdr-hdrm-") as folder:
                path = export_onnx(net, Path(folder) / "hdrnet.onnx")
                self._onnx = HDRNetOnnx(path, threads=threads, device=device)

    def __call__(
        self, images: np.ndarray, masks: np.ndarray, switches: np.ndarray | None = None
    ) -> np.ndarray:
        images = np.asarray(images)
        r = self.resolution
        if images.ndim != 4 or images.shape[1:] != (r, r, 3) or images.dtype != np.uint8:
            raise ValueError(
                f"expected (B, {r}, {r}, 3) uint8 crops, got {images.shape} {images.dtype}"
            )
        if masks.shape != (images.shape[0], 4, r, r):
            raise ValueError(f"expected (B, 4, {r}, {r}) masks, got {masks.shape}")
        if images.shape[0] == 0:
            return images.copy()
        x = images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
        m = np.asarray(masks, dtype=np.float32)
        s = None
        if switches is not None:
            s = np.broadcast_to(np.asarray(switches, np.float32), (images.shape[0], 2)).copy()
        if self._onnx is not None:
            out = self._onnx(x, m, s)
        else:
            with torch.no_grad():
                result = self.net(
                    torch.from_numpy(x).to(self.device),
                    torch.from_numpy(m).to(self.device),
                    None
                    if s is None
                    else torch.from_numpy(np.ascontiguousarray(s)).to(self.device),
                )
            out = result.composite.cpu().numpy()
        composite = np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(composite.transpose(0, 2, 3, 1))


def hdrm_inpainter(
    weights: str | os.PathLike[str] = "default",
    backend: str = "torch",
    device: str = "cpu",
    threads: int | None = None,
) -> HDRM:
    """:class:`HDRM` from a weights file or checkpoint (``default``: the shipped lite
    weights)."""
    net, crop = load_hdrnet(weights)
    return HDRM(net, crop, backend=backend, device=device, threads=threads)
