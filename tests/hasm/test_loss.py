import math

import pytest
import torch
import torch.nn.functional as F

from handhdr.hasm.loss import cue_loss, hasm_loss


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


def test_side_invariant_loss_scores_the_better_side_assignment():
    g = torch.Generator().manual_seed(2)
    masks = torch.rand(2, 4, 4, 4, generator=g) > 0.5
    sure = lambda m: torch.stack([~m, m], 2).float() * 20.0 - 10.0  # noqa: E731
    logits = sure(masks)
    logits[1] = sure(masks[1:, [2, 3, 0, 1]])[0]  # sample 1: perfect masks, sides exchanged
    plain, _ = hasm_loss(logits, masks)
    assert plain > 5.0  # the exchanged sample costs in the paper's loss
    invariant, per_head = hasm_loss(logits, masks, side_invariant=True)
    assert invariant < 1e-3 and per_head.shape == (4,)
    # where one sample is right and the other exchanged, it equals the loss of each alone
    worse = logits.clone()
    worse[0, 0] = 0.0  # sample 0's right amodal head unsure: 0.69 on its pixels
    total, per_head = hasm_loss(worse, masks, side_invariant=True)
    torch.testing.assert_close(per_head[0], torch.tensor(0.5 * math.log(2.0)))


def test_side_invariant_loss_moves_the_unknown_masks_with_the_sides():
    masks = torch.zeros(1, 4, 2, 2, dtype=torch.bool)
    masks[0, 0] = masks[0, 1] = True  # a right hand everywhere; no left hand
    known = torch.tensor([[True, True, False, True]])  # left amodal not annotated
    logits = torch.zeros(1, 4, 2, 2, 2)
    logits[0, 2:, 1] = 10.0  # the hand predicted as the left one
    logits[0, :2, 0] = 10.0
    total, per_head = hasm_loss(logits, masks, known, side_invariant=True)
    # exchanged, head 0 (right amodal) faces the unannotated left amodal mask: no term
    assert per_head[0] == 0.0 and total < 1e-3


def test_shape_errors():
    with pytest.raises(ValueError, match="logits must be"):
        hasm_loss(torch.zeros(1, 4, 3, 2, 2), torch.zeros(1, 4, 2, 2))


def test_cue_loss_labels_each_hands_visible_pixels_with_its_cues():
    visible = torch.zeros(1, 2, 4, 4, dtype=torch.bool)
    visible[0, 0, :2] = True  # right hand: top half
    visible[0, 1, 2:, :2] = True  # left hand: bottom-left quarter
    right_dirs, left_dirs = [0.0, -1.0, 1.0, 0.0], [0.6, 0.8, -0.8, 0.6]
    # right: facing, not clockwise; left: the opposite
    cues = torch.tensor([[[1.0, 0.0, *right_dirs], [0.0, 1.0, *left_dirs]]])
    known = torch.ones(1, 2, dtype=torch.bool)
    out = torch.zeros(1, 6, 4, 4)
    out[0, 0, :2], out[0, 1, :2] = 9.0, -9.0  # the right hand's cues, confidently
    out[0, 2:, :2] = torch.tensor(right_dirs)[:, None, None]
    out[0, 0, 2:], out[0, 1, 2:] = -9.0, 9.0  # the left hand's, also on background
    out[0, 2:, 2:] = torch.tensor(left_dirs)[:, None, None]
    total, per_cue = cue_loss(out, visible, cues, known)
    assert total < 1e-3 and per_cue.shape == (6,)
    out[0, :2, 2:, :2] *= -1  # binary cues wrong on the left hand's 4 of 12 labelled pixels
    out[0, 2:, 2:, :2] += 0.5  # each direction component off by 0.5 there
    _, per_cue = cue_loss(out, visible, cues, known)
    expected = F.softplus(torch.tensor(9.0)) * 4 / 12 + F.softplus(torch.tensor(-9.0)) * 8 / 12
    torch.testing.assert_close(per_cue[:2], expected.repeat(2))
    torch.testing.assert_close(per_cue[2:], torch.full((4,), 0.25 * 4 / 12))
    # an unknown hand adds nothing, and nothing labelled gives zero
    _, per_cue = cue_loss(out, visible, cues, torch.tensor([[True, False]]))
    assert per_cue.max() < 1e-3
    total, _ = cue_loss(out, visible, cues, torch.zeros(1, 2, dtype=torch.bool))
    assert total == 0
