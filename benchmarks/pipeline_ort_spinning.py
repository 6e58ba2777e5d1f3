"""Lite pipeline in ONNX Runtime with its intra-op threads spinning (the default) or not.

ONNX Runtime's worker threads busy-wait for work between operators by default. On a
CPU shared with other jobs that costs a lot: a spinning thread holds a core that the
thread with work needs. This script times the lite pipeline of ``handhdr bench``
(random weights, synthetic two-hand frames) with spinning on and off, alternating
runs so that both see the same load.

    python benchmarks/pipeline_ort_spinning.py [--threads 2] [--frames 20] [--rounds 2]

Spinning is switched off here by subclassing ``onnxruntime.SessionOptions`` for the
process (session config entry ``session.intra_op.allow_spinning = 0``), so the
pipeline code itself is unchanged.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import onnxruntime as ort

from handhdr import benchmark

_DEFAULT_OPTIONS = ort.SessionOptions


class _NoSpinOptions(_DEFAULT_OPTIONS):  # type: ignore[misc, valid-type]
    def __init__(self) -> None:
        super().__init__()
        self.add_session_config_entry("session.intra_op.allow_spinning", "0")


def run(spinning: bool, threads: int, frames: list[benchmark.Frame]) -> dict:
    ort.SessionOptions = _DEFAULT_OPTIONS if spinning else _NoSpinOptions
    try:
        models = benchmark.config_models("lite")
        with tempfile.TemporaryDirectory() as folder:
            weights = benchmark.write_weights(models, folder)
            load = os.getloadavg()[0]
            row = benchmark.time_pipeline(weights, "onnx", frames, threads, warmup=2)
    finally:
        ort.SessionOptions = _DEFAULT_OPTIONS
    row["load"] = load
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    frames = benchmark.synthetic_frames(args.frames)
    print("| spinning | load (1 min) | HASM | HDRM | SHPE | total, median (min) | CPU ms / frame |")
    print("|---|---|---|---|---|---|---|")
    for _ in range(args.rounds):
        for spinning in (True, False):
            row = run(spinning, args.threads, frames)
            ms = row["ms"]
            print(
                f"| {'on' if spinning else 'off'} | {row['load']:.1f} | "
                + " | ".join(f"{ms[k]['median']:.1f}" for k in ("hasm", "hdrm", "shpe"))
                + f" | {ms['total']['median']:.1f} ({ms['total']['min']:.1f}) | "
                f"{row['cpu_ms_per_frame']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
