"""Which hand is which: a small classifier that gives side-invariant HASM masks their sides.

HASM as the paper trains it must tell the right hand from the left. On our CPU budget
the lite HASM does not learn that (the side of a hand is the parity of two cues,
:mod:`handhdr.hasm.chirality`), but trained side-invariantly (``loss.side_invariant``)
it separates the two hands well. This module supplies the missing decision, outside
the paper's method:

* :class:`SideNet` looks at one hand: a square crop of the image around the hand's
  amodal mask, with that mask as a fourth channel (which hand of an interacting crop
  is meant), and outputs the logit that the hand is a *left* hand (plus, for
  training only, the chirality cues that make that decision learnable);
* :func:`side_logits` scores a batch of crops with mirror test-time averaging (the
  mean of a crop's left-hand logit and minus that of its mirror image);
* :func:`assign_sides` decides: of two hands, the one with the higher left-hand
  score is the left one; a lone hand is left when its score is positive.

:class:`SideClassifier` runs the three steps on a HASM result (``torch`` or ``onnx``
backend); :class:`~handhdr.hasm.inference.HASMPredictor` applies it when the HASM
weights say they were trained side-invariantly. Weights: safetensors with the
architecture and crop settings in the metadata; they ship inside the HASM weights
they serve (:func:`handhdr.hasm.weights.attach_sides`).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from handhdr.hasm.windows import box_window, crop, mask_box
from handhdr.onnx_session import OnnxModel

OUTPUTS = ("left", "facing", "orientation", "forward_x", "forward_y", "across_x", "across_y")


def _known_keys(cls: type, values: dict[str, Any], what: str) -> dict[str, Any]:
    unknown = sorted(set(values) - set(cls.__dataclass_fields__))
    if unknown:
        raise ValueError(f"unknown side-classifier {what} keys {unknown}")
    return values


@dataclass
class SideNetConfig:
    """Architecture of :class:`SideNet`: strided conv blocks, then a small MLP."""

    widths: tuple[int, ...] = (32, 64, 128, 256)
    hidden: int = 64

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SideNetConfig:
        out = cls(**_known_keys(cls, values, "model"))
        out.widths = tuple(int(w) for w in out.widths)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"widths": list(self.widths), "hidden": self.hidden}


@dataclass
class SideCropSettings:
    """How a hand is cut out for :class:`SideNet`.

    The crop is the square around the amodal mask's box, ``scale`` times its longest
    side, resized to ``size``. Training caches a wider ``context`` x ``context`` crop
    of the same pixel scale and cuts random ``size`` windows from it (shift jitter);
    its centre window is the inference crop.
    """

    size: int = 96
    context: int = 112
    scale: float = 1.3
    min_pixels: int = 50  # a mask with fewer pixels is "no hand"

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SideCropSettings:
        out = cls(**_known_keys(cls, values, "crop"))
        if out.context < out.size:
            raise ValueError(f"crop context ({out.context}) must be at least size ({out.size})")
        return out


class SideNet(nn.Module):
    """``(B, 4, S, S)`` float in [0, 1] (RGB + amodal mask) -> ``(B, 7)``, OUTPUTS order:
    the left-hand logit, the facing and orientation logits and the two directions."""

    def __init__(self, config: SideNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or SideNetConfig()
        layers: list[nn.Module] = []
        channels = 4
        for width in self.config.widths:
            layers += [
                nn.Conv2d(channels, width, 3, 2, 1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.Conv2d(width, width, 3, 1, 1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
            channels = width
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(channels, self.config.hidden),
            nn.ReLU(inplace=True),
            nn.Linear(self.config.hidden, len(OUTPUTS)),
        )

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(crops))


class LeftLogit(nn.Module):
    """The deployment output of a :class:`SideNet`: ``(B, 4, S, S)`` uint8-valued float
    crops in [0, 255] -> ``(B,)`` mirror-averaged left-hand logits."""

    def __init__(self, net: SideNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        x = crops / 255.0
        return 0.5 * (self.net(x)[:, 0] - self.net(x.flip(-1))[:, 0])


def hand_crop(
    image: np.ndarray, amodal: np.ndarray, settings: SideCropSettings, context: bool = False
) -> np.ndarray | None:
    """``(S, S, 4)`` uint8: RGB and the amodal mask (0/255) around the mask; ``S`` is
    ``settings.size`` (``context``: ``settings.context`` at the same pixel scale).
    None when the mask has fewer than ``settings.min_pixels`` pixels."""
    if int(np.count_nonzero(amodal)) < settings.min_pixels:
        return None
    box = mask_box(amodal)
    assert box is not None
    size = settings.context if context else settings.size
    window = box_window(box, settings.scale * size / settings.size, min_side=1.0)
    stacked = np.concatenate([image, (amodal.astype(np.uint8) * 255)[..., None]], axis=-1)
    return crop(np.ascontiguousarray(stacked), window, size)


def assign_sides(left_scores: dict[int, float]) -> bool:
    """Whether to exchange the two mask slots of a side-invariant HASM result.

    ``left_scores``: slot (0 or 1) -> left-hand score of the hand found in that slot.
    Slot 0 holds the right hand after the decision: two hands, the higher score is the
    left hand; one hand, it is left when its score is positive; none, nothing moves.
    """
    if len(left_scores) == 2:
        return left_scores[0] > left_scores[1]
    if len(left_scores) == 1:
        ((slot, score),) = left_scores.items()
        return (score > 0) == (slot == 0)
    return False


class SideRunner(Protocol):
    """A backend: ``(B, S, S, 4)`` uint8 crops -> ``(B,)`` mirror-averaged left logits."""

    def __call__(self, crops: np.ndarray) -> np.ndarray: ...


def _as_input(crops: np.ndarray) -> np.ndarray:
    if crops.ndim != 4 or crops.shape[-1] != 4 or crops.dtype != np.uint8:
        raise ValueError(f"expected (B, S, S, 4) uint8 crops, got {crops.shape} {crops.dtype}")
    return np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32)


class TorchSideRunner:
    """Runs a :class:`SideNet` in PyTorch."""

    def __init__(self, net: SideNet, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.net = LeftLogit(net).to(self.device).eval()

    @torch.inference_mode()
    def __call__(self, crops: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(_as_input(crops)).to(self.device)
        return self.net(x).float().cpu().numpy()


class OnnxSideRunner(OnnxModel):
    """Runs an exported side classifier with ONNX Runtime."""

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        (out,) = self.run(_as_input(crops))
        return np.asarray(out, dtype=np.float32).reshape(-1)


def export_side_onnx(
    net: SideNet, path: str | os.PathLike[str], settings: SideCropSettings
) -> Path:
    """Export the deployment graph (:class:`LeftLogit`, dynamic batch) with the crop
    settings in the file's ``handhdr`` metadata."""
    from handhdr.io import atomic_path
    from handhdr.onnx_session import add_onnx_metadata

    target = Path(path)
    example = torch.rand(2, 4, settings.size, settings.size) * 255
    with atomic_path(target) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            LeftLogit(net).eval().cpu(),
            (example,),
            str(tmp),
            dynamo=False,
            opset_version=17,
            input_names=["crops"],
            output_names=["left_logits"],
            dynamic_axes={"crops": {0: "batch"}, "left_logits": {0: "batch"}},
        )
        add_onnx_metadata(tmp, {"stage": "side", "crop": asdict(settings)})
    return target


