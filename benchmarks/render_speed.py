"""Renderer throughput on ONE CPU core: samples per second with all ground truth, on disk.

Per sample: one render of a random scene (two hands in an interaction recipe, or one
hand, as :mod:`handhdr.render.preview` draws them) with forearms, random look and
camera effects; then the files a dataset holds: the image (JPEG q95), the two
de-occlusion/removal ground truth images (PNG, fast compression, or JPEG with
``--gt-format jpg``) and the packed mask PNG (``handhdr.datasets.masks.write_masks``).

The process pins itself to CPU 0 (like ``taskset -c 0``) and sets every thread pool
(OpenMP, BLAS, OpenCV, torch) to one thread before importing them. Scenes (hand
articulation and placement) are drawn first and timed apart; the background bank is
filled before timing (a one-time cost per process, also reported).

Run: ``python benchmarks/render_speed.py [--num 200] [--size 512x334]``
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "LP_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=200, help="samples to time")
    parser.add_argument("--size", default="512x334", help="frame size WxH")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gt-format", choices=("png", "jpg"), default="png")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: a temp dir)")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin to")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})

    import cv2
    import numpy as np
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    from handhdr.datasets.masks import write_masks
    from handhdr.io.images import write_image
    from handhdr.render.background import ProceduralBackgrounds
    from handhdr.render.preview import KINDS, PreviewScenes
    from handhdr.render.renderer import Renderer

    width, height = (int(v) for v in args.size.lower().split("x"))
    scenes = PreviewScenes()
    t0 = time.perf_counter()
    drawn = []
    for i in range(args.num):
        rng = np.random.default_rng(np.random.SeedSequence([args.seed, i]))
        scene, _ = scenes.scene(rng, KINDS[i % len(KINDS)], width, height)
        drawn.append((scene, rng))
    scene_s = (time.perf_counter() - t0) / args.num
    backgrounds = ProceduralBackgrounds()
    t0 = time.perf_counter()
    for k in range(backgrounds.bank_size):  # fill the bank: one view of every entry
        backgrounds.sample(np.random.default_rng(k), width, height)
    bank_s = time.perf_counter() - t0
    renderer = Renderer(backgrounds)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        render_s = write_s = 0.0
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for i, (scene, rng) in enumerate(drawn):
            t = time.process_time()
            result = renderer.render(scene, rng)
            t2 = time.process_time()
            write_image(out / f"{i:06d}.jpg", result.image, jpeg_quality=95)
            for side, gt in result.hdr_gt.items():
                write_image(out / f"{i:06d}_{side}.{args.gt_format}", gt, jpeg_quality=95)
            write_masks(out / f"{i:06d}_masks.png", result.masks)
            render_s += t2 - t
            write_s += time.process_time() - t2
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        looks = [renderer.sample_look(np.random.default_rng(1), scene) for scene, _ in drawn]
        t = time.process_time()
        for (scene, _), look in zip(drawn, looks, strict=True):
            renderer.labels(scene, look)
        labels_s = (time.process_time() - t) / len(drawn)
    n = args.num
    print(f"frames {width}x{height}, {n} samples, pinned to CPU {args.cpu}, one thread")
    print(f"render + write: {n / wall:.1f} samples/s wall, {n / cpu:.1f} samples/s of CPU time")
    print(
        f"  CPU per sample: render {1000 * render_s / n:.1f} ms, write {1000 * write_s / n:.1f} ms"
    )
    print(f"labels only (masks for a given look; rejection sampling): {1000 * labels_s:.1f} ms CPU")
    print(f"scene sampling (hand articulation, placement): {1000 * scene_s:.1f} ms per sample")
    print(f"background bank ({backgrounds.bank_size} scenes, once per process): {bank_s:.1f} s")
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
