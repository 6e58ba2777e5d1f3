import numpy as np
import pytest

from handhdr.datasets.schema import MASK_NAMES
from handhdr.hasm.metrics import (
    IoUAccumulator,
    intersection_union,
    iou_from_totals,
    matched_assignment,
)


def test_iou_by_hand():
    gt = np.zeros((4, 4, 4), bool)
    pred = np.zeros((4, 4, 4), bool)
    gt[0, :2] = True  # 8 px
    pred[0, 1:3] = True  # 8 px, 4 shared -> 4 / 12
    gt[1, 0, 0] = pred[1, 0, 0] = True  # 1 / 1
    pred[2, 0] = True  # predicted, not there -> 0 / 4
    # mask 3: empty in both -> undefined
    inter, union = intersection_union(pred, gt)
    assert inter.tolist() == [4, 1, 0, 0] and union.tolist() == [12, 1, 4, 0]
    ious = iou_from_totals(inter, union)
    assert ious["right_amodal"] == pytest.approx(1 / 3)
    assert ious["right_visible"] == 1.0 and ious["left_amodal"] == 0.0
    assert ious["left_visible"] is None
    assert ious["miou"] == pytest.approx((1 / 3 + 1 + 0) / 3)


def test_totals_not_mean_of_per_image_ious():
    acc = IoUAccumulator()
    big = np.zeros((4, 10, 10), bool)
    big[:, :, :5] = True  # 50 px, predicted perfectly
    acc.update(big, big)
    small_gt = np.zeros((4, 10, 10), bool)
    small_gt[:, 0, 0] = True  # 1 px, missed entirely
    acc.update(np.zeros_like(small_gt), small_gt)
    ious = acc.compute()
    assert acc.count == 2
    assert ious["miou"] == pytest.approx(50 / 51)  # a per-image mean would say 0.5
    assert set(ious) == {*MASK_NAMES, "miou"}


def test_batches_and_shape_errors():
    acc = IoUAccumulator()
    acc.update(np.ones((3, 4, 2, 2), bool), np.ones((3, 4, 2, 2), bool))
    assert acc.count == 3 and acc.union.tolist() == [12] * 4
    with pytest.raises(ValueError, match="differ"):
        intersection_union(np.ones((4, 2, 2)), np.ones((4, 2, 3)))
    with pytest.raises(ValueError, match=r"prediction \(4, 2, 2\) and ground truth \(4, 2, 3\)"):
        acc.update(np.ones((4, 2, 2), bool), np.ones((4, 2, 3), bool))


def test_diagnostics_tell_finding_hands_from_telling_their_sides():
    gt = np.zeros((4, 6, 6), bool)
    gt[0, :3, :3] = gt[1, :3, :3] = True  # a right hand, 9 px
    gt[2, 3:, 3:] = gt[3, 3:, 3:] = True  # a left hand, 9 px
    swapped = gt[[2, 3, 0, 1]]  # every pixel found, every side wrong
    acc = IoUAccumulator()
    acc.update(swapped, gt)
    assert acc.compute()["miou"] == 0.0
    d = acc.diagnostics()
    assert d == {
        "hand_amodal_iou": 1.0,
        "hand_visible_iou": 1.0,
        "miou_swapped": 1.0,
        "miou_matched": 1.0,  # an oracle for the sides would make it perfect
        "sides_overlap": 0.0,  # the two predicted hands are apart, as the true ones
        "sides_overlap_true": 0.0,
    }
    both = gt | swapped  # each hand marked as both: sides ignored, still right
    acc = IoUAccumulator()
    acc.update(both[None], gt[None])
    assert acc.compute()["miou"] == pytest.approx(0.5)
    assert acc.diagnostics() == {
        "hand_amodal_iou": 1.0,
        "hand_visible_iou": 1.0,
        "miou_swapped": pytest.approx(0.5),
        "miou_matched": pytest.approx(0.5),  # no side assignment separates them
        "sides_overlap": 1.0,  # right and left amodal masks are the same pixels
        "sides_overlap_true": 0.0,
    }
    half = np.zeros_like(gt)
    half[0, :3, :3] = True  # the right amodal mask only, 9 of the 18 hand pixels
    acc = IoUAccumulator()
    acc.update(half, gt)
    d = acc.diagnostics()
    assert d["hand_amodal_iou"] == pytest.approx(0.5) and d["hand_visible_iou"] == 0.0


def test_sides_overlap_counts_pixels_marked_as_both_hands():
    gt = np.zeros((4, 4, 4), bool)
    gt[0, :, :2] = True  # right amodal: left half (8 px)
    gt[2, :, 1:3] = True  # left amodal: overlaps the right one in one column (4 of 12 px)
    pred = gt.copy()
    pred[2] = gt[0] | gt[2]  # the left hand also claims all of the right hand
    acc = IoUAccumulator()
    acc.update(pred, gt)
    d = acc.diagnostics()
    assert d["sides_overlap_true"] == pytest.approx(4 / 12)
    assert d["sides_overlap"] == pytest.approx(8 / 12)
    assert IoUAccumulator().diagnostics()["sides_overlap"] is None  # nothing seen yet


def test_matched_miou_picks_the_sides_image_by_image():
    gt = np.zeros((4, 6, 6), bool)
    gt[0, :3, :3] = gt[1, :3, :3] = True  # right hand, 9 px
    gt[2, 3:, 3:] = gt[3, 3:, 3:] = True  # left hand, 9 px
    right_way = gt.copy()
    right_way[0, 0, 0] = False  # 8 of 9 px of each right mask
    right_way[1, 0, 0] = False
    wrong_way = gt[[2, 3, 0, 1]]  # perfect masks, sides exchanged
    acc = IoUAccumulator()
    acc.update(np.stack([right_way, wrong_way]), np.stack([gt, gt]))
    d = acc.diagnostics()
    # image 1 as predicted (8/9, 8/9, 1, 1), image 2 exchanged (all 1): 17/18 and 18/18
    expected = np.mean([17 / 18, 17 / 18, 1.0, 1.0])
    assert d["miou_matched"] == pytest.approx(expected)
    # as predicted, image 2 scores 0 on every mask over a union of 18 px
    assert acc.compute()["miou"] == pytest.approx(np.mean([8 / 27, 8 / 27, 9 / 27, 9 / 27]))
    assert d["miou_matched"] >= max(acc.compute()["miou"], d["miou_swapped"])


def test_matched_assignment_skips_empty_masks_and_keeps_ties():
    inter = np.array([[[5, 0, 0, 0], [0, 0, 5, 0]], [[1, 1, 1, 1], [1, 1, 1, 1]]])
    union = np.array([[[10, 0, 0, 0], [0, 0, 5, 0]], [[2, 2, 2, 2], [2, 2, 2, 2]]])
    # image 0: 0.5 against 1.0 (empty unions ignored): exchanged; image 1: a tie
    assert matched_assignment(inter, union).tolist() == [1, 0]
