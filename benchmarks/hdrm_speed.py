"""Speed of HDRM (HDRNet): inference per hand crop and training per step.

For the ``lite`` and ``paper`` configs (random weights; speed does not depend on
them): GFLOP per crop (torch's flop counter), milliseconds per crop in PyTorch and in
ONNX Runtime (batches of 1 and 2 crops: two hands per frame), and for ``lite`` one
training step (generator forward, discriminator step, eq. (4), backward, Adam) at the
config's batch size, as wall time and as CPU time of the process, from which the
steps that fit in the 90-minute budget follow. Each time is the minimum and the
median over repeats, so that other jobs sharing the CPU show as a gap between the two;
the CPU time of the process (run with ``--threads 1``) measures the work itself, which
other jobs inflate far less than the wall time.
Run: ``python benchmarks/hdrm_speed.py [--threads 2] [--repeats 30] [--paper]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from handhdr.benchmark import min_median_ms
from handhdr.hdrm.export import HDRNetOnnx, export_onnx
from handhdr.hdrm.losses import HDRLossTerms, discriminator_loss, hdr_loss
from handhdr.hdrm.network import HDRNet
from handhdr.hdrm.training import HDRMTask, model_config
from handhdr.training.config import load_config, to_container


def timed(fn, repeats: int, warmup: int = 3) -> tuple[float, float]:
    """(min, median) seconds of ``fn()`` (:func:`handhdr.benchmark.min_median_ms`)."""
    fastest, median = min_median_ms(fn, repeats, warmup)
    return fastest / 1000.0, median / 1000.0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def crops(batch: int, r: int) -> tuple[torch.Tensor, torch.Tensor]:
    image = torch.rand(batch, 3, r, r)
    masks = torch.zeros(batch, 4, r, r)
    a, b = r // 4, r // 2
    masks[:, 0, a : a + b, a : a + b] = 1  # target amodal
    masks[:, 2, b - a // 2 : r - a // 2, b - a // 2 : r - a // 2] = 1  # distractor on top
    masks[:, 1] = masks[:, 0] * (1 - masks[:, 2])
    masks[:, 3] = masks[:, 2]
    return image, masks


def inference(name: str, repeats: int, threads: int) -> None:
    net = HDRNet(model_config(load_config("hdrm", name))).eval()
    r = net.config.resolution
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(*crops(1, r))
    print(f"{name}: {sum(p.numel() for p in net.parameters()) / 1e6:.2f} M parameters, "
          f"{counter.get_total_flops() / 1e9:.2f} GFLOP per {r}x{r} crop")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        runner = HDRNetOnnx(export_onnx(net, Path(folder) / "hdrnet.onnx"), threads=threads)
        for batch in (1, 2):
            image, masks = crops(batch, r)
            with torch.no_grad():
                t_min, t_med = timed(lambda: net(image, masks), repeats)  # noqa: B023
            x, m = image.numpy(), masks.numpy()
            start_cpu = cpu_seconds()
            o_min, o_med = timed(lambda: runner(x, m), repeats)  # noqa: B023
            o_cpu = (cpu_seconds() - start_cpu) / (repeats + 3)
            print(
                f"  batch {batch}: torch {1e3 * t_min / batch:.1f} / {1e3 * t_med / batch:.1f} "
                f"ms per crop (min / median), onnxruntime {1e3 * o_min / batch:.1f} / "
                f"{1e3 * o_med / batch:.1f} ms per crop ({1e3 * o_cpu / batch:.1f} ms CPU)"
            )


def training(repeats: int) -> None:
    cfg = load_config("hdrm", "lite")
    task = HDRMTask(to_container(cfg))
    g, d = task.generator.train(), task.discriminator.train()
    batch = int(cfg.data.batch_size)
    image, masks = crops(batch, g.config.resolution)
    target = torch.rand_like(image)
    betas = (0.0, 0.9)
    opt_g = torch.optim.Adam(g.parameters(), 1e-4, betas=betas)
    opt_d = torch.optim.Adam(d.parameters(), 1e-5, betas=betas)
    terms_of = HDRLossTerms()

    def step() -> None:
        out = g(image, masks)
        loss_d = discriminator_loss(
            d(target, out.m_d, out.m_r), d(out.composite.detach(), out.m_d, out.m_r)
        )
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        d.requires_grad_(False)
        fake = d(out.composite, out.m_d, out.m_r)
        d.requires_grad_(True)
        loss = hdr_loss(
            terms_of(out.raw, out.composite, target, out.m_d, out.m_r, fake), task.weights
        )
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()

    start_cpu = cpu_seconds()
    s_min, s_med = timed(step, repeats, warmup=2)
    cpu = (cpu_seconds() - start_cpu) / (repeats + 2)
    steps = int(cfg.stage1.max_steps) + int(cfg.stage2.max_steps)
    print(f"lite training step (batch {batch}): {s_min:.2f} / {s_med:.2f} s wall (min / median), "
          f"{cpu:.2f} s CPU; stage 1 + stage 2 = {steps} steps -> "
          f"{steps * s_min / 60:.0f} min at the minimum step time")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--paper", action="store_true", help="also time the paper config")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads")
    for name in ("lite", "paper") if args.paper else ("lite",):
        inference(name, args.repeats, args.threads)
    training(max(args.repeats // 5, 3))


if __name__ == "__main__":
    main()