@dataclass
class SideClassifier:
    """Gives the two mask slots of a side-invariant HASM result their sides."""

    runner: SideRunner
    settings: SideCropSettings = field(default_factory=SideCropSettings)

    def left_scores(self, image: np.ndarray, masks: np.ndarray) -> dict[int, float]:
        """Slot -> left-hand score of each slot whose amodal mask holds a hand.
        ``masks``: ``(4, H, W)`` bool, slot 0 amodal/visible then slot 1."""
        crops = {slot: hand_crop(image, masks[2 * slot], self.settings) for slot in (0, 1)}
        found = {slot: c for slot, c in crops.items() if c is not None}
        if not found:
            return {}
        scores = self.runner(np.stack(list(found.values())))
        return {slot: float(s) for slot, s in zip(found, scores, strict=True)}

    def exchange(self, image: np.ndarray, masks: np.ndarray) -> bool:
        """Whether slot 0 holds the left hand (the slots must be exchanged)."""
        return assign_sides(self.left_scores(image, masks))


def save_side(
    net: SideNet,
    path: str | os.PathLike[str],
    settings: SideCropSettings,
    extra: dict[str, Any] | None = None,
    dtype: torch.dtype | None = torch.float16,
) -> Path:
    """Write a side classifier with the metadata :func:`load_side` needs."""
    from handhdr.training.weights import save_weights

    metadata = {
        "stage": "side",
        "model": net.config.to_dict(),
        "crop": asdict(settings),
        **(extra or {}),
    }
    return save_weights(net, path, metadata, dtype=dtype)


def load_side(spec: str | os.PathLike[str]) -> tuple[SideNet, SideCropSettings]:
    """A side classifier (eval mode, float32) and its crop settings from weights
    (``.safetensors``) or a ``side`` training checkpoint (``.ckpt``). Nothing is shipped
    alone: a side classifier ships inside the HASM weights it serves
    (:func:`handhdr.hasm.weights.attach_sides`)."""
    from handhdr.training.weights import (
        WeightsError,
        load_weights,
        state_from_checkpoint,
    )

    path = Path(spec)
    if not path.is_file():
        raise WeightsError(f"{path}: side-classifier weights file not found")
    if path.suffix == ".ckpt":
        from handhdr.hasm.side_training import weights_metadata

        state, config = state_from_checkpoint(path, "side", "net.")
        meta = weights_metadata(config)
    else:
        state, meta = load_weights(path)
    if meta.get("stage") != "side" or "model" not in meta:
        raise WeightsError(
            f"{path}: not side-classifier weights (metadata stage {meta.get('stage')!r})"
        )
    net = SideNet(SideNetConfig.from_dict(meta["model"]))
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise WeightsError(
            f"{path}: weights do not fit the model in its metadata "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    return net.eval(), SideCropSettings.from_dict(meta.get("crop", {}))


def side_classifier(
    net: SideNet,
    settings: SideCropSettings,
    backend: str = "torch",
    device: str = "cpu",
    threads: int | None = None,
) -> SideClassifier:
    """A :class:`SideClassifier` running ``net`` on ``backend`` (``torch`` or ``onnx``)."""
    if backend == "torch":
        return SideClassifier(TorchSideRunner(net, device), settings)
    if backend != "onnx":
        raise ValueError(f"backend must be 'torch' or 'onnx', got {backend!r}")
    with tempfile.TemporaryDirectory(prefix="handhdr-side-") as folder:
        path = export_side_onnx(net, Path(folder) / "side.onnx", settings)
        runner = OnnxSideRunner(path, device, threads)  # the session holds the model
    return SideClassifier(runner, settings)


def onnx_side_classifier(
    path: str | os.PathLike[str], device: str = "cpu", threads: int | None = None
) -> SideClassifier:
    """A :class:`SideClassifier` on an exported side-classifier ``.onnx`` file."""
    from handhdr.onnx_session import onnx_metadata

    settings = SideCropSettings.from_dict(onnx_metadata(path).get("crop", {}))
    return SideClassifier(OnnxSideRunner(path, device, threads), settings)
