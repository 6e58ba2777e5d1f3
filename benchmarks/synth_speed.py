"""Synthetic data generator throughput on ONE CPU core, every ground truth on disk.

Generates ``--num`` samples exactly as ``handhdr synth`` does with one worker (scene
sampling, render, image JPEG q95, packed masks PNG, per-hand hdr_gt PNG, the record),
then finalises the split (the InterHand2.6M annotation files), and reports:

* samples per second per core: per CPU second of this process (``time.process_time``,
  robust when other jobs share the CPU) and per wall second;
* milliseconds per stage (scene, view placement, render, files);
* disk bytes per sample and the finalise time, extrapolated to a 10k-image set;
* the occlusion-ratio distribution of the generated mix (``synth/{split}/stats.json``).

The process pins itself to one CPU and sets every thread pool to one thread. The
background bank is filled before timing (a one-time cost per worker, reported).

Run: ``python benchmarks/synth_speed.py [--num 300] [--size 512x334] [--kind render]``
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402


def _timed(table: dict[str, float], name: str, function):  # noqa: ANN001, ANN202
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            table[name] += time.process_time() - start

    return wrapper


def _folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=300, help="samples to time")
    parser.add_argument("--size", default="512x334", help="frame size WxH")
    parser.add_argument("--kind", default="render", choices=("render", "syn"))
    parser.add_argument("--mix", default="sh=0.58,ih=0.42")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="folder (default: a temp dir)")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin to")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})

    import cv2
    import numpy as np
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    from handhdr.synth.config import SynthConfig, parse_mix, parse_size, store_config
    from handhdr.synth.finalize import finalize
    from handhdr.synth.runner import make_factory
    from handhdr.synth.writers import write_sample

    width, height = parse_size(args.size)
    config = SynthConfig(
        split="train", seed=args.seed, kind=args.kind, width=width, height=height,
        mix=parse_mix(args.mix),
    )  # fmt: skip
    t0 = time.perf_counter()
    factory = make_factory(config)
    setup_s = time.perf_counter() - t0
    render_factory = getattr(factory, "source", None)
    render_factory = getattr(render_factory, "factory", factory)
    backgrounds = render_factory.renderer.backgrounds
    t0 = time.perf_counter()
    for k in range(getattr(backgrounds, "bank_size", 0)):  # fill the bank once
        backgrounds.sample(np.random.default_rng(k), width, height)
    bank_s = time.perf_counter() - t0

    stages: dict[str, float] = defaultdict(float)
    for name in ("scene", "view", "render"):
        setattr(render_factory, name, _timed(stages, name, getattr(render_factory, name)))
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "synth"
        from handhdr.synth.finalize import config_path

        store_config(config_path(out, config.split), config)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for index in range(args.num):
            sample = factory.make(index)
            start = time.process_time()
            write_sample(out, config.split, config.format, sample)
            stages["files"] += time.process_time() - start
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        sample_bytes = _folder_bytes(out)
        t0 = time.perf_counter()
        result = finalize(out, config.split, args.num, progress=False)
        finalize_s = time.perf_counter() - t0
        annotation_bytes = _folder_bytes(out) - sample_bytes
        stats = json.loads(Path(result.paths["stats"]).read_text())

    n = args.num
    print(
        f"config: {config.kind} {width}x{height}, mix {config.mix}, {n} samples, seed {config.seed}"
    )
    print(f"setup {setup_s:.2f} s (models), background bank {bank_s:.2f} s (once per worker)")
    print(f"throughput: {n / cpu:.2f} samples per CPU second, {n / wall:.2f} per wall second")
    other = cpu - sum(stages.values())
    parts = {**stages, "other": other}
    print("ms per sample (CPU): " + ", ".join(f"{k} {1000 * v / n:.1f}" for k, v in parts.items()))
    per_sample = sample_bytes / n
    print(
        f"disk: {per_sample / 1024:.1f} KiB per sample (images, masks, hdr_gt, records), "
        f"annotations {annotation_bytes / 1024:.1f} KiB; finalise {finalize_s:.2f} s"
    )
    scale = 10_000 / n
    print(f"10k images, extrapolated: {10_000 / (n / cpu) / 60:.1f} CPU minutes, "
          f"{(sample_bytes + annotation_bytes) * scale / 2**30:.2f} GiB, "
          f"finalise ~{finalize_s * scale:.0f} s")  # fmt: skip
    print(f"counters: {stats['counters']}, hand types: {stats['hand_types']}")
    bins = stats["occlusion_bins"]
    for group, block in stats["occlusion"].items():
        if block["count"]:
            shares = [100 * c / block["count"] for c in block["histogram"]]
            print(f"occlusion {group}: n={block['count']} mean {block['mean']:.3f} "
                  f"median {block['median']:.3f}; % per bin of {bins[1] - bins[0]:.1f}: "
                  + " ".join(f"{s:.0f}" for s in shares))  # fmt: skip


if __name__ == "__main__":
    main()
