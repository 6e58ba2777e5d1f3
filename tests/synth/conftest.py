"""Small generated datasets shared by the synth tests (tiny images, a few samples)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handhdr.synth.config import SynthConfig
from handhdr.synth.runner import generate

SMALL = {"width": 128, "height": 96}


def _dataset_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(Path(root).rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def dataset_files():
    """``dataset_files(root)``: every file under root (relative POSIX path -> bytes)."""
    return _dataset_files


@pytest.fixture(scope="session")
def make_split(tmp_path_factory):
    """``make_split(name, num, **config)``: generate (once per name) and return the root."""
    made: dict[str, Path] = {}

    def make(name: str, num: int, shard=(0, 1), max_new=None, root=None, **options) -> Path:
        if name in made and root is None:
            return made[name]
        target = root if root is not None else tmp_path_factory.mktemp(name)
        config = SynthConfig(**{"split": "test", **SMALL, **options})
        generate(target, config, num, shard=shard, progress=False, max_new=max_new)
        if root is None:
            made[name] = target
        return target

    return make


@pytest.fixture(scope="session")
def test_split(make_split) -> Path:
    """8 test images, mostly two-hand, seed 11."""
    return make_split("main", 8, seed=11, mix={"sh": 0.35, "ih": 0.65})
