"""Backends that run a HASM network on a batch of square crops: PyTorch or ONNX Runtime.

Both take ``(B, S, S, 3)`` RGB uint8 crops and return ``(B, 4, S/4, S/4)`` float32
foreground logits (foreground minus background, MASK_NAMES order); ``> 0`` means a
probability above 0.5. :mod:`handhdr.hasm.inference` talks only to this interface.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn

from handhdr.hasm.model import HASM, foreground_logits
from handhdr.onnx_session import OnnxModel, add_onnx_metadata

STRIDE = 4  # SegFormer logits are at 1/4 of the input resolution


class HASMRunner(Protocol):
    """What inference needs from a backend."""

    stride: int

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """``(B, S, S, 3)`` uint8 -> ``(B, 4, S/4, S/4)`` float32 foreground logits."""
        ...


def _to_input(crops: np.ndarray) -> np.ndarray:
    if crops.ndim != 4 or crops.shape[-1] != 3 or crops.dtype != np.uint8:
        raise ValueError(f"expected (B, S, S, 3) uint8 crops, got {crops.shape} {crops.dtype}")
    return np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255.0)


class ForegroundLogits(nn.Module):
    """HASM with the deployment output: ``(B, 3, H, W)`` in [0, 1] -> ``(B, 4, H/4, W/4)``."""

    def __init__(self, model: HASM) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return foreground_logits(self.model(images))


class TorchRunner:
    """Runs a :class:`HASM` in PyTorch (eval mode, no gradients)."""

    stride = STRIDE

    def __init__(self, model: HASM, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.net = ForegroundLogits(model).to(self.device).eval()

    @torch.inference_mode()
    def __call__(self, crops: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(_to_input(crops)).to(self.device)
        return self.net(x).float().cpu().numpy()


def export_onnx(
    model: HASM, path: str | os.PathLike[str], size: int, metadata: dict | None = None
) -> Path:
    """Export ``model`` to ONNX (legacy TorchScript exporter, opset 17).

    Batch, height and width are dynamic; ``size`` is the example size and, with
    ``metadata``, goes into the file's metadata (key ``handhdr``, JSON).
    """

    from handhdr.io import atomic_path

    net = ForegroundLogits(model).eval().cpu()
    example = torch.rand(1, 3, size, size)
    target = Path(path)
    with atomic_path(target) as tmp, warnings.catch_warnings():
        # shape checks and the stage sizes are constants of the traced graph: expected;
        # the legacy exporter is deprecated, but torch.export cannot trace SegFormer yet
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            net,
            (example,),
            str(tmp),
            dynamo=False,
            opset_version=17,
            input_names=["images"],
            output_names=["foreground_logits"],
            dynamic_axes={
                "images": {0: "batch", 2: "height", 3: "width"},
                "foreground_logits": {0: "batch", 2: "height_4", 3: "width_4"},
            },
        )
        add_onnx_metadata(tmp, {"stage": "hasm", "size": size, **(metadata or {})})
    return target


class OnnxRunner(OnnxModel):
    """Runs an exported HASM with ONNX Runtime."""

    stride = STRIDE

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        (out,) = self.run(_to_input(crops))
        return np.asarray(out, dtype=np.float32)
