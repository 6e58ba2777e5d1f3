import json
import shutil

import pytest

from handhdr.synth.config import SynthConfig, SynthConfigError
from handhdr.synth.finalize import IncompleteSplitError, finalize
from handhdr.synth.records import part_path
from handhdr.synth.runner import generate, shard_indices

OPTIONS = {"split": "test", "width": 96, "height": 72, "seed": 5, "mix": {"sh": 0.5, "ih": 0.5}}
NUM = 6


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    result = generate(root, SynthConfig(**OPTIONS), NUM, progress=False)
    assert result.generated == NUM and result.finalized is not None
    return root


def _run(root, num=NUM, **kwargs):
    options = {**OPTIONS, **kwargs.pop("options", {})}
    return generate(root, SynthConfig(**options), num, progress=False, **kwargs)


def test_first_k_samples_equal_a_k_sample_run(reference, tmp_path, dataset_files):
    _run(tmp_path / "k", num=4)
    small = dataset_files(tmp_path / "k")
    big = dataset_files(reference)
    per_sample = [p for p in small if not p.startswith(("annotations/", "synth/test/s"))]
    assert len(per_sample) > 4 * 3 and all(small[p] == big[p] for p in per_sample)
    # finalising the first 4 of the 6-sample run writes the 4-sample run's annotations
    shutil.copytree(reference, tmp_path / "n")
    finalize(tmp_path / "n", "test", 4, progress=False)
    again = dataset_files(tmp_path / "n")
    assert all(again[p] == small[p] for p in small if p.startswith("annotations/"))


def test_different_seeds_differ(reference, tmp_path, dataset_files):
    _run(tmp_path, num=2, options={"seed": 6})
    mine, theirs = dataset_files(tmp_path), dataset_files(reference)
    images = [p for p in mine if p.startswith("images/")]
    assert images and not any(mine[p] == theirs.get(p) for p in images)


def test_resume_after_a_kill_gives_the_same_dataset(reference, tmp_path, dataset_files):
    first = _run(tmp_path, max_new=4)  # killed after 4 samples
    assert first.generated == 4 and first.remaining == 2 and first.finalized is None
    # the kill struck while sample 3 was being written: its record is gone, a
    # temporary file of an atomic write is left behind
    part_path(tmp_path, "test", 3).unlink()
    stray = next((tmp_path / "images").rglob("*.jpg"))
    (stray.parent / f".{stray.stem}.x1y2.tmp.jpg").write_bytes(b"half")
    second = _run(tmp_path)
    assert second.generated == 3 and second.skipped == 3 and second.finalized is not None
    stray_tmp = stray.parent / f".{stray.stem}.x1y2.tmp.jpg"
    stray_tmp.unlink()
    assert dataset_files(tmp_path) == dataset_files(reference)
    assert _run(tmp_path).generated == 0  # a finished split is left alone


def test_shards_then_finalise_equal_one_run(reference, tmp_path, dataset_files):
    """Also the determinism test: every file made again is byte-identical."""
    assert list(shard_indices(7, (1, 3))) == [1, 4]
    a = _run(tmp_path, shard=(0, 2))
    assert a.generated == 3 and a.remaining == 3 and a.finalized is None
    with pytest.raises(IncompleteSplitError, match="3 of 6 samples have no record yet"):
        finalize(tmp_path, "test", NUM, progress=False)
    b = _run(tmp_path, shard=(1, 2))
    assert b.generated == 3 and b.finalized is not None  # the last shard finalises
    assert dataset_files(tmp_path) == dataset_files(reference)


def test_continuing_with_other_options_is_refused(reference, tmp_path):
    shutil.copytree(reference, tmp_path / "d")
    with pytest.raises(SynthConfigError, match="seed: stored 5, now 9"):
        _run(tmp_path / "d", options={"seed": 9})


def test_stats_count_what_was_made(reference):
    stats = json.loads((reference / "synth" / "test" / "stats.json").read_text())
    assert stats["num"] == NUM and sum(stats["hand_types"].values()) == NUM
    assert sum(stats["scenes"].values()) == NUM
    scenes = json.loads((reference / "synth" / "test" / "scenes.json").read_text())
    ih = [s for s in scenes if len(s["occlusion"]) == 2]
    assert stats["occlusion"]["ih_max"]["count"] == len(ih)
    assert sum(stats["occlusion"]["ih_max"]["histogram"]) == len(ih)
