import torch

from handhdr.hdrm.network import HDRNet
from handhdr.hdrm.transformer import FeatureTransformer, SpatialReductionAttention


def test_feature_transformer_changes_features_and_returns_the_same_mask():
    block = FeatureTransformer(16, heads=2, mlp_ratio=4, sr_ratio=2)
    x = torch.randn(2, 16, 8, 8)
    mask = (torch.rand(2, 1, 8, 8) > 0.5).float()
    y, out_mask = block(x, mask)
    assert y.shape == x.shape and not torch.allclose(y, x)
    assert out_mask is mask


def test_spatial_reduction_shrinks_keys():
    attn = SpatialReductionAttention(8, heads=2, sr_ratio=4)
    tokens = torch.randn(1, 64, 8)
    assert attn(tokens, 8, 8).shape == (1, 64, 8)
    assert attn.sr(tokens.transpose(1, 2).reshape(1, 8, 8, 8)).shape[-2:] == (2, 2)


def test_masks_pass_unchanged_through_the_blocks_inside_hdrnet(tiny_config):
    net = HDRNet(tiny_config).eval()
    seen = []

    def hook(module, args, output):
        seen.append((args[1].clone(), output[1], not torch.allclose(args[0], output[0])))

    for block in net.transformers.values():
        block.register_forward_hook(hook)
    masks = (torch.rand(1, 4, 32, 32) > 0.5).float()
    with torch.no_grad():
        net(torch.rand(1, 3, 32, 32), masks)
    assert len(seen) == 2
    for mask_in, mask_out, features_changed in seen:
        assert torch.equal(mask_in, mask_out) and features_changed
