import logging

import pytest
import torch

from handhdr.datasets.schema import MASK_NAMES
from handhdr.hasm.model import (
    HASM,
    MIT_VARIANTS,
    HASMConfig,
    build_hasm,
    foreground_logits,
    segformer_config,
)
from handhdr.pipeline.fixtures import tiny_hasm_config

TINY = tiny_hasm_config()


def test_four_heads_at_quarter_resolution():
    model = HASM(TINY).eval()
    logits = model(torch.rand(2, 3, 64, 96))
    assert logits.shape == (2, len(MASK_NAMES), 2, 16, 24)
    assert foreground_logits(logits).shape == (2, 4, 16, 24)
    # the heads are separate: the same input gives four different maps
    assert not torch.allclose(logits[:, 0], logits[:, 1])
    assert len(model.decoder.heads) == 4 and len(model.decoder.projections) == 4


def test_heads_share_projections_but_own_fuse_dropout_classifier():
    model = HASM(TINY)
    heads = model.decoder.heads
    assert len({id(h.fuse) for h in heads}) == 4
    assert len({id(h.classifier) for h in heads}) == 4
    assert all(h.classifier.out_channels == 2 for h in heads)
    assert heads[0].fuse[0].in_channels == 4 * TINY.decoder_width  # 4 shared projections


def test_mit_sizes_match_segformer():
    b0 = segformer_config(HASMConfig(variant="b0"))
    assert b0.hidden_sizes == [32, 64, 160, 256] and b0.depths == [2, 2, 2, 2]
    b5 = segformer_config(HASMConfig(variant="b5", decoder_width=256))
    assert b5.hidden_sizes == [64, 128, 320, 512] and b5.depths == [3, 6, 40, 3]
    assert b5.num_attention_heads == [1, 2, 5, 8] and b5.sr_ratios == [8, 4, 2, 1]
    assert b5.patch_sizes == [7, 3, 3, 3] and b5.strides == [4, 2, 2, 2]
    assert [MIT_VARIANTS[f"b{i}"]["depths"][2] for i in range(6)] == [2, 2, 6, 18, 27, 40]


def test_bad_configs_are_explained():
    with pytest.raises(ValueError, match="variant"):
        segformer_config(HASMConfig(variant="b9"))
    with pytest.raises(ValueError, match="divisible"):
        segformer_config(HASMConfig(hidden_sizes=[8, 16, 32, 64], depths=[1, 1, 1, 1]))
    with pytest.raises(ValueError, match="together"):
        HASMConfig(hidden_sizes=[8, 16, 32, 64]).encoder_dims()
    with pytest.raises(ValueError, match="unknown HASM model keys"):
        HASMConfig.from_dict({"varient": "b0"})
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        HASM(TINY)(torch.rand(1, 4, 32, 32))


def test_pretrained_encoder_from_a_local_folder(tmp_path):
    from transformers import SegformerModel

    source = SegformerModel(segformer_config(TINY))
    source.save_pretrained(tmp_path / "mit")
    model = build_hasm(TINY, pretrained=str(tmp_path / "mit"))
    for key, value in source.state_dict().items():
        torch.testing.assert_close(model.encoder.state_dict()[key], value)


def test_missing_pretrained_weights_fall_back_to_random_init_and_say_so(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="handhdr.hasm.model"):
        model = build_hasm(TINY, pretrained=str(tmp_path / "no-such-folder"))
    assert isinstance(model, HASM)
    assert "random initialisation" in caplog.text


def test_pretrained_encoder_of_another_size_is_refused(tmp_path):
    from transformers import SegformerModel

    other = HASMConfig(
        hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 1, 1], num_attention_heads=[1, 2, 4, 8]
    )
    SegformerModel(segformer_config(other)).save_pretrained(tmp_path / "mit")
    with pytest.raises(ValueError, match="model.variant"):
        build_hasm(TINY, pretrained=str(tmp_path / "mit"))
