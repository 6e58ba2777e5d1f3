import numpy as np
import pytest
import torch

from handhdr.hasm.loss import hasm_loss
from handhdr.hasm.training import HASMTask, model_config, parameter_groups, weights_metadata
from handhdr.training.config import load_config, to_container


def tiny_task_config(warmup_steps=0):
    cfg = load_config(
        "hasm",
        "lite",
        [
            "input_size=32",
            "inference.size=32",
            "inference.coarse_size=32",
            "model.hidden_sizes=[8,16,32,64]",
            "model.depths=[1,1,1,1]",
            "model.decoder_width=16",
            "model.dropout=0.0",
            f"optim.warmup_steps={warmup_steps}",
            "optim.lr=2e-3",
            "trainer.max_steps=100",
        ],
    )
    return to_container(cfg)


def blob_batch(n=8, size=32, seed=0):
    """Images with a bright square (right hand) and a dark one (left hand)."""
    rng = np.random.default_rng(seed)
    images = np.full((n, 3, size, size), 128, np.uint8)
    masks = np.zeros((n, 4, size, size), bool)
    for i in range(n):
        for hand, value in ((0, 250), (2, 10)):
            y, x = rng.integers(0, size - 12, 2)
            masks[i, hand, y : y + 12, x : x + 12] = True
            images[i, :, y : y + 12, x : x + 12] = value
        masks[i, 1] = masks[i, 0] & ~masks[i, 2]  # the left hand is in front
        masks[i, 3] = masks[i, 2]
    return {
        "image": torch.from_numpy(images),
        "masks": torch.from_numpy(masks),
        "known": torch.ones(n, 4, dtype=torch.bool),
    }


def test_a_few_steps_lower_the_loss():
    torch.manual_seed(0)
    task = HASMTask(tiny_task_config())
    task.log = lambda *args, **kwargs: None  # no trainer attached
    optimizer = task.configure_optimizers()["optimizer"]
    batch = blob_batch()
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = task.training_step(batch, 0)
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    task.eval()
    with torch.no_grad():
        final, _ = hasm_loss(task(batch["image"].float() / 255), batch["masks"])
    assert final < 0.7 * losses[0]


def test_head_learning_rate_is_ten_times_and_norms_have_no_decay():
    task = HASMTask(tiny_task_config())
    groups = parameter_groups(task.model, lr=1e-3, weight_decay=0.01, head_lr_mult=10.0)
    head_ids = {id(p) for p in task.model.head_parameters()}
    for group in groups:
        in_head = {id(p) in head_ids for p in group["params"]}
        assert len(in_head) == 1  # a group is all encoder or all head
        assert group["lr"] == pytest.approx(1e-2 if in_head.pop() else 1e-3)
    norm_weights = {id(h.fuse[1].weight) for h in task.model.decoder.heads}
    for group in groups:
        if any(id(p) in norm_weights for p in group["params"]):
            assert group["weight_decay"] == 0.0
    assert sum(len(g["params"]) for g in groups) == len(list(task.model.parameters()))


def test_warm_up_then_poly_decay():
    task = HASMTask(tiny_task_config(warmup_steps=10))
    opt = task.configure_optimizers()
    scheduler = opt["lr_scheduler"]["scheduler"]
    base = [g["initial_lr"] for g in opt["optimizer"].param_groups]
    assert opt["optimizer"].param_groups[0]["lr"] < 1e-8
    for _ in range(10):
        opt["optimizer"].step()
        scheduler.step()
    # after warm-up: poly (power 1) at step 10 of 100
    for group, lr0 in zip(opt["optimizer"].param_groups, base, strict=True):
        assert group["lr"] == pytest.approx(lr0 * 0.9)


def test_weights_metadata_rebuilds_the_architecture():
    config = tiny_task_config()
    meta = weights_metadata(config)
    assert meta["stage"] == "hasm" and meta["inference"]["size"] == 32
    assert model_config(config).hidden_sizes == [8, 16, 32, 64]
    assert "pretrained" not in meta["model"]
