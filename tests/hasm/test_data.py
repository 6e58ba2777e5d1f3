import numpy as np
import pytest
import torch

from handhdr.datasets.masks import mask_path
from handhdr.datasets.schema import Sample
from handhdr.hasm.augment import ViewConfig
from handhdr.hasm.chirality import facing_and_orientation
from handhdr.hasm.data import HASMDataModule, SegmentationViews, known_masks
from handhdr.hasm.fixtures import make_mask_fixture
from handhdr.training.config import load_config
from handhdr.training.sources import open_source


def fake_sample(unknown=()):
    image = np.zeros((20, 30, 3), np.uint8)
    masks = np.zeros((4, 20, 30), bool)
    masks[0, 5:10, 2:8] = True  # a right hand on the left
    return Sample(
        file_name="a.jpg",
        image_path="a.jpg",
        hand_type="right",
        joints_cam=np.zeros((42, 3), np.float32),
        joints_img=np.zeros((42, 2), np.float32),
        joint_valid=np.zeros(42, bool),
        intrinsics=np.eye(3, dtype=np.float32),
        image=image,
        masks=masks,
        meta={"unknown_masks": list(unknown)},
    )


def test_views_are_uint8_images_and_bool_masks():
    views = SegmentationViews([fake_sample()], ViewConfig(size=32), train=True)
    item = views[0]
    assert item["image"].shape == (3, 32, 32) and item["image"].dtype == torch.uint8
    assert item["masks"].shape == (4, 32, 32) and item["masks"].dtype == torch.bool
    assert item["known"].tolist() == [True] * 4


def test_unknown_masks_follow_the_flip():
    sample = fake_sample(unknown=["left_amodal"])
    assert known_masks(sample).tolist() == [True, True, False, True]
    torch.manual_seed(0)  # views draw from torch's RNG; a hand-centred view always holds the hand
    cfg = ViewConfig(size=32, flip_prob=1.0, hand_window_prob=1.0)
    flip = SegmentationViews([sample], cfg, train=True)[0]
    assert flip["known"].tolist() == [False, True, True, True]  # now the right amodal
    assert flip["masks"][2].any() and not flip["masks"][0].any()
    with pytest.raises(ValueError, match="unknown_masks"):
        known_masks(fake_sample(unknown=["left_hand"]))


def test_training_views_carry_the_cues_mirrored_with_the_view():
    sample = fake_sample()
    sample.joint_valid[:21] = True  # the right hand; only the palm joints matter
    sample.joints_cam[:21] = [0.0, 0.0, 500.0]
    wrist, index_mcp, middle_mcp, pinky_mcp = 20, 7, 11, 19
    sample.joints_cam[[wrist, index_mcp, pinky_mcp]] = [
        [0, 0, 500],
        [10, -60, 500],
        [-30, -50, 500],
    ]
    sample.joints_img[[wrist, index_mcp, middle_mcp, pinky_mcp]] = [[5, 15], [6, 5], [5, 3], [3, 6]]
    facing, orientation = facing_and_orientation(
        sample.joints_cam[:21], sample.joints_img[:21], left=False
    )
    # unit vectors wrist -> middle MCP and pinky MCP -> index MCP
    forward, across = [0.0, -1.0], [3 / 10**0.5, -1 / 10**0.5]
    torch.manual_seed(0)
    plain = SegmentationViews([sample], ViewConfig(size=32, flip_prob=0.0), train=True)[0]
    np.testing.assert_allclose(
        plain["cues"], [[facing, orientation, *forward, *across], [0.0] * 6], atol=1e-6
    )
    assert plain["cues_known"].tolist() == [True, False]
    flip = SegmentationViews([sample], ViewConfig(size=32, flip_prob=1.0), train=True)[0]
    mirrored = [facing, 1 - orientation, -forward[0], forward[1], -across[0], across[1]]
    np.testing.assert_allclose(flip["cues"], [[0.0, 1.0, 0, 0, 0, 0], mirrored], atol=1e-6)
    assert flip["cues_known"].tolist() == [False, True]
    val = SegmentationViews([sample], ViewConfig(size=32), train=False)[0]
    assert "cues" not in val


def test_a_sample_without_masks_is_named():
    sample = fake_sample()
    sample.masks = None
    with pytest.raises(ValueError, match="a.jpg: this sample has no masks"):
        SegmentationViews([sample], ViewConfig(size=32), train=True)[0]


def test_data_module_reads_interhand_layout_with_masks(tmp_path):
    make_mask_fixture(tmp_path / "ds", "train", seed=0)
    make_mask_fixture(tmp_path / "ds", "val", seed=1)
    cfg = load_config(
        "hasm",
        "lite",
        ["input_size=32", "data.batch_size=4", "data.num_workers=0", "data.val_max_samples=5"],
        data=[str(tmp_path / "ds")],
    )
    dm = HASMDataModule(cfg)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["image"].shape == (4, 3, 32, 32) and batch["masks"].shape == (4, 4, 32, 32)
    assert len(dm.val_set) == 5
    # the validation view is the ground-truth two-hand box: hands fill it
    val = next(iter(dm.val_dataloader()))
    assert val["masks"][:, [0, 2]].any(1).float().mean() > 0.02


def test_masks_of_the_reader_are_what_was_written(tmp_path):
    make_mask_fixture(tmp_path / "ds", "train", seed=0)
    reader = open_source(tmp_path / "ds", "interhand", "train")
    sample = reader[0]
    assert mask_path(tmp_path / "ds", "train", sample.file_name).is_file()
    assert sample.masks.shape == (4, *sample.image.shape[:2])
