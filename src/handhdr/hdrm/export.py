"""HDRNet in ONNX: export, and an ONNX Runtime runner with the torch model's interface.

The exported graph holds the whole of :meth:`HDRNet.forward` (mask algebra, UNet,
composite): inputs ``image`` ``(B, 3, R, R)`` float32 in [0, 1], ``masks`` ``(B, 4,
R, R)`` float32 (target amodal, target visible, distractor amodal, distractor
visible) and ``switches`` ``(B, 2)`` float32 ([de-occlusion, removal], 1 = on);
output ``composite`` ``(B, 3, R, R)``. The batch size is dynamic.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from handhdr.hdrm.network import HDRNet
from handhdr.io import atomic_path
from handhdr.onnx_session import onnx_session

INPUT_NAMES = ("image", "masks", "switches")
OUTPUT_NAMES = ("composite",)


class _CompositeOnly(nn.Module):
    def __init__(self, net: HDRNet) -> None:
        super().__init__()
        self.net = net

    def forward(
        self, image: torch.Tensor, masks: torch.Tensor, switches: torch.Tensor
    ) -> torch.Tensor:
        return self.net(image, masks, switches).composite


def export_onnx(
    net: HDRNet, path: str | os.PathLike[str], opset: int = 18, dynamo: bool = False
) -> Path:
    """Write ``net`` (in eval mode, on CPU) as an ONNX file at ``path``, atomically.

    The TorchScript exporter (``dynamo=False``) is the default: it takes seconds
    where the dynamo exporter takes close to a minute on 2 CPU cores, and ONNX
    Runtime gives the same results for both graphs.
    """
    target = Path(path)
    module = _CompositeOnly(net).cpu().eval()
    r = net.config.resolution
    args = (torch.rand(2, 3, r, r), (torch.rand(2, 4, r, r) > 0.5).float(), torch.ones(2, 2))
    with atomic_path(target) as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter
        if dynamo:
            batch = torch.export.Dim("batch", min=1, max=1024)
            program = torch.onnx.export(
                module,
                args,
                dynamo=True,
                opset_version=opset,
                input_names=list(INPUT_NAMES),
                output_names=list(OUTPUT_NAMES),
                dynamic_shapes=({0: batch}, {0: batch}, {0: batch}),
            )
            program.save(str(tmp), external_data=False)
        else:
            axes = {name: {0: "batch"} for name in INPUT_NAMES + OUTPUT_NAMES}
            torch.onnx.export(
                module,
                args,
                str(tmp),
                dynamo=False,
                opset_version=opset,
                input_names=list(INPUT_NAMES),
                output_names=list(OUTPUT_NAMES),
                dynamic_axes=axes,
            )
    return target


class HDRNetOnnx:
    """Runs an exported HDRNet with ONNX Runtime on CPU (or CUDA when available)."""

    def __init__(
        self, path: str | os.PathLike[str], threads: int | None = None, device: str = "cpu"
    ) -> None:
        self.session = onnx_session(path, device, threads)
        self.resolution = int(self.session.get_inputs()[0].shape[-1])

    def __call__(
        self, image: np.ndarray, masks: np.ndarray, switches: np.ndarray | None = None
    ) -> np.ndarray:
        """Same arguments as :meth:`HDRNet.forward`, numpy float32; returns the composite."""
        image = np.ascontiguousarray(image, dtype=np.float32)
        masks = np.ascontiguousarray(masks, dtype=np.float32)
        if switches is None:
            switches = np.ones((image.shape[0], 2), np.float32)
        feeds = {
            "image": image,
            "masks": masks,
            "switches": np.ascontiguousarray(switches, dtype=np.float32),
        }
        return self.session.run(list(OUTPUT_NAMES), feeds)[0]
