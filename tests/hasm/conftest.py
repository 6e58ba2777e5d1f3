import pytest

from handhdr.hasm.model import HASMConfig
from handhdr.pipeline.fixtures import tiny_hasm_config


@pytest.fixture
def tiny_config() -> HASMConfig:
    """A MiT small enough for unit tests (dims 8-64, one block per stage)."""
    return tiny_hasm_config()
