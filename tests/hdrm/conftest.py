from pathlib import Path

import pytest

from handhdr.hdrm.fixtures import write_hdr_dataset
from handhdr.hdrm.network import HDRNetConfig, TransformerSpec


@pytest.fixture
def tiny_config() -> HDRNetConfig:
    """A 5-level HDRNet at 32x32 with two transformer blocks: fast on a CPU."""
    return HDRNetConfig(
        resolution=32,
        channels=(8, 16, 16, 16, 16),
        kernels=(7, 5, 5, 3, 3),
        transformer=(TransformerSpec("enc3", 2, 2, 2), TransformerSpec("dec3", 1, 2, 2)),
        composite_dilation=1,
    )


@pytest.fixture(scope="session")
def hdr_dataset(tmp_path_factory) -> Path:
    """train (6 images) and test (4 images) splits of :func:`write_hdr_dataset`."""
    root = tmp_path_factory.mktemp("hdr_dataset")
    write_hdr_dataset(root, "train", seed=1, num_frames=3)
    write_hdr_dataset(root, "test", seed=2, num_frames=2)
    return root
