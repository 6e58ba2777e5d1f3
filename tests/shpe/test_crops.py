"""Context crops of a dataset's hands and their resumable cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from handhdr.datasets.interhand import InterHandDataset
from handhdr.joints import HAND_SLICES, MIDDLE_MCP, WRIST
from handhdr.shpe.augment import centre_view
from handhdr.shpe.crops import (
    CachedCrops,
    ContextCrops,
    CropSettings,
    build_cache,
    cache_key,
    hand_entries,
    mean_reference_bone,
)
from handhdr.shpe.hands import crop_hand

SETTINGS = CropSettings(input_size=24, box_scale=2.0, context=1.5)


@pytest.fixture(scope="module")
def reader(sh_root) -> InterHandDataset:
    return InterHandDataset(sh_root, "train")


def test_hand_entries_are_the_usable_single_hands(reader):
    entries = hand_entries(reader, ["right", "left"], min_valid_joints=15)
    types, valid = reader.hand_types, reader.joint_valid
    assert len(entries) > 0
    for row, h in entries:
        hand = ("right", "left")[h]
        assert types[row] == hand
        v = valid[row, HAND_SLICES[hand]]
        assert v[WRIST] and v[MIDDLE_MCP] and v.sum() >= 15
    singles = np.isin(types, ("right", "left")).sum()
    assert len(hand_entries(reader, ["right", "left"], 0)) <= singles
    assert len(hand_entries(reader, ["right"], 0)) < len(hand_entries(reader, ["right", "left"], 0))
    with pytest.raises(ValueError, match="hand_types"):
        hand_entries(reader, ["both"])


def test_the_centre_of_a_context_crop_is_the_network_crop(reader):
    entries = hand_entries(reader, ["right", "left"])
    crops = ContextCrops(reader, entries, SETTINGS)
    assert SETTINGS.context_size == 36
    for index in (0, len(crops) - 1):
        item = crops[index]
        row, h = entries[index]
        direct = crop_hand(reader[int(row)], ("right", "left")[h], 24)
        view, joints = centre_view(item["image"], item["joints_2d"], 24)
        # the same sample positions; OpenCV's fixed-point warp may round one level apart
        np.testing.assert_allclose(view, direct.image, atol=1)
        np.testing.assert_allclose(joints, direct.joints_2d, atol=1e-4)
        np.testing.assert_allclose(item["joints_3d"], direct.joints_3d, atol=1e-4)


class Interrupted(ContextCrops):
    """Dies at one index, like a killed run."""

    def __init__(self, *args, fail_at: int) -> None:
        super().__init__(*args)
        self.fail_at = fail_at

    def __getitem__(self, index):
        if index == self.fail_at:
            raise KeyboardInterrupt
        return super().__getitem__(index)


def test_cache_resumes_after_a_kill_and_matches_an_uninterrupted_one(reader, tmp_path):
    entries = hand_entries(reader, ["right", "left"])
    full = build_cache(ContextCrops(reader, entries, SETTINGS), tmp_path / "a", chunk=4,
                       progress=False)  # fmt: skip
    folder = tmp_path / "b"
    with pytest.raises(KeyboardInterrupt):
        build_cache(Interrupted(reader, entries, SETTINGS, fail_at=6), folder, chunk=4,
                    progress=False)  # fmt: skip
    assert not (folder / "meta.json").exists()
    assert json.loads((folder / "progress.json").read_text())["done"] == 4
    with pytest.raises(FileNotFoundError, match="not a complete"):
        CachedCrops(folder)
    resumed = build_cache(
        Interrupted(reader, entries, SETTINGS, fail_at=2), folder, chunk=4, progress=False
    )  # fmt: skip  (index 2 was done before: not re-read)
    assert len(resumed) == len(full) == len(entries)
    for name in ("images", "joints_2d", "joints_3d", "valid", "rows", "hands"):
        np.testing.assert_array_equal(resumed.arrays[name], full.arrays[name])
    item, direct = full[3], ContextCrops(reader, entries, SETTINGS)[3]
    for key in ("image", "joints_2d", "joints_3d", "valid"):
        np.testing.assert_array_equal(item[key], direct[key])
    assert mean_reference_bone(full) == pytest.approx(
        mean_reference_bone(ContextCrops(reader, entries, SETTINGS)), rel=1e-5
    )
    assert (
        build_cache(ContextCrops(reader, entries[:1], SETTINGS), tmp_path / "a").meta == full.meta
    )


def test_cache_key_depends_on_every_setting(sh_root):
    base = cache_key(sh_root, "train", SETTINGS, {"min": 10})
    assert base == cache_key(sh_root, "train", SETTINGS, {"min": 10})
    assert base != cache_key(sh_root, "val", SETTINGS, {"min": 10})
    assert base != cache_key(sh_root, "train", CropSettings(24, 2.0, 2.0), {"min": 10})
    assert base != cache_key(sh_root, "train", SETTINGS, {"min": 5})


@pytest.fixture(scope="module")
def ih_reader(tmp_path_factory) -> InterHandDataset:
    """Interacting hands whose HDR ground truth differs from the frame (tests/hdrm)."""
    from handhdr.hdrm.fixtures import write_hdr_dataset

    return write_hdr_dataset(tmp_path_factory.mktemp("shpe_hdr_gt"), "train", seed=4)


def test_interacting_hands_are_cut_from_the_frame_or_their_hdr_gt(ih_reader):
    entries = hand_entries(ih_reader, ["interacting"], min_valid_joints=0)
    assert len(entries) == 2 * len(ih_reader)
    frame = ContextCrops(ih_reader, entries, SETTINGS, interacting_view="image")
    clean = ContextCrops(ih_reader, entries, SETTINGS, interacting_view="hdr_gt")
    size, scale = SETTINGS.context_size, SETTINGS.context_box_scale
    differs = 0
    for index in range(len(entries)):
        row, h = (int(v) for v in entries[index])
        sample, hand = ih_reader[row], ("right", "left")[h]
        a, b = frame[index], clean[index]
        np.testing.assert_array_equal(a["image"], crop_hand(sample, hand, size, scale).image)
        expected = crop_hand(sample, hand, size, scale, image=sample.hdr_gt[hand]).image
        np.testing.assert_array_equal(b["image"], expected)
        for key in ("joints_2d", "joints_3d", "valid"):  # only the pixels change
            np.testing.assert_array_equal(a[key], b[key])
        differs += int(np.abs(a["image"].astype(int) - b["image"]).max() > 20)
    assert differs >= len(entries) // 2  # the other hand is gone from the clean crops


def test_hdr_gt_crops_need_the_ground_truth(ih_reader, tmp_path):
    entries = hand_entries(ih_reader, ["interacting"], min_valid_joints=0)
    without = InterHandDataset(ih_reader.root, "train", load_hdr_gt=False)
    with pytest.raises(ValueError, match="load_hdr_gt"):
        ContextCrops(without, entries, SETTINGS, interacting_view="hdr_gt")
    with pytest.raises(ValueError, match="interacting_view"):
        ContextCrops(ih_reader, entries, SETTINGS, interacting_view="clean")
    import shutil

    from handhdr.datasets.masks import hdr_gt_path

    root = tmp_path / "copy"
    shutil.copytree(ih_reader.root, root)
    sample = ih_reader[int(entries[0, 0])]
    missing = hdr_gt_path(root, "train", sample.file_name, "right")
    missing.unlink()
    crops = ContextCrops(InterHandDataset(root, "train"), entries, SETTINGS, "hdr_gt")
    with pytest.raises(FileNotFoundError, match=missing.name):
        crops[0]
