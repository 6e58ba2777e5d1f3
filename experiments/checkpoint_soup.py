"""Average the weights of several checkpoints of one training trajectory (a "soup").

The HDRM lite runs trade de-occlusion for removal as they go on (docs/training.md,
fifth round); this checks whether the mean of checkpoints along the way is better than
any one of them, which is what ``trainer.ema_decay`` then does during training.
Floating-point tensors of ``state_dict`` are averaged (BatchNorm statistics included);
everything else (optimizer, schedule, step) is the last checkpoint's, so the result
exports like any run:

    python experiments/checkpoint_soup.py --out runs/soupB \
        runs/hdrm-s5-stage1/checkpoints/best.ckpt runs/hdrm-s5-stage1/checkpoints/last.ckpt \
        runs/hdrm-s6-stage1/checkpoints/best.ckpt runs/hdrm-s6-stage1/checkpoints/last.ckpt
    handhdr train export runs/soupB --which last --out runs/soupB/hdrm.safetensors

``--out`` becomes a run folder: the last checkpoint's run files (config, commands,
logs) are copied beside ``checkpoints/last.ckpt``, and this command is added to its
``command.txt`` so that an exported model card records it.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import time
from pathlib import Path

import torch


def average(paths: list[Path]) -> dict:
    """The last checkpoint of ``paths`` with ``state_dict`` replaced by the mean of all."""
    ckpts = [torch.load(p, map_location="cpu", weights_only=True) for p in paths]
    out = ckpts[-1]
    mean = {}
    for key, value in out["state_dict"].items():
        if value.is_floating_point():
            total = sum(c["state_dict"][key].double() for c in ckpts)
            mean[key] = (total / len(ckpts)).to(value.dtype)
        else:
            mean[key] = value
    out["state_dict"] = mean
    print("averaged steps", [int(c["global_step"]) for c in ckpts])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="run folder to write")
    parser.add_argument("checkpoints", type=Path, nargs="+", help="checkpoints, last one last")
    args = parser.parse_args()
    soup = average(args.checkpoints)
    run = args.checkpoints[-1].parent.parent
    shutil.copytree(run, args.out, ignore=shutil.ignore_patterns("*.ckpt"), dirs_exist_ok=True)
    torch.save(soup, args.out / "checkpoints" / "last.ckpt")
    with open(args.out / "command.txt", "a", encoding="utf-8") as f:
        command = shlex.join(["python", *sys.argv])
        f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {command}\n")
    print("wrote", args.out / "checkpoints" / "last.ckpt")


if __name__ == "__main__":
    main()
