"""HASM in the pipeline: coarse to fine by default, one fine pass on given boxes."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.hasm.inference import HASMPredictor, InferenceSettings
from handhdr.pipeline.segment import (
    HASMSegmenter,
    as_segmenter,
    check_boxes,
    given_segmentation,
    region_from_boxes,
)


class Runner:
    """Records the crops it sees; answers 'hand' everywhere in the right amodal head."""

    stride = 4

    def __init__(self):
        self.crops = []

    def __call__(self, crops):
        self.crops.append(crops.copy())
        b, s = crops.shape[0], crops.shape[1] // 4
        out = np.full((b, 4, s, s), -5.0, np.float32)
        out[:, 0] = out[:, 1] = 5.0
        return out


def test_region_from_boxes_is_the_square_union_times_the_scale():
    window = region_from_boxes({"right": (10, 20, 30, 10), "left": (50, 20, 10, 40)}, 1.5, 1.0)
    assert window.side == pytest.approx(1.5 * 50)
    assert window.x0 + window.side / 2 == pytest.approx(35)
    assert window.y0 + window.side / 2 == pytest.approx(40)
    assert region_from_boxes({"left": (0, 0, 0, 0)}, 1.5, 8.0).side == 8.0


def test_boxes_replace_the_coarse_pass():
    runner = Runner()
    segmenter = HASMSegmenter(HASMPredictor(runner, InferenceSettings(size=32, box_scale=2.0)))
    image = np.zeros((60, 80, 3), np.uint8)
    image[20:30, 30:40] = 255
    result = segmenter.segment(image, {"right": (30, 20, 10, 10)})
    assert len(runner.crops) == 1  # the fine pass only
    assert result.region.side == pytest.approx(20) and result.region.x0 == pytest.approx(25)
    assert runner.crops[0][0, 10:20, 10:20].mean() > 200  # the box is in the crop's middle
    assert result.masks[0, 25, 35] and not result.masks[0, 5, 5]  # outside: no hand
    runner.crops.clear()
    segmenter.segment(image)  # no boxes: coarse, then fine
    assert len(runner.crops) == 2
    assert as_segmenter(segmenter.predictor).predictor is segmenter.predictor
    assert as_segmenter(segmenter) is segmenter


def test_bad_boxes_are_named():
    with pytest.raises(ValueError, match="4 finite numbers"):
        check_boxes({"right": (0, 0, 1)})
    with pytest.raises(ValueError, match="negative width"):
        check_boxes({"left": (0, 0, -1, 3)})
    with pytest.raises(ValueError, match="finite"):
        check_boxes({"left": (0, float("nan"), 1, 3)})
    with pytest.raises(TypeError, match="segment"):
        as_segmenter(object())


def test_given_segmentation_is_certain_and_checks_its_shape():
    masks = np.zeros((4, 6, 8), np.uint8)
    masks[0, 1:3, 2:5] = 1
    seg = given_segmentation(masks, (6, 8, 3))
    assert seg.masks.dtype == bool and seg.region is None
    np.testing.assert_array_equal(seg.masks, masks.astype(bool))
    assert seg.probabilities[0, 1, 2] > 0.999 and seg.probabilities[0, 0, 0] < 0.001
    with pytest.raises(ValueError, match=r"\(4, 6, 9\)"):
        given_segmentation(masks, (6, 9))
