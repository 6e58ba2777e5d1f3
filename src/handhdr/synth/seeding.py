"""Random streams: every sample is a pure function of (seed, index).

The generator of sample ``index`` comes from ``SeedSequence([seed, index])`` (never
``seed + index``, which would make seed 1 / index 0 equal seed 0 / index 1). Inside
one sample, independent child streams (scene, appearance, camera, ...) are spawned
from it, so that a rejection loop drawing more numbers in one part does not shift
the others. Per-capture camera rigs use ``SeedSequence([seed, capture, RIG_TAG])``:
the non-zero tag keeps them apart from every ``[seed, index]`` pair.
"""

from __future__ import annotations

import numpy as np

RIG_TAG = 0x52494721  # "RIG!": seed sequences of camera rigs
STREAMS: tuple[str, ...] = ("kind", "scene", "camera", "appearance", "render", "paste")


def sample_streams(seed: int, index: int) -> dict[str, np.random.Generator]:
    """The named, independent random generators of sample ``index``."""
    if seed < 0 or index < 0:
        raise ValueError(f"seed and index must be >= 0, got seed={seed} index={index}")
    children = np.random.SeedSequence([seed, index]).spawn(len(STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)
    }


def rig_rng(seed: int, capture: int) -> np.random.Generator:
    """The generator of the camera rig of ``capture``."""
    return np.random.default_rng(np.random.SeedSequence([seed, capture, RIG_TAG]))


def derive_seed(rng: np.random.Generator) -> int:
    """A 32-bit seed drawn from ``rng`` (for libraries that take an integer seed)."""
    return int(rng.integers(0, 2**32 - 1, dtype=np.uint64))
