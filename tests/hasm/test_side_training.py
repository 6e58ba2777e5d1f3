import csv

import numpy as np
import pytest
import torch

from handhdr.datasets.interhand import InterHandDataset
from handhdr.hasm.fixtures import make_mask_fixture
from handhdr.hasm.side import OUTPUTS, SideCropSettings, load_side
from handhdr.hasm.side_training import (
    SideTask,
    build_crops,
    extract_crops,
    mirror_batch,
    pair_accuracy,
    predicted_hands,
)
from handhdr.training.config import load_config, to_container
from handhdr.training.export import export_run
from handhdr.training.trainer import fit

CROPS = SideCropSettings(size=32, context=40, scale=1.3, min_pixels=10)


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread) -> None:
    """Tiny networks on one torch thread."""


@pytest.fixture(scope="module")
def mask_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("side")
    make_mask_fixture(root, "train", seed=0)
    make_mask_fixture(root, "val", seed=1)
    return root


def test_mirror_batch_flips_side_and_orientation_and_negates_x():
    crops = torch.arange(2 * 4 * 2 * 3, dtype=torch.float32).reshape(2, 4, 2, 3)
    targets = torch.tensor([[1.0, 1, 0, 0.5, 0.75, -1, 0], [0.0, 0, 1, 0.5, 0.75, 0, 1]])
    before_crops, before = crops.clone(), targets.clone()
    mirror_batch(crops, targets, torch.tensor([True, False]))
    assert torch.equal(crops[0], before_crops[0].flip(-1))
    assert torch.equal(crops[1], before_crops[1])
    assert targets[0].tolist() == [0.0, 1, 1, -0.5, 0.75, 1, 0]
    assert torch.equal(targets[1], before[1])
    assert OUTPUTS[1] == "facing"  # the facing (index 1) never changes under a mirror


def test_pair_accuracy_counts_told_apart_pairs():
    left = torch.tensor([0.9, -0.1, 0.2, 0.5, 3.0])
    truth = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0])
    pair = torch.tensor([7, 7, 8, 8, -1])  # image 7 right, image 8 wrong, one single hand
    assert pair_accuracy(left, truth, pair) == 0.5
    assert pair_accuracy(left, truth, torch.full((5,), -1)) is None


def test_extract_crops_one_crop_per_hand_with_its_side(mask_root):
    reader = InterHandDataset(mask_root, "train")
    arrays = extract_crops(reader, 0, len(reader), CROPS, min_pixels=10)
    expected = []
    for i in range(len(reader)):
        sample = reader[i]
        expected += [k for k in (0, 1) if sample.masks[2 * k].sum() >= 10]
    assert arrays["crops"].shape == (len(expected), 40, 40, 4)
    np.testing.assert_array_equal(arrays["targets"][:, 0], np.array(expected, np.float32))
    assert arrays["cues_known"].all()  # the fixture's joints are all valid
    # the mask channel of every crop holds its hand, centred
    centre = arrays["crops"][:, 14:26, 14:26, 3].reshape(len(expected), -1).max(1)
    assert (centre == 255).all()
    directions = arrays["targets"][:, 3:]
    np.testing.assert_allclose(np.linalg.norm(directions[:, :2], axis=1), 1.0, atol=1e-5)


def test_build_crops_resumes_from_its_parts(mask_root, tmp_path):
    reader = InterHandDataset(mask_root, "train")
    first = build_crops(reader, tmp_path / "c", CROPS, 10, chunk=5, progress=False)
    parts = sorted((tmp_path / "c").glob("part-*.npz"))
    assert len(parts) == -(-len(reader) // 5)
    stamps = {p: p.stat().st_mtime_ns for p in parts[:-1]}
    parts[-1].unlink()  # a build killed before its last part
    again = build_crops(reader, tmp_path / "c", CROPS, 10, chunk=5, progress=False)
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())  # kept, not redone
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])


def tiny_config(root, run_root, steps=30, milestone=1000, extra=()):
    cfg = load_config(
        "side",
        "lite",
        [
            "model.widths=[8,16]",
            "model.hidden=16",
            "crop.size=32",
            "crop.context=40",
            "crop.min_pixels=10",
            "data.min_pixels=10",
            "data.batch_size=8",
            "data.chunk=4",
            f"run.root={run_root}",
            f"trainer.max_steps={steps}",
            "trainer.max_time=null",
            "trainer.val_every_n_steps=10",
            "trainer.checkpoint_every_n_steps=10",
            "trainer.log_every_n_steps=1",
            "trainer.progress_bar=false",
            "trainer.threads=1",
            "optim.lr=3e-3",
            f"optim.milestones=[{milestone}]",
            *extra,
        ],
        data=[str(root)],
    )
    return cfg


