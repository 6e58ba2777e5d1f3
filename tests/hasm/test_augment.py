import numpy as np

from handhdr.datasets.schema import MASK_NAMES
from handhdr.hasm.augment import (
    ViewConfig,
    amodal_union_box,
    evaluation_view,
    frame_window,
    hflip,
    photometric_jitter,
    swap_hands,
    training_view,
)


def right_hand_scene(h=60, w=80):
    """A red 'right hand' on the left half of the picture, no left hand."""
    image = np.full((h, w, 3), 40, np.uint8)
    masks = np.zeros((4, h, w), bool)
    masks[0, 20:40, 10:30] = True  # right amodal
    masks[1, 20:40, 10:25] = True  # right visible
    image[masks[0]] = (200, 60, 60)
    return image, masks


def test_swap_exchanges_right_and_left():
    masks = np.arange(4)[:, None, None] * np.ones((4, 2, 2), int)
    assert [int(m[0, 0]) for m in swap_hands(masks)] == [2, 3, 0, 1]
    assert MASK_NAMES[2] == "left_amodal"


def test_flip_mirrors_and_turns_a_right_hand_into_a_left_one():
    image, masks = right_hand_scene()
    flipped_image, flipped = hflip(image, masks)
    assert not flipped[0].any() and not flipped[1].any()
    np.testing.assert_array_equal(flipped[2], masks[0][:, ::-1])  # left amodal now
    np.testing.assert_array_equal(flipped[3], masks[1][:, ::-1])
    np.testing.assert_array_equal(flipped_image, image[:, ::-1])


def test_training_view_flip_swaps_labels():
    image, masks = right_hand_scene()
    cfg = ViewConfig(
        size=32, flip_prob=1.0, photometric=False, hand_window_prob=0.0, scale_range=(1.0, 1.0)
    )
    view, view_masks, flipped = training_view(np.random.default_rng(0), image, masks, cfg)
    assert flipped and view.shape == (32, 32, 3) and view_masks.shape == (4, 32, 32)
    assert not view_masks[0].any() and view_masks[2].any()
    # the labels still sit on the red pixels, now on the right side of the view
    red = view[..., 0] > 150
    assert (red & view_masks[2]).sum() > 0.8 * view_masks[2].sum()
    assert np.nonzero(view_masks[2])[1].mean() > 16
    cfg.flip_prob = 0.0
    _, unflipped, flipped = training_view(np.random.default_rng(0), image, masks, cfg)
    assert not flipped and unflipped[0].any() and not unflipped[2].any()


def test_hand_views_contain_both_hands():
    image, masks = right_hand_scene()
    masks[2, 25:45, 35:60] = True  # a left hand too
    cfg = ViewConfig(
        size=32,
        hand_window_prob=1.0,
        hand_shift=0.0,
        flip_prob=0.0,
        photometric=False,
        hand_box_scale=(1.3, 1.3),
    )
    _, view_masks, _ = training_view(np.random.default_rng(3), image, masks, cfg)
    assert amodal_union_box(masks) == (10.0, 20.0, 60.0, 45.0)
    # the 50 px box x 1.3 fills 32 / 1.3 of the view: both hands inside, none cut
    assert view_masks[0].sum() > 0 and view_masks[2].sum() > 0
    for k in (0, 2):
        assert not view_masks[k][[0, -1]].any() and not view_masks[k][:, [0, -1]].any()


def test_frame_windows_follow_the_scale_range():
    cfg = ViewConfig(scale_range=(0.5, 2.0))
    rng = np.random.default_rng(0)
    sides = np.array([frame_window(rng, 60, 80, cfg).side for _ in range(200)])
    assert sides.min() >= 40 - 1e-9 and sides.max() <= 160 + 1e-9
    assert sides.min() < 50 and sides.max() > 140


def test_photometric_jitter_changes_colours_not_shapes():
    image, _ = right_hand_scene()
    rng = np.random.default_rng(0)
    outs = [photometric_jitter(rng, image, ViewConfig()) for _ in range(10)]
    assert all(o.shape == image.shape and o.dtype == np.uint8 for o in outs)
    assert any(np.abs(o.astype(int) - image).max() > 10 for o in outs)


def test_evaluation_view_is_the_fine_pass_window():
    image, masks = right_hand_scene()
    view, view_masks = evaluation_view(image, masks, 32, box_scale=1.0)
    # the 20x20 hand box fills the 32x32 view
    assert view_masks[0].all()
    _, empty_masks = evaluation_view(image, np.zeros_like(masks), 32, box_scale=1.0)
    assert not empty_masks.any()
