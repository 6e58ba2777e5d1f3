"""Speed of SHPE (DetNet with its readout): inference per crop and training per step.

For the ``lite`` and ``paper`` configs (random weights; speed does not depend on
them): GMAC per crop, milliseconds per crop in PyTorch and in ONNX Runtime (batches
of 1 and 2 crops: the pipeline runs two hands per frame), and for ``lite`` the time
of one training step (forward, eq. (5), backward, Adam) at the config's batch size,
from which the steps that fit in 60 minutes follow. Each figure is the minimum and
the median over repeats, so that other jobs sharing the CPU show as a gap between
the two, and the median CPU time of this process (with ``--threads 1`` it is the
compute itself, whatever else runs). Run:
``python benchmarks/shpe_speed.py [--threads 2] [--repeats 30] [--configs lite paper]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from handhdr.shpe.config import loss_weights, model_config
from handhdr.shpe.detnet import DetNet
from handhdr.shpe.runtime import OnnxRunner, TorchRunner, export_onnx
from handhdr.shpe.training import training_loss
from handhdr.training.config import load_config


def gmac(model: DetNet) -> float:
    """Multiply-accumulates of the convolutions for one crop, in billions."""
    total = [0]

    def count(module: nn.Conv2d, _: tuple, out: torch.Tensor) -> None:
        k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
        total[0] += out.numel() * k

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Conv2d)]
    size = model.config.input_size
    with torch.no_grad():
        model.eval()(torch.rand(1, 3, size, size))
    for h in hooks:
        h.remove()
    return total[0] / 1e9


def timed(fn, repeats: int, warmup: int = 3) -> tuple[float, float, float]:
    """(min, median) wall seconds and median CPU seconds (this process) of ``fn()``."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), float(np.median(wall)), float(np.median(cpu))


def training_step_seconds(model: DetNet, cfg, repeats: int) -> tuple[float, float, float]:
    """:func:`timed` of one training step at the config's batch size."""
    model.train()
    weights = loss_weights(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    b, size = int(cfg.data.batch_size), model.config.input_size
    rng = np.random.default_rng(1)
    batch = {
        "image": torch.from_numpy(rng.integers(0, 256, (b, 3, size, size), dtype=np.uint8)),
        "joints_2d": torch.from_numpy(rng.uniform(0, size - 1, (b, 21, 2))).float(),
        "joints_3d": torch.from_numpy(rng.normal(0, 40, (b, 21, 3))).float(),
        "valid": torch.ones(b, 21, dtype=torch.bool),
    }

    def step() -> None:
        loss, _ = training_loss(model, batch, weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return timed(step, repeats, warmup=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--configs", nargs="+", default=["lite", "paper"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"threads: {args.threads}, repeats: {args.repeats} (min / median)")
    for name in args.configs:
        cfg = load_config("shpe", name)
        torch.manual_seed(0)
        model = DetNet(model_config(cfg)).eval()
        size = model.config.input_size
        repeats = args.repeats if name == "lite" else max(3, args.repeats // 10)
        print(f"\n[{name}] input {size}, {gmac(model):.3f} GMAC per crop")
        runner = TorchRunner(model)
        with tempfile.TemporaryDirectory() as folder:
            onnx_runner = OnnxRunner(
                export_onnx(model, Path(folder) / "detnet.onnx"), threads=args.threads
            )
        for batch in (1, 2):
            images = np.random.default_rng(0).random((batch, 3, size, size), dtype=np.float32)
            for label, run in (("torch", runner), ("onnxruntime", onnx_runner)):
                lo, med, cpu = timed(lambda run=run, images=images: run(images), repeats)
                print(
                    f"  {label:12s} batch {batch}: {1000 * lo / batch:7.1f} / "
                    f"{1000 * med / batch:7.1f} ms per crop, CPU {1000 * cpu / batch:7.1f} ms"
                )
        if name == "lite":
            lo, med, cpu = training_step_seconds(model, cfg, max(3, args.repeats // 5))
            b = int(cfg.data.batch_size)
            print(
                f"  training step, batch {b}: {lo:.2f} / {med:.2f} s (CPU {cpu:.2f} s) -> "
                f"{int(3600 / lo)} / {int(3600 / med)} steps in 60 min (model only)"
            )


if __name__ == "__main__":
    main()
