import types

import numpy as np
import pytest
import torch

from handhdr.hasm.inference import InferenceSettings
from handhdr.hasm.loss import cue_loss, hasm_loss
from handhdr.hasm.training import (
    STAGE,
    HASMTask,
    model_config,
    parameter_groups,
    weights_metadata,
)
from handhdr.hasm.weights import save_hasm
from handhdr.training.config import load_config, to_container


def tiny_task_config(warmup_steps=0, extra=()):
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
            *extra,
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


def test_cue_head_learns_the_cues_and_is_not_shipped():
    torch.manual_seed(0)
    task = HASMTask(tiny_task_config(extra=["loss.cue_weight=1.0"]))
    task.log = lambda *args, **kwargs: None
    batch = blob_batch()
    n = batch["image"].shape[0]
    # the right hand (bright) faces the camera, the left one (dark) turns clockwise;
    # their directions differ too
    batch["cues"] = torch.tensor(
        [[1.0, 0.0, 0.0, -1.0, 1.0, 0.0], [0.0, 1.0, 0.6, 0.8, -0.8, 0.6]]
    ).repeat(n, 1, 1)
    batch["cues_known"] = torch.ones(n, 2, dtype=torch.bool)
    optimizer = task.configure_optimizers()["optimizer"]
    cue_ids = {id(p) for p in task.cue_head.parameters()}
    assert any(id(p) in cue_ids and g["lr"] == pytest.approx(2e-2) for g in
               optimizer.param_groups for p in g["params"])  # fmt: skip

    def cue_loss_now():
        with torch.no_grad():
            fused = task.model.decoder.fuse(task.model.features(batch["image"].float() / 255))
            visible = batch["masks"][:, [1, 3]]
            return float(
                cue_loss(task.cue_head(fused), visible, batch["cues"], batch["cues_known"])[0]
            )

    task.eval()
    before = cue_loss_now()
    task.train()
    for _ in range(15):
        optimizer.zero_grad()
        task.training_step(batch, 0).backward()
        optimizer.step()
    task.eval()
    assert cue_loss_now() < 0.6 * before
    shipped = STAGE.shipped_model(task)
    assert not any("cue" in key for key in shipped.state_dict())
    assert set(shipped.state_dict()) == set(HASMTask(tiny_task_config()).model.state_dict())


def test_init_copies_a_weights_file_and_names_a_mismatch(tmp_path):
    torch.manual_seed(1)
    source = HASMTask(tiny_task_config())
    path = save_hasm(source.model, tmp_path / "w.safetensors", _settings(), dtype=torch.float32)
    task = HASMTask(tiny_task_config(extra=[f"init={path}"]))
    task.trainer = types.SimpleNamespace(ckpt_path=None)  # what setup reads of the trainer
    task.setup("fit")
    for key, value in source.model.state_dict().items():
        torch.testing.assert_close(task.model.state_dict()[key], value)
    wider = HASMTask(tiny_task_config(extra=[f"init={path}", "model.decoder_width=8"]))
    wider.trainer = types.SimpleNamespace(ckpt_path=None)
    with pytest.raises(ValueError, match="w.safetensors: its network does not match"):
        wider.setup("fit")


def test_validation_counts_the_swapped_sides():
    task = HASMTask(tiny_task_config())
    batch = blob_batch(n=2)

    class Perfect(torch.nn.Module):  # logits that reproduce the ground-truth masks
        def forward(self, images):
            fg = batch["masks"].float() * 20 - 10
            return torch.stack([torch.zeros_like(fg), fg], dim=2)

    task.model = Perfect()
    task.validation_step(batch, 0)
    inter, union = task._val_inter.numpy(), task._val_union.numpy()
    np.testing.assert_allclose(inter[0], union[0])  # as predicted: IoU 1 for each mask
    assert (inter[1] < union[1]).all()  # sides exchanged: the two squares rarely coincide
    np.testing.assert_allclose(inter[2], union[2])  # matched per image: as predicted

    swapped = dict(batch, masks=batch["masks"].clone())
    swapped["masks"][1] = batch["masks"][1, [2, 3, 0, 1]]  # image 1's sides exchanged
    task.on_validation_epoch_start()
    task.validation_step(swapped, 0)
    inter, union = task._val_inter.numpy(), task._val_union.numpy()
    assert (inter[0] < union[0]).all()  # image 1 now scores badly as predicted
    np.testing.assert_allclose(inter[2], union[2])  # the oracle exchanges it back


def test_side_invariant_training_ignores_which_hand_is_which():
    batch = blob_batch(n=4)
    swapped = dict(batch, masks=batch["masks"].clone())
    swapped["masks"][::2] = batch["masks"][::2][:, [2, 3, 0, 1]]  # half the labels exchanged
    for invariant in (False, True):
        torch.manual_seed(0)
        task = HASMTask(tiny_task_config(extra=[f"loss.side_invariant={invariant}"]))
        task.log = lambda *args, **kwargs: None
        same = torch.isclose(task.training_step(batch, 0), task.training_step(swapped, 0))
        assert bool(same) is invariant


def _settings():
    return InferenceSettings.from_dict(weights_metadata(tiny_task_config())["inference"])
