"""Small generated datasets shared by the synth tests (tiny images, a few samples)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from handhdr.datasets.interhand_format import annotation_file
from handhdr.hand.layer import HandLayer
from handhdr.hand.loader import load_hand_model
from handhdr.joints import HAND_SLICES
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


def _mano_checked_hands(root: Path, split: str = "test") -> int:
    layers = {side: HandLayer(load_hand_model("builtin", side)) for side in ("right", "left")}
    mano = json.loads(annotation_file(root, split, "MANO_NeuralAnnot").read_text())
    joint_3d = json.loads(annotation_file(root, split, "joint_3d").read_text())
    checked = 0
    for capture, frames in mano.items():
        for frame, fits in frames.items():
            world = np.array(joint_3d[capture][frame]["world_coord"])
            for side, fit in fits.items():
                if fit is None:
                    continue
                assert fit["hand_model"] == "builtin"
                params = [
                    torch.tensor([fit[k]], dtype=torch.float64) for k in ("pose", "shape", "trans")
                ]
                joints = layers[side](*params).joints[0].numpy() * 1000
                np.testing.assert_allclose(joints, world[HAND_SLICES[side]], atol=0.05)
                checked += 1
    return checked


@pytest.fixture(scope="session")
def mano_checked_hands():
    """``mano_checked_hands(root)``: run the hand model on every MANO entry of a split,
    assert it reproduces the world joints, return how many hands were checked."""
    return _mano_checked_hands
