import pytest

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
