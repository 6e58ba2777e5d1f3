"""HASM speed: coarse-to-fine inference per frame (torch and ONNX Runtime) and training
throughput, for the lite config (and the paper config with --paper).

Random weights of the configured architecture (speed does not depend on the values).
A 512x334 frame with two hands in the middle, so that the fine pass runs.

    python benchmarks/hasm_speed.py [--threads 2] [--paper]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from handhdr.benchmark import min_median_ms
from handhdr.hasm.inference import HASMPredictor, InferenceSettings
from handhdr.hasm.loss import hasm_loss
from handhdr.hasm.model import HASM, count_parameters
from handhdr.hasm.runtime import OnnxRunner, TorchRunner, export_onnx
from handhdr.hasm.training import model_config
from handhdr.training.config import load_config, to_container


def frame() -> np.ndarray:
    """512x334 frame, two skin-coloured blobs in the middle."""
    rng = np.random.default_rng(0)
    image = rng.integers(30, 90, (334, 512, 3), dtype=np.uint8)
    image[120:220, 190:260] = (210, 160, 130)
    image[140:230, 250:330] = (200, 150, 120)
    return image


class ForcedRegion:
    """Runs the real network, but reports hands where the frame has them, so that the
    fine pass always runs (random weights would find none)."""

    stride = 4

    def __init__(self, runner, image_size: int):
        self.runner = runner
        self.coarse_size = image_size

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        out = self.runner(crops)
        if crops.shape[1] == self.coarse_size:
            g = crops.shape[1] // 4
            out[:, [0, 2]] = -10.0
            out[:, [0, 2], g * 2 // 5 : g * 3 // 5, g * 2 // 5 : g * 3 // 5] = 10.0
        return out


def gflops(model: HASM, size: int) -> float:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.rand(1, 3, size, size))
    return counter.get_total_flops() / 2e9  # multiply-adds


def bench(config: str, threads: int, repeat: int, train_batch: int) -> list[str]:
    cfg = load_config("hasm", config)
    torch.set_num_threads(threads)
    model = HASM(model_config(to_container(cfg))).eval()
    settings = InferenceSettings.from_dict(to_container(cfg)["inference"])
    coarse = settings.coarse_size or settings.size
    image = frame()
    rows = [
        f"| {config} | parameters | {count_parameters(model) / 1e6:.2f} M |",
        f"| {config} | GMACs coarse ({coarse}) + fine ({settings.size}) | "
        f"{gflops(model, coarse):.2f} + {gflops(model, settings.size):.2f} |",
    ]
    with tempfile.TemporaryDirectory() as folder:
        onnx_path = export_onnx(model, Path(folder) / "hasm.onnx", settings.size)
        backends = {
            "torch": TorchRunner(model),
            "onnxruntime": OnnxRunner(onnx_path, threads=threads),
        }
        for name, runner in backends.items():
            predictor = HASMPredictor(ForcedRegion(runner, coarse), settings)
            assert predictor(image).region is not None
            best, median = min_median_ms(lambda p=predictor: p(image), repeat)
            rows.append(
                f"| {config} | {name}: coarse + fine, one frame | {best:.1f} ({median:.1f}) ms |"
            )
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.rand(train_batch, 3, cfg.input_size, cfg.input_size)
    y = torch.rand(train_batch, 4, cfg.input_size, cfg.input_size) > 0.5

    def step() -> None:
        loss, _ = hasm_loss(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    best, median = min_median_ms(step, max(3, repeat // 10))
    rows.append(
        f"| {config} | training step, batch {train_batch} | {best:.0f} ({median:.0f}) ms, "
        f"{train_batch / best * 1000:.1f} samples/s at best |"
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--paper", action="store_true", help="also the paper config (slow)")
    args = parser.parse_args()
    print(f"threads {args.threads}")
    print("| config | what | minimum (median) |\n|---|---|---|")
    for row in bench("lite", args.threads, args.repeat, 16):
        print(row, flush=True)
    if args.paper:
        for row in bench("paper", args.threads, max(3, args.repeat // 10), 2):
            print(row, flush=True)


if __name__ == "__main__":
    main()
