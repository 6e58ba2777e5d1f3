import json
import shutil

import numpy as np
import pytest

from handhdr.datasets.interhand import InterHandDataset
from handhdr.hdrm.cache import (
    CacheSpec,
    CropCache,
    build_crop_cache,
    pack_masks,
    sample_indices,
    unpack_masks,
)
from handhdr.hdrm.data import crop_hand, crop_regions


def _spec(root, **kw):
    values = dict(root=str(root), kind="interhand", split="train", resolution=32, scale=2.0,
                  masks="gt", min_erased=4, shard_size=2)  # fmt: skip
    values.update(kw)
    return CacheSpec(**values)


def test_pack_round_trip_and_even_indices():
    masks = np.random.default_rng(0).random((3, 4, 5, 6)) > 0.5
    np.testing.assert_array_equal(unpack_masks(pack_masks(masks)), masks)
    np.testing.assert_array_equal(sample_indices(10, 4), [0, 3, 6, 9])
    np.testing.assert_array_equal(sample_indices(3, None), [0, 1, 2])


def test_cache_holds_the_crops_of_every_hand_with_something_to_inpaint(hdr_dataset, tmp_path):
    reader = InterHandDataset(hdr_dataset, "train", load_hdr_gt=True)
    spec = _spec(hdr_dataset)
    folder = build_crop_cache(reader, tmp_path / "cache", spec, progress=False)
    cache = CropCache(folder)
    expected = []
    for i in range(len(reader)):
        s = reader[i]
        for hand in ("right", "left"):
            crop = crop_hand(s.image, s.masks, hand, 32, 2.0, s.hdr_gt[hand])
            m_d, m_r = crop_regions(crop.masks)
            if (m_d | m_r).sum() >= 4:
                expected.append(crop)
    assert len(cache) == len(expected) > 0
    assert cache.manifest["samples"] == len(reader)
    for k, crop in enumerate(expected):
        item = cache[k]
        np.testing.assert_array_equal(item["image"].numpy().transpose(1, 2, 0), crop.image)
        np.testing.assert_array_equal(item["target"].numpy().transpose(1, 2, 0), crop.target)
        np.testing.assert_array_equal(item["masks"].numpy().astype(bool), crop.masks)


def test_interrupted_build_resumes_to_the_same_cache(hdr_dataset, tmp_path):
    reader = InterHandDataset(hdr_dataset, "train", load_hdr_gt=True)
    spec = _spec(hdr_dataset)
    folder = build_crop_cache(reader, tmp_path / "a", spec, progress=False)
    reference = [CropCache(folder)[k] for k in range(len(CropCache(folder)))]
    # a killed build: no manifest, the last shard missing, a temporary folder left over
    (folder / "manifest.json").unlink()
    shards = sorted(folder.glob("shard_*"))
    shutil.rmtree(shards[-1])
    (folder / ".shard_00002.abc.tmp").mkdir()
    with pytest.raises(FileNotFoundError, match="not a finished"):
        CropCache(folder)
    build_crop_cache(reader, folder, spec, progress=False)
    again = CropCache(folder)
    assert len(again) == len(reference)
    for a, b in zip(reference, (again[k] for k in range(len(again))), strict=True):
        assert all((a[key] == b[key]).all() for key in a)


def test_a_cache_refuses_another_spec(hdr_dataset, tmp_path):
    reader = InterHandDataset(hdr_dataset, "train", load_hdr_gt=True)
    folder = build_crop_cache(reader, tmp_path / "c", _spec(hdr_dataset), progress=False)
    with pytest.raises(ValueError, match="another spec"):
        build_crop_cache(reader, folder, _spec(hdr_dataset, resolution=64), progress=False)
    assert _spec(hdr_dataset).folder_name() != _spec(hdr_dataset, masks="hasm:ab").folder_name()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["count"] == sum(s["count"] for s in manifest["shards"])


def test_max_samples_and_mask_source(hdr_dataset, tmp_path):
    reader = InterHandDataset(hdr_dataset, "train", load_hdr_gt=True)
    calls = []

    def no_hands(sample):
        calls.append(sample.file_name)
        return np.zeros_like(sample.masks)

    spec = _spec(hdr_dataset, max_samples=3, masks="hasm:test")
    cache = CropCache(build_crop_cache(reader, tmp_path / "d", spec, no_hands, progress=False))
    assert len(calls) == 3 and len(cache) == 0
