import pytest
import torch
import torch.nn.functional as F

from handhdr.hasm.loss import hasm_loss


def test_equation_1_is_the_sum_of_four_cross_entropies():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 4, 2, 4, 4, generator=g)
    masks = torch.rand(2, 4, 4, 4, generator=g) > 0.5
    total, per_head = hasm_loss(logits, masks)
    expected = [F.cross_entropy(logits[:, k], masks[:, k].long()) for k in range(4)]
    torch.testing.assert_close(per_head, torch.stack(expected))
    torch.testing.assert_close(total, sum(expected))


def test_logits_are_upsampled_to_the_masks():
    logits = torch.zeros(1, 4, 2, 2, 2)
    logits[:, :, 1] = 10.0  # foreground everywhere, confidently
    total, _ = hasm_loss(logits, torch.ones(1, 4, 8, 8, dtype=torch.bool))
    assert total < 1e-3
    total, _ = hasm_loss(logits, torch.zeros(1, 4, 8, 8, dtype=torch.bool))
    assert total > 30


def test_unknown_masks_add_nothing():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 4, 2, 4, 4, generator=g)
    masks = torch.rand(2, 4, 4, 4, generator=g) > 0.5
    known = torch.ones(2, 4, dtype=torch.bool)
    known[1, 2] = False  # sample 1's left amodal mask is not annotated
    _, per_head = hasm_loss(logits, masks, known)
    expected = F.cross_entropy(logits[:1, 2], masks[:1, 2].long())
    torch.testing.assert_close(per_head[2], expected)
    torch.testing.assert_close(per_head[0], hasm_loss(logits, masks)[1][0])


def test_shape_errors():
    with pytest.raises(ValueError, match="logits must be"):
        hasm_loss(torch.zeros(1, 4, 3, 2, 2), torch.zeros(1, 4, 2, 2))
