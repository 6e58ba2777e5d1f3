"""Speed of the hand model: forward pass per batch size, asset loading, generation.

Run: ``python benchmarks/hand_forward.py [--threads N]``. Prints a markdown table.
The forward pass is timed under ``torch.no_grad()`` (as the synthetic data engine runs
it) and with gradients, for the built-in right hand; each figure is the median of
repeated runs after a warm-up.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from handhdr.benchmark import min_median_ms
from handhdr.hand import load_hand_model
from handhdr.hand.builtin import build_builtin_hand, builtin_asset_path, read_builtin_asset
from handhdr.hand.layer import HandLayer


def _median_ms(fn, repeats: int) -> float:
    return min_median_ms(fn, repeats, warmup=5)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_hand_model("builtin", "right")
    layer = HandLayer(data)
    print(f"machine: {platform.processor() or platform.machine()}, torch threads {args.threads}")
    print(f"built-in hand: {len(data.v_template)} vertices, {len(data.faces)} faces\n")
    print("| batch | forward, no grad (ms) | forward + backward (ms) |")
    print("|---|---|---|")
    gen = torch.Generator().manual_seed(0)
    for batch in (1, 2, 16, 64):
        pose = torch.randn(batch, 48, generator=gen) * 0.3
        betas = torch.randn(batch, 10, generator=gen)
        transl = torch.randn(batch, 3, generator=gen)

        def no_grad(pose=pose, betas=betas, transl=transl) -> None:
            with torch.no_grad():
                layer(pose, betas, transl)

        def with_grad(pose=pose, betas=betas, transl=transl) -> None:
            out = layer(pose.clone().requires_grad_(), betas, transl)
            (out.vertices.sum() + out.joints.sum()).backward()

        repeats = max(10, args.repeats // max(1, batch // 4))
        print(
            f"| {batch} | {_median_ms(no_grad, repeats):.2f} | "
            f"{_median_ms(with_grad, repeats // 2):.2f} |"
        )
    start = time.perf_counter()
    read_builtin_asset(builtin_asset_path())
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    build_builtin_hand()
    build_s = time.perf_counter() - start
    print(f"\nreading the shipped asset: {1000 * load_s:.0f} ms; generating it: {build_s:.1f} s")


if __name__ == "__main__":
    main()
