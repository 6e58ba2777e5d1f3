"""Result pictures: both hands drawn in their colours, left crops mirrored back."""

from __future__ import annotations

import numpy as np

from handhdr.hdrm.weights import hdrm_inpainter
from handhdr.pipeline import HDRPipeline
from handhdr.pipeline.panel import crop_views, figure_panel, masks_tile, quick_panel


def _result(fake_hasm, masks_for, fixed_pose, tiny_weights, image, hands=("right", "left")):
    pipe = HDRPipeline(
        fake_hasm(masks_for(hands)), hdrm_inpainter(tiny_weights["hdrm"]), fixed_pose()
    )
    return pipe.predict(image)["hdr"]


def _colour_pixels(picture, hand):
    p = picture.astype(int)
    if hand == "right":
        return ((p[..., 0] > 200) & (p[..., 1] < 80) & (p[..., 2] < 80)).sum()
    return ((p[..., 1] > 170) & (p[..., 0] < 80) & (p[..., 2] < 100)).sum()


def test_panels_show_both_hands(fake_hasm, masks_for, fixed_pose, tiny_weights, scene_image):
    gray = np.full_like(scene_image, 128)
    result = _result(fake_hasm, masks_for, fixed_pose, tiny_weights, gray)
    figure = figure_panel(gray, result, "title")
    quick = quick_panel(gray, result, "title")
    for picture in (figure, quick):
        assert picture.dtype == np.uint8 and picture.ndim == 3
        assert _colour_pixels(picture, "right") > 100 and _colour_pixels(picture, "left") > 100
    tile = masks_tile(result.masks, gray.shape[:2])
    assert tile.shape == gray.shape
    assert _colour_pixels(tile, "right") > 0 and _colour_pixels(tile, "left") > 0


def test_left_crops_are_shown_unmirrored_and_missing_hands_say_so(
    fake_hasm, masks_for, fixed_pose, tiny_weights
):
    image = np.zeros((96, 128, 3), np.uint8)
    image[:, :76] = 255  # bright to the left of the left hand's centre
    result = _result(fake_hasm, masks_for, fixed_pose, tiny_weights, image, ("left",))
    before, _ = crop_views(result, "left")
    half = before.shape[1] // 2
    assert before[:, : half - 4].mean() > before[:, half + 4 :].mean()  # as in the image
    assert crop_views(result, "right") is None
    assert quick_panel(image, result).shape[0] > 0
