"""Probe: is the side of a hand (right/left) learnable from our renders, and why not?

HASM finds hands but guesses their side (docs/training.md). This probe isolates the
side from segmentation with a plain CNN classifier on single-hand crops, and checks
the identity that explains the difficulty:

    right hand  =  palm faces the camera  XOR  wrist -> index MCP -> pinky MCP
                                               turns clockwise in the image

(both cues are defined in :mod:`handhdr.hasm.chirality`). A mirror flips the
orientation and the side but not the facing, so the side is the parity of two
features, and a parity gives a from-scratch network no first-order gradient until it
has both features (a plateau at loss log 2).

Steps (each reads the dataset once; crops are 96 px squares around the amodal box):

    python experiments/chirality_probe.py --root data/aih_lite --train 4000 --val 500 \
        --minutes 25 [--aux 1.0] [--directions 1.0] [--mask] [--extra data/aih_ih:4000] \
        --threads 2 --cache runs/chirality-probe

``--aux W`` adds the facing and orientation targets (weight W) beside the side;
``--directions W`` adds a regression of the two image directions whose cross product
is the orientation (wrist -> middle MCP, pinky MCP -> index MCP; unit vectors, MSE).
``--mask`` gives the network the hand's amodal mask as a fourth channel (which hand of
an interacting crop is meant, as the pipeline would know from side-invariant HASM
masks); ``--extra ROOT:N`` adds the hands of N more training images of another folder.
Prints the identity check on both splits and, every 100 steps, the validation
accuracy, with mirror test-time averaging (``tta``: the mean of the logit of the crop
and minus that of its mirror) and, on interacting images, the accuracy of the pair
decision (the hand with the higher right-hand score is the right one).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from handhdr.hasm.chirality import directions, facing_and_orientation
from handhdr.joints import HAND_SLICES, HANDS
from handhdr.training.sources import open_source

CROP = 96
MIN_PIXELS = 300


def extract(root: str, split: str, limit: int) -> dict[str, np.ndarray]:
    """Crops ``(N, 96, 96, 4)`` (RGB and the amodal mask) and labels side (0 right, 1
    left), facing, orientation; ``pair``: the image index of interacting hands, else -1."""
    reader = open_source(root, split=split)
    crops, labels, dirs, pairs = [], [], [], []
    for n, index in enumerate(np.linspace(0, len(reader) - 1, min(limit, len(reader)))):
        sample = reader[int(index)]
        for k, hand in enumerate(HANDS):
            ys, xs = np.nonzero(sample.masks[2 * k])  # the hand's amodal mask
            if ys.size < MIN_PIXELS:
                continue
            cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
            scale = CROP / (1.3 * max(xs.max() - xs.min(), ys.max() - ys.min()) + 1)
            half = CROP / 2
            warp = np.float32([[scale, 0, half - scale * cx], [0, scale, half - scale * cy]])
            size, flags, border = (CROP, CROP), cv2.INTER_AREA, cv2.BORDER_REFLECT
            rgb = cv2.warpAffine(sample.image, warp, size, flags=flags, borderMode=border)
            mask = cv2.warpAffine(sample.masks[2 * k].astype(np.uint8) * 255, warp, size)
            crops.append(np.concatenate([rgb, mask[..., None]], axis=-1))
            pairs.append(n if sample.hand_type == "interacting" else -1)
            joints = HAND_SLICES[hand]
            left = hand == "left"
            facing, orient = facing_and_orientation(
                sample.joints_cam[joints], sample.joints_img[joints], left
            )
            labels.append((int(left), facing, orient))
            dirs.append(directions(sample.joints_img[joints]))
        if n % 500 == 0:
            print(f"{split}: {n} images, {len(crops)} hands", flush=True)
    lab = np.array(labels)
    return {
        "x": np.stack(crops),
        "side": lab[:, 0],
        "facing": lab[:, 1],
        "orient": lab[:, 2],
        "dirs": np.stack(dirs),
        "pair": np.array(pairs),
    }


def load(root: str, split: str, limit: int, cache: Path) -> dict[str, np.ndarray]:
    path = cache / f"{Path(root).name}_{split}_{limit}.npz"
    data = dict(np.load(path)) if path.exists() else {}
    if "pair" not in data:  # no cache yet, or an older one without masks and pairs
        data = extract(root, split, limit)
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(path, **data)
    same = float(np.mean((data["facing"] ^ data["orient"]) != data["side"]))
    print(f"{split}: {len(data['side'])} hands; side == NOT(facing XOR orientation) for {same:.4f}")
    agree = float(np.mean((cross(torch.from_numpy(data["dirs"])) < 0).numpy() == data["orient"]))
    print(f"{split}: orientation == (cross(directions) < 0) for {agree:.4f}")
    return data


def cross(dirs: torch.Tensor) -> torch.Tensor:
    """2D cross product of the two direction vectors ``(N, 4)`` -> ``(N,)``."""
    return dirs[:, 0] * dirs[:, 3] - dirs[:, 1] * dirs[:, 2]


def tensors(data: dict[str, np.ndarray], mask: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Crops ``(N, 3 or 4, 96, 96)`` uint8; targets ``(N, 7)``: side, facing, orientation
    and the two directions."""
    x = torch.from_numpy(data["x"][..., : 4 if mask else 3]).permute(0, 3, 1, 2).contiguous()
    labels = np.stack([data["side"], data["facing"], data["orient"]], 1).astype(np.float32)
    return x, torch.from_numpy(np.concatenate([labels, data["dirs"]], 1))


