"""Tiny random-weight stage models for tests and quick trials of the pipeline.

:func:`write_tiny_weights` saves a HASM, a HDRNet and a DetNet small enough to run in
milliseconds on a CPU, with the stages' own save functions, so that everything after
it (loading, both backends, export, the commands) is the real code path. The weights
are random: the outputs mean nothing, only their shapes and their flow do.

``hands`` steers what the random HASM finds: its classifier biases are pushed far
up (mask everywhere) or far down (mask nowhere) per head, so a test can ask for zero,
one or two hands through the real network.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from handhdr.hasm.model import HASM, HASMConfig
    from handhdr.hdrm.network import HDRNet
    from handhdr.shpe.detnet import DetNet, DetNetConfig

HASM_SIZE = 64  # fine and coarse pass side of the tiny HASM
HDRM_RESOLUTION = 32
SHPE_INPUT = 32
_BIAS = 8.0  # foreground minus background logit forced by ``hands``


def tiny_hasm_config() -> HASMConfig:
    """A MiT small enough for unit tests (dims 8-64, one block per stage)."""
    from handhdr.hasm.model import HASMConfig

    return HASMConfig(
        hidden_sizes=[8, 16, 32, 64],
        depths=[1, 1, 1, 1],
        num_attention_heads=[1, 2, 4, 8],
        decoder_width=16,
        dropout=0.0,
        drop_path_rate=0.0,
    )


def tiny_hasm(seed: int = 0, hands: tuple[str, ...] | None = None) -> HASM:
    """A MiT-tiny HASM (random weights, eval mode); ``hands`` (e.g. ``("right",)``)
    forces those hands' amodal and visible masks on everywhere and the others off;
    ``None`` leaves the random network as it is."""
    from handhdr.hasm.model import HASM

    torch.manual_seed(seed)
    model = HASM(tiny_hasm_config()).eval()
    if hands is not None:
        with torch.no_grad():
            for k, head in enumerate(model.decoder.heads):
                on = ("right", "left")[k // 2] in hands
                head.classifier.weight.mul_(0.01)
                head.classifier.bias.copy_(torch.tensor([0.0, _BIAS if on else -_BIAS]))
    return model


def tiny_hdrnet(seed: int = 0, transformer: bool = True) -> HDRNet:
    """A 5-level HDRNet at 32 x 32 (random weights, eval mode)."""
    from handhdr.hdrm.network import HDRNet, HDRNetConfig, TransformerSpec

    torch.manual_seed(seed)
    config = HDRNetConfig(
        resolution=HDRM_RESOLUTION,
        channels=(8, 16, 16, 16, 16),
        kernels=(7, 5, 5, 3, 3),
        use_transformer=transformer,
        transformer=(TransformerSpec("enc3", 2, 2, 2), TransformerSpec("dec3", 1, 2, 2)),
        composite_dilation=1,
    )
    return HDRNet(config).eval()


def tiny_detnet_config() -> DetNetConfig:
    """A DetNet small enough for unit tests: 32 px input, 8 x 8 maps."""
    from handhdr.shpe.detnet import BlockSpec, DetNetConfig

    return DetNetConfig(
        input_size=SHPE_INPUT,
        stem_channels=8,
        blocks=[BlockSpec(1, 4, 16, stride=2), BlockSpec(1, 4, 16, dilation=2)],
        squeeze_channels=8,
        squeeze_kernel=3,
        head_channels=8,
        head_kernel=3,
    )


def tiny_detnet(seed: int = 0) -> DetNet:
    """A DetNet with a 32 px input and 8 x 8 maps (random weights, eval mode)."""
    from handhdr.shpe.detnet import DetNet

    torch.manual_seed(seed)
    model = DetNet(tiny_detnet_config()).eval()
    with torch.no_grad():  # sigmoid's steep middle: distinct heatmap maxima for the argmax
        model.heatmap_head.predict.bias.zero_()
    return model


def write_tiny_weights(
    folder: str | os.PathLike[str],
    seed: int = 0,
    hands: tuple[str, ...] | None = ("right", "left"),
    variants: tuple[str, ...] = (),
) -> dict[str, Path]:
    """Save tiny ``hasm``, ``hdrm`` and ``shpe`` weights (float32) into ``folder``.

    ``variants`` (e.g. ``("no_transformer",)``) adds more HDRNet files under those
    keys (``no_transformer`` has no transformer blocks; others differ by seed).
    Returns the paths by key.
    """
    from handhdr.hasm.inference import InferenceSettings
    from handhdr.hasm.weights import save_hasm
    from handhdr.hdrm.weights import save_hdrnet
    from handhdr.shpe.weights import save_detnet

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    settings = InferenceSettings(size=HASM_SIZE, coarse_size=HASM_SIZE, box_scale=1.3)
    paths = {
        "hasm": save_hasm(tiny_hasm(seed, hands), out / "hasm.safetensors", settings, dtype=None),
        "hdrm": save_hdrnet(tiny_hdrnet(seed), out / "hdrm.safetensors", dtype=None),
        "shpe": save_detnet(tiny_detnet(seed), out / "shpe.safetensors", dtype=None),
    }
    for k, name in enumerate(variants):
        net = tiny_hdrnet(seed + 1 + k, transformer=name != "no_transformer")
        paths[name] = save_hdrnet(net, out / f"hdrm_{name}.safetensors", dtype=None)
    return paths


__all__ = ["tiny_detnet", "tiny_hasm", "tiny_hdrnet", "write_tiny_weights"]
