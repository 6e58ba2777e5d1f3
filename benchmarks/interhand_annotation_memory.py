"""Peak memory and load time of the InterHand2.6M reader on a 100k-image annotation set.

Writes (once; ``--force`` rewrites) an annotation-only InterHand2.6M v1.0 split with
:func:`handhdr.datasets.interhand_format.make_fixture_dataset` (no images), then, each
in a fresh process, measures:

* ``InterHandDataset(..., load_images=False)``: time and peak resident memory above
  the baseline after imports (``VmHWM``), and the resident memory it keeps;
* ``ground_truth()`` on top of that;
* for comparison, a plain ``json.load`` of the data, camera and joint_3d files
  (what a straightforward reader does before it converts anything).

Run: ``python benchmarks/interhand_annotation_memory.py`` (data in ``data/bench/``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def _status_mib(field: str) -> float:
    """``VmHWM`` (peak) or ``VmRSS`` (current) of this process, MiB. Unlike
    ``ru_maxrss``, which Linux carries over from the parent through fork and exec,
    ``VmHWM`` starts afresh in a new program."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0  # kB
    raise RuntimeError(f"/proc/self/status has no {field}")


def measure_reader(root: Path, split: str) -> dict:
    """Runs in a fresh process: load, then ground truth."""
    import numpy  # noqa: F401  (imports count toward the baseline)

    from handhdr.datasets.interhand import InterHandDataset

    base = _status_mib("VmHWM")
    start = time.perf_counter()
    dataset = InterHandDataset(root, split, load_images=False)
    load_s = time.perf_counter() - start
    load_peak = _status_mib("VmHWM") - base
    kept = _status_mib("VmRSS") - base
    start = time.perf_counter()
    table = dataset.ground_truth()
    gt_s = time.perf_counter() - start
    return {
        "images": len(dataset),
        "load_s": load_s,
        "load_peak_mib": load_peak,
        "kept_after_load_mib": kept,
        "ground_truth_s": gt_s,
        "ground_truth_peak_mib": _status_mib("VmHWM") - base,
        "table_rows": len(table),
    }


def measure_plain_json(root: Path, split: str) -> dict:
    """Runs in a fresh process: json.load of the three main files, nothing else."""
    from handhdr.datasets.interhand_format import annotation_file

    base = _status_mib("VmHWM")
    start = time.perf_counter()
    loaded = []
    for kind in ("data", "camera", "joint_3d"):
        with open(annotation_file(root, split, kind)) as handle:
            loaded.append(json.load(handle))
    return {"load_s": time.perf_counter() - start, "load_peak_mib": _status_mib("VmHWM") - base}


def generate(root: Path, split: str, captures: int, cameras: int, frames: int, seed: int) -> float:
    from handhdr.datasets.interhand_format import make_fixture_dataset

    start = time.perf_counter()
    make_fixture_dataset(
        root,
        split,
        seed,
        num_captures=captures,
        num_cameras=cameras,
        num_frames=frames,
        write_images=False,
    )
    (root / "COMPLETE").write_text(f"{captures} {cameras} {frames} {seed}\n")
    return time.perf_counter() - start


def _in_fresh_process(mode: str, root: Path, split: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--measure", mode, "--out", str(root), "--split", split],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/bench/interhand_100k"))
    parser.add_argument("--split", default="test")
    parser.add_argument("--captures", type=int, default=5)
    parser.add_argument("--cameras", type=int, default=40)
    parser.add_argument("--frames", type=int, default=500, help="frames per capture")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="regenerate the annotation set")
    parser.add_argument("--measure", choices=("reader", "json"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure == "reader":
        print(json.dumps(measure_reader(args.out, args.split)))
        return
    if args.measure == "json":
        print(json.dumps(measure_plain_json(args.out, args.split)))
        return

    expected = f"{args.captures} {args.cameras} {args.frames} {args.seed}\n"
    marker = args.out / "COMPLETE"
    if args.force or not marker.is_file() or marker.read_text() != expected:
        seconds = generate(
            args.out, args.split, args.captures, args.cameras, args.frames, args.seed
        )
        print(f"generated {args.out} in {seconds:.1f} s")
    from handhdr.datasets.interhand_format import ANNOTATION_KINDS, annotation_file

    print("| file | size (MB) |\n|---|---|")
    for kind in ANNOTATION_KINDS:
        path = annotation_file(args.out, args.split, kind)
        print(f"| `{path.name}` | {path.stat().st_size / 1e6:.1f} |")
    reader = _in_fresh_process("reader", args.out, args.split)
    plain = _in_fresh_process("json", args.out, args.split)
    print(f"\nimages: {reader['images']}")
    print("| step | time (s) | peak RSS above imports (MiB) |\n|---|---|---|")
    print(
        f"| `InterHandDataset(load_images=False)` | {reader['load_s']:.2f} | "
        f"{reader['load_peak_mib']:.0f} (kept after load: {reader['kept_after_load_mib']:.0f}) |"
    )
    print(
        f"| + `ground_truth()` | {reader['ground_truth_s']:.2f} | "
        f"{reader['ground_truth_peak_mib']:.0f} |"
    )
    print(f"| plain `json.load` of data + camera + joint_3d | {plain['load_s']:.2f} | "
          f"{plain['load_peak_mib']:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