def test_a_few_steps_lower_the_loss(mask_root, tmp_path):
    cfg = tiny_config(mask_root, tmp_path)
    torch.manual_seed(0)
    task = SideTask(to_container(cfg))
    reader = InterHandDataset(mask_root, "train")
    arrays = extract_crops(reader, 0, len(reader), task.crop, 10)
    batch = {
        "crop": torch.from_numpy(arrays["crops"]).permute(0, 3, 1, 2).contiguous(),
        "targets": torch.from_numpy(arrays["targets"]),
        "cues_known": torch.from_numpy(arrays["cues_known"]),
    }
    optimizer = torch.optim.Adam(task.parameters(), lr=3e-3)
    task.log = lambda *args, **kwargs: None  # no trainer attached

    def loss() -> torch.Tensor:
        torch.manual_seed(1)  # the same windows, mirrors and jitter each time
        return task.training_step(batch, 0)

    start = float(loss())
    for _ in range(40):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    assert float(loss()) < 0.7 * start


def test_fit_resume_and_load_the_checkpoint(mask_root, tmp_path):
    cfg = tiny_config(mask_root, tmp_path, steps=20)
    first = fit(cfg)
    assert first.global_step == 20 and first.best_checkpoint is not None
    # the resumed leg follows the milestone it is given, not the one it was saved with
    resumed = fit(tiny_config(mask_root, tmp_path, steps=30, milestone=25), resume=True)
    assert resumed.global_step == 30
    rates = {}
    for log in sorted((resumed.run_dir / "logs" / "csv").glob("version_*/metrics.csv")):
        for row in csv.DictReader(log.open()):
            if row.get("lr-AdamW"):
                rates[int(row["step"])] = float(row["lr-AdamW"])
    assert rates[19] == pytest.approx(3e-3) and rates[29] == pytest.approx(3e-4)
    net, crops = load_side(resumed.last_checkpoint)
    assert crops.size == 32 and net.config.widths == (8, 16)
    x = torch.rand(2, 4, 32, 32)
    assert net(x).shape == (2, len(OUTPUTS))
    weights, card = export_run(resumed.run_dir, tmp_path / "side.safetensors", which="last")
    exported, exported_crops = load_side(weights)
    assert exported_crops == crops
    with torch.no_grad():
        torch.testing.assert_close(exported(x), net(x), atol=2e-2, rtol=1e-2)  # fp16 file
    assert "val/accuracy" in card.read_text()


def test_predicted_hands_are_labelled_by_overlap(mask_root):
    reader = InterHandDataset(mask_root, "train")
    sample = next(
        reader[i] for i in range(len(reader)) if reader[i].masks[[0, 2]].any((1, 2)).all()
    )
    truth = sample.masks.astype(bool)
    junk = np.zeros_like(truth[0])
    junk[:3, :3] = True  # overlaps neither hand

    def exchanged(image):  # a HASM that puts the left hand in slot 0, the right in slot 1
        return truth[[2, 3, 0, 1]]

    hands = predicted_hands(exchanged, min_iou=0.1)(sample)
    assert [k for _, k in hands] == [1, 0]
    assert np.array_equal(hands[0][0], truth[2]) and np.array_equal(hands[1][0], truth[0])
    only_junk = predicted_hands(lambda image: np.stack([junk, junk, truth[2], truth[3]]), 0.1)
    assert [k for _, k in only_junk(sample)] == [1]
    arrays = extract_crops(reader, 0, 1, CROPS, 10, hands=lambda s: hands)
    assert arrays["targets"][:, 0].tolist() == [1.0, 0.0]


def test_pair_accuracy_skips_two_crops_of_one_hand():
    left = torch.tensor([0.9, -0.1, 0.2, 0.5])
    truth = torch.tensor([1.0, 0.0, 1.0, 1.0])
    pair = torch.tensor([7, 7, 8, 8])  # image 8: both crops are of its left hand
    assert pair_accuracy(left, truth, pair) == 1.0


def test_data_module_cuts_hasm_masks_for_training_and_validation(mask_root, tmp_path):
    from handhdr.hasm.inference import InferenceSettings
    from handhdr.hasm.side_training import SideDataModule
    from handhdr.hasm.weights import save_hasm
    from handhdr.pipeline.fixtures import tiny_hasm

    settings = InferenceSettings(size=64, coarse_size=64, side_invariant=True)
    hasm = save_hasm(tiny_hasm(0, ("right", "left")), tmp_path / "h.safetensors", settings)
    overrides = ["data.masks=both", f"data.hasm_weights={hasm}", "data.min_iou=0.0"]
    cfg = tiny_config(mask_root, tmp_path, extra=overrides)
    data = SideDataModule(cfg)
    data.setup("fit")
    truth = len(extract_crops(InterHandDataset(mask_root, "train"), 0, 12, CROPS, 10)["targets"])
    # every slot is on everywhere: two crops per image, labelled by the larger overlap
    assert len(data.train_set) == truth + 2 * 12
    assert len(data.val_set) == 2 * 12
    names = sorted(p.name for p in (tmp_path / "cache" / "side").iterdir())
    assert sum("-hasm-" in n for n in names) == 2 and len(names) == 3
    cfg = tiny_config(mask_root, tmp_path, extra=["data.masks=hasm"])
    with pytest.raises(ValueError, match="data.hasm_weights"):
        SideDataModule(cfg).setup("fit")
