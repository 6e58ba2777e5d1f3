"""``handhdr render-masks`` throughput on ONE CPU core: InterHand2.6M images per second.

A fixture in the real InterHand2.6M format (``make_fixture_dataset``: 512x334 or
334x512 images, hands about 1 m from the cameras, every frame interacting) with a
MANO-format stand-in model pair (``write_mano_stand_in``: 778 vertices, about 1550
faces). One face is dropped from the stand-in so that, like the official MANO mesh
(open at the wrist), it is not closed and the rasteriser draws both sides of every
triangle (no back-face culling), as it does for the real model.

Timed: ``render_interhand_masks`` end to end (annotation read, one MANO pass per
frame, per image the camera move, the rasterisation of both hands, depth test and the
packed PNG written atomically), in process, pinned to one CPU, every thread pool at
one thread. Also the MANO forward pass alone, to show what posing once per frame saves.

Run: ``python benchmarks/render_masks_speed.py [--cameras 20] [--frames 10]``
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=20, help="cameras per capture")
    parser.add_argument("--frames", type=int, default=5, help="frames per capture")
    parser.add_argument("--captures", type=int, default=2)
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin to")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})

    import cv2
    import numpy as np
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    from handhdr.datasets.interhand_format import make_fixture_dataset
    from handhdr.datasets.render_masks import (
        ManoMaskRenderer,
        render_interhand_masks,
        write_mano_stand_in,
    )

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for path in write_mano_stand_in(base / "mano").values():
            with np.load(path) as data:
                arrays = dict(data)
            arrays["f"] = arrays["f"][1:]  # open, like official MANO
            np.savez(path, **arrays)
        fx = make_fixture_dataset(
            base / "ih", "train", seed=0, num_captures=args.captures,
            num_cameras=args.cameras, num_frames=args.frames,
            hand_types=("interacting",), write_images=False,
        )  # fmt: skip
        n = len(fx.images)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        summary = render_interhand_masks(base / "ih", "train", base / "mano", progress=False)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        assert summary.written == n, summary

        renderer = ManoMaskRenderer.from_dir(base / "mano")
        mano = {
            side: {k: getattr(fx.frames[0].mano[side], k) for k in ("pose", "shape", "trans")}
            for side in ("right", "left")
        }
        repeats = 50
        t = time.process_time()
        for _ in range(repeats):
            renderer.world_vertices(mano)
        forward_ms = 1000 * (time.process_time() - t) / repeats

    frames = args.captures * args.frames
    print(f"{n} images (512x334 / 334x512), {frames} frames, {n // frames} cameras per frame")
    print(f"pinned to CPU {args.cpu}, one thread")
    print(f"render-masks end to end: {n / wall:.1f} images/s wall, {n / cpu:.1f} images/s CPU")
    print(f"  CPU per image {1000 * cpu / n:.1f} ms; MANO pass (both hands) {forward_ms:.2f} ms")
    print(f"  per image if posed for every image: {1000 * cpu / n + forward_ms:.1f} ms")


if __name__ == "__main__":
    main()
