import pytest

from handhdr.hasm.model import HASMConfig


@pytest.fixture
def tiny_config() -> HASMConfig:
    """A MiT small enough for unit tests (dims 8-64, one block per stage)."""
    return HASMConfig(
        hidden_sizes=[8, 16, 32, 64],
        depths=[1, 1, 1, 1],
        num_attention_heads=[1, 2, 4, 8],
        decoder_width=16,
        dropout=0.0,
        drop_path_rate=0.0,
    )