def pair_accuracy(left_logit: torch.Tensor, side: torch.Tensor, pair: torch.Tensor) -> float:
    """Share of interacting images whose two hands are told apart: the hand with the
    higher left-hand logit is the left one."""
    right, wrong = 0, 0
    for image in pair[pair >= 0].unique():
        members = torch.nonzero(pair == image).flatten()
        if len(members) != 2:
            continue
        a, b = members.tolist()
        ok = (left_logit[a] > left_logit[b]) == (side[a] > side[b])
        right, wrong = right + int(ok), wrong + int(not ok)
    return right / max(right + wrong, 1)


def network(channels: int) -> nn.Module:
    def block(i: int, o: int) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(i, o, 3, 2, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(True),
            nn.Conv2d(o, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(True),
        )  # fmt: skip

    return nn.Sequential(
        block(channels, 32), block(32, 64), block(64, 128), block(128, 256),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 64), nn.ReLU(True), nn.Linear(64, 7),
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default="data/aih_lite")
    ap.add_argument("--train", type=int, default=4000, help="training images read")
    ap.add_argument("--val", type=int, default=500, help="validation images read")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--aux", type=float, default=0.0, help="weight of facing/orientation")
    ap.add_argument(
        "--directions", type=float, default=0.0, help="weight of the two direction vectors"
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mask", action="store_true", help="the amodal mask as a 4th channel")
    ap.add_argument("--extra", default=None, help="ROOT:N, N more training images of ROOT")
    ap.add_argument("--cache", type=Path, default=Path("runs/chirality-probe"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    xt, tt = tensors(load(args.root, "train", args.train, args.cache), args.mask)
    if args.extra:
        root, count = args.extra.rsplit(":", 1)
        xe, te = tensors(load(root, "train", int(count), args.cache), args.mask)
        xt, tt = torch.cat([xt, xe]), torch.cat([tt, te])
    val = load(args.root, "val", args.val, args.cache)
    xv, tv = tensors(val, args.mask)
    xv = xv.float().div(255)
    pair = torch.from_numpy(val["pair"])
    print(f"training hands {len(tt)}, validation hands {len(tv)}", flush=True)
    net = network(xv.shape[1])
    opt = torch.optim.AdamW(net.parameters(), 1e-3, weight_decay=1e-4)
    weights = torch.tensor([1.0, args.aux, args.aux])
    start, step = time.time(), 0
    while time.time() - start < args.minutes * 60:
        net.train()
        batch = torch.randint(0, len(tt), (64,))
        x, t = xt[batch].float().div(255), tt[batch].clone()
        flip = torch.rand(64) < 0.5  # a mirror swaps the side and the orientation
        x[flip] = x[flip].flip(-1)
        t[flip, 0], t[flip, 2] = 1 - t[flip, 0], 1 - t[flip, 2]
        t[flip, 3], t[flip, 5] = -t[flip, 3], -t[flip, 5]  # x of both directions
        gain, offset = 0.7 + 0.6 * torch.rand(64, 1, 1, 1), 0.1 * (torch.rand(64, 3, 1, 1) - 0.5)
        rgb = x[:, :3] * gain + offset
        x = torch.cat([rgb, x[:, 3:]], 1)
        out = net(x)
        losses = F.binary_cross_entropy_with_logits(out[:, :3], t[:, :3], reduction="none").mean(0)
        loss = (losses * weights).sum()
        if args.directions:
            loss = loss + args.directions * F.mse_loss(out[:, 3:], t[:, 3:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0:
            net.eval()
            with torch.no_grad():
                out = net(xv)
                mirrored = net(xv.flip(-1))
            acc = ((out[:, :3] > 0).float() == tv[:, :3]).float().mean(0).tolist()
            tta = (out[:, 0] - mirrored[:, 0]) / 2  # left-hand logit, mirror-averaged
            acc_tta = ((tta > 0).float() == tv[:, 0]).float().mean().item()
            pair_acc = pair_accuracy(tta, tv[:, 0], pair)
            from_dirs = ((cross(out[:, 3:]) < 0).float() == tv[:, 2]).float().mean().item()
            print(
                f"step {step} ({step * 64} crops, {(time.time() - start) / 60:.1f} min) "
                f"side loss {losses[0].item():.3f}  val accuracy side {acc[0]:.3f} "
                f"facing {acc[1]:.3f} orientation {acc[2]:.3f} "
                f"orientation from directions {from_dirs:.3f}  side tta {acc_tta:.3f} "
                f"interacting pairs {pair_acc:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
