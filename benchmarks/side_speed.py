"""Side-classifier speed: scoring the hands of one frame (PyTorch and ONNX Runtime,
mirror averaging included) and one training step of the lite config.

Random weights of the lite architecture (speed does not depend on the values); a
512x334 frame with two hand masks.

    python benchmarks/side_speed.py [--threads 2] [--repeat 50]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from handhdr.benchmark import count_parameters, min_median_ms
from handhdr.hasm.side import SideNet, export_side_onnx, onnx_side_classifier, side_classifier
from handhdr.hasm.side_training import SideTask
from handhdr.training.config import load_config, to_container


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    task = SideTask(to_container(load_config("side", "lite")))
    net: SideNet = task.net.eval()
    image = np.random.default_rng(0).integers(30, 90, (334, 512, 3), dtype=np.uint8)
    masks = np.zeros((4, 334, 512), bool)
    masks[0:2, 120:220, 190:260] = True
    masks[2:4, 140:230, 250:330] = True
    rows = [f"| parameters | {count_parameters(net) / 1e6:.2f} M |"]
    with tempfile.TemporaryDirectory() as folder:
        path = export_side_onnx(net, Path(folder) / "side.onnx", task.crop)
        backends = {
            "PyTorch": side_classifier(net, task.crop),
            "ONNX Runtime": onnx_side_classifier(path, threads=args.threads),
        }
        for name, classifier in backends.items():
            best, median = min_median_ms(lambda c=classifier: c.exchange(image, masks), args.repeat)
            rows.append(f"| {name}: both hands of one frame | {best:.1f} ({median:.1f}) ms |")
    net.train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
    batch = {
        "crop": torch.randint(0, 256, (64, 4, 112, 112), dtype=torch.uint8),
        "targets": torch.rand(64, 7).round(),
        "cues_known": torch.ones(64, dtype=torch.bool),
    }
    task.log = lambda *a, **k: None  # no trainer attached

    def step() -> None:
        task.training_step(batch, 0).backward()
        optimizer.step()
        optimizer.zero_grad()

    best, median = min_median_ms(step, max(3, args.repeat // 5))
    rows.append(f"| training step, batch 64 | {best:.0f} ({median:.0f}) ms |")
    print(f"threads {args.threads}\n| what | minimum (median) |\n|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
