"""SHPE training data: views, the cached data module, the training hands' bone prior."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from handhdr.shpe.augment import AugmentConfig
from handhdr.shpe.config import crop_settings
from handhdr.shpe.crops import ContextCrops, CropSettings, hand_entries
from handhdr.shpe.data import HandViews, SHPEDataModule, open_interhand
from handhdr.training.config import load_config


def _config(sh_root, tmp_path, **extra):
    overrides = [
        "input_size=32", "data.batch_size=2", "data.num_workers=0",
        f"run.root={tmp_path}", *[f"{k}={v}" for k, v in extra.items()],
    ]  # fmt: skip
    return load_config("shpe", "lite", overrides, data=[str(sh_root)])


def test_views_have_the_network_layout(sh_root):
    reader = open_interhand(str(sh_root), "auto", "train")
    crops = ContextCrops(reader, hand_entries(reader, ["right", "left"]), CropSettings(32))
    for train in (True, False):
        item = HandViews(crops, 32, train=train, augment=AugmentConfig())[0]
        assert item["image"].shape == (3, 32, 32) and item["image"].dtype == torch.uint8
        assert item["joints_2d"].shape == (21, 2) and item["joints_3d"].shape == (21, 3)
        assert item["valid"].dtype == torch.bool
    still = HandViews(crops, 32, train=False)[0]
    np.testing.assert_allclose(still["joints_3d"].numpy(), crops[0]["joints_3d"])


def test_data_module_builds_caches_and_measures_the_bone(sh_root, tmp_path):
    cfg = _config(sh_root, tmp_path)
    module = SHPEDataModule(cfg)
    module.prepare_data()
    caches = sorted(p.name for p in (tmp_path / "cache" / "shpe").iterdir())
    assert len(caches) == 2 and all((tmp_path / "cache" / "shpe" / c / "meta.json").is_file()
                                    for c in caches)  # fmt: skip
    module.setup("fit")
    batch = next(iter(module.train_dataloader()))
    assert batch["image"].shape == (2, 3, 32, 32)
    assert len(module.val_set) > 0
    reader = open_interhand(str(sh_root), "auto", "train")
    entries = hand_entries(reader, ["right", "left"])
    joints, _ = reader.camera_joints(entries[:, 0])
    hands = [joints[i, 21 * h : 21 * h + 21] for i, h in enumerate(entries[:, 1])]
    bones = [np.linalg.norm(j[11] - j[20]) for j in hands]
    assert module.reference_bone_mm == pytest.approx(float(np.mean(bones)), rel=1e-4)


def test_aih_folders_are_refused_with_a_reason(tmp_path):
    (tmp_path / "syn_cfgs").mkdir()
    with pytest.raises(ValueError, match="no joint annotations"):
        open_interhand(str(tmp_path), "auto", "train")


def test_a_split_without_usable_hands_is_refused(sh_root, tmp_path):
    cfg = _config(sh_root, tmp_path, **{"data.min_valid_joints": 22})
    with pytest.raises(ValueError, match="no usable hand"):
        SHPEDataModule(cfg).prepare_data()


def test_interacting_hands_train_from_their_hdr_gt_and_never_validate(sh_root, tmp_path):
    from handhdr.hdrm.fixtures import write_hdr_dataset

    ih_root = tmp_path / "ih"
    ih = write_hdr_dataset(ih_root, "train", seed=1)
    write_hdr_dataset(ih_root, "val", seed=2)  # interacting only: nothing to validate on
    overrides = [
        "input_size=32", "data.batch_size=2", "data.num_workers=0", f"run.root={tmp_path}",
        "data.hand_types=[right,left,interacting]", "data.interacting_view=hdr_gt",
    ]  # fmt: skip
    cfg = load_config("shpe", "lite", overrides, data=[str(sh_root), str(ih_root)])
    module = SHPEDataModule(cfg)
    module.prepare_data()
    module.setup("fit")
    sh = open_interhand(str(sh_root), "auto", "train")
    singles = len(hand_entries(sh, ["right", "left"]))
    interacting = len(hand_entries(ih, ["interacting"]))
    assert interacting == 2 * len(ih)
    assert len(module.train_set) == singles + interacting
    sh_val = open_interhand(str(sh_root), "auto", "val")
    assert len(module.val_set) == len(hand_entries(sh_val, ["right", "left"]))
    # the clean crops were cached: the interacting images' pixels come from hdr_gt
    cached = module.train_set.datasets[1].crops
    reader = open_interhand(str(ih_root), "auto", "train", hdr_gt=True)
    clean = ContextCrops(reader, hand_entries(ih, ["interacting"]), crop_settings(cfg), "hdr_gt")
    framed = ContextCrops(reader, hand_entries(ih, ["interacting"]), crop_settings(cfg))
    for index in (0, len(clean) - 1):
        np.testing.assert_array_equal(cached[index]["image"], clean[index]["image"])
    assert any(
        not np.array_equal(cached[i]["image"], framed[i]["image"]) for i in range(len(clean))
    )
