"""Backends that run DetNet with its readout: PyTorch or ONNX Runtime.

Both take ``(B, 3, S, S)`` float32 crops in ``[0, 1]`` at the network's input size
and return ``joints_2d (B, 21, 2)`` crop pixels, ``joints_3d (B, 21, 3)`` in
reference-bone units (wrist-relative as the location maps are) and ``peak (B, 21)``
heatmap maxima, as numpy float32. The readout (argmax and gather) is part of the
exported graph, so ONNX Runtime returns joints, not maps.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn

from handhdr.onnx_session import OnnxModel, add_onnx_metadata
from handhdr.shpe.detnet import DetNet
from handhdr.shpe.targets import readout

Outputs = tuple[np.ndarray, np.ndarray, np.ndarray]


class DetNetRunner(Protocol):
    """What :class:`~handhdr.shpe.estimator.DetNetEstimator` needs from a backend."""

    def __call__(self, images: np.ndarray) -> Outputs:
        """``(B, 3, S, S)`` float32 in [0, 1] -> (joints_2d, joints_3d units, peak)."""
        ...


class DetNetWithReadout(nn.Module):
    """DetNet followed by its readout: the deployed network."""

    def __init__(self, model: DetNet) -> None:
        super().__init__()
        self.model = model
        self.stride = model.config.stride

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        heatmaps, _, location = self.model(images)
        return readout(heatmaps, location, self.stride)


class TorchRunner:
    """Runs DetNet with its readout in PyTorch (eval mode, no gradients)."""

    def __init__(self, model: DetNet, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.net = DetNetWithReadout(model).to(self.device).eval()

    @torch.inference_mode()
    def __call__(self, images: np.ndarray) -> Outputs:
        x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).to(self.device)
        uv, xyz, peak = self.net(x)
        return tuple(t.float().cpu().numpy() for t in (uv, xyz, peak))  # type: ignore[return-value]


def export_onnx(model: DetNet, path: str | os.PathLike[str], metadata: dict | None = None) -> Path:
    """Export DetNet with its readout to ONNX (legacy TorchScript exporter, opset 17).

    The batch is dynamic, the crop size is the model's ``input_size``. ``metadata``
    (plus the stage, input size and reference bone) goes into the file's metadata,
    key ``handhdr``, JSON.
    """

    from handhdr.io import atomic_path

    net = DetNetWithReadout(model).eval().cpu()
    size = model.config.input_size
    example = torch.rand(1, 3, size, size)
    target = Path(path)
    info = {
        "stage": "shpe",
        "estimator": "detnet",
        "input_size": size,
        "reference_bone_mm": float(model.reference_bone_mm),
        **(metadata or {}),
    }
    with atomic_path(target) as tmp, warnings.catch_warnings():
        # the legacy exporter (as HASM's) announces its deprecation on every call
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            net,
            (example,),
            str(tmp),
            dynamo=False,
            opset_version=17,
            input_names=["images"],
            output_names=["joints_2d", "joints_3d", "peak"],
            dynamic_axes={
                "images": {0: "batch"},
                "joints_2d": {0: "batch"},
                "joints_3d": {0: "batch"},
                "peak": {0: "batch"},
            },
        )
        add_onnx_metadata(tmp, info)
    return target


class OnnxRunner(OnnxModel):
    """Runs an exported DetNet (with readout) in ONNX Runtime."""

    def __call__(self, images: np.ndarray) -> Outputs:
        uv, xyz, peak = self.run(np.ascontiguousarray(images, dtype=np.float32))
        return (
            np.asarray(uv, np.float32),
            np.asarray(xyz, np.float32),
            np.asarray(peak, np.float32),
        )


__all__ = [
    "DetNetRunner",
    "DetNetWithReadout",
    "OnnxRunner",
    "TorchRunner",
    "export_onnx",
]
