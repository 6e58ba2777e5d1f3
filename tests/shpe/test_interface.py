"""The single-hand estimator contract: a fake estimator plugs in; inputs and outputs
are checked; the scale rules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from handhdr.joints import INTERHAND_NAMES, MIDDLE_MCP, WRIST
from handhdr.shpe.interface import (
    HandPoseResult,
    SingleHandEstimator,
    crops_as_float,
    crops_as_uint8,
    reference_bone_length,
    rescale_to_bone,
)


class ConstantHand:
    """The smallest estimator: one fixed pose for every crop (a test double)."""

    name = "constant"
    input_size = 32
    scale_rule = "fixed pose, 80 mm reference bone"

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        pose = rng.normal(0, 30, (21, 3))
        self.pose = rescale_to_bone(pose, 80.0)

    def __call__(self, crops) -> HandPoseResult:
        x = crops_as_float(crops)
        b, s = x.shape[0], x.shape[-1]
        joints_2d = np.broadcast_to(np.linspace(0, s - 1, 21)[:, None], (b, 21, 2))
        return HandPoseResult(joints_2d, np.broadcast_to(self.pose, (b, 21, 3)), np.ones(b))


def test_a_fake_estimator_satisfies_the_protocol():
    estimator = ConstantHand()
    assert isinstance(estimator, SingleHandEstimator)
    result = estimator(np.zeros((3, 3, 32, 32), np.uint8))
    assert len(result) == 3 and result.found.all()
    assert result.joints_3d.shape == (3, 21, 3) and result.joints_3d.dtype == np.float32
    np.testing.assert_allclose(reference_bone_length(result.joints_3d), 80.0, rtol=1e-5)
    assert len(INTERHAND_NAMES) == 21 and INTERHAND_NAMES[WRIST] == "wrist"


def test_crop_inputs_uint8_float_and_torch():
    rng = np.random.default_rng(1)
    crops = rng.integers(0, 256, (2, 3, 8, 8), dtype=np.uint8)
    as_float = crops_as_float(crops)
    assert as_float.dtype == np.float32 and as_float.max() <= 1.0
    np.testing.assert_allclose(as_float * 255, crops, atol=1e-4)
    np.testing.assert_array_equal(crops_as_float(torch.from_numpy(crops)), as_float)
    np.testing.assert_array_equal(crops_as_uint8(as_float), crops)
    np.testing.assert_array_equal(crops_as_uint8(crops), crops)
    np.testing.assert_allclose(crops_as_float(np.full((1, 3, 4, 4), 1.0004)), 1.0)


@pytest.mark.parametrize(
    "bad,message",
    [
        (np.zeros((2, 8, 8, 3), np.uint8), r"\(B, 3, S, S\)"),
        (np.zeros((2, 3, 8, 6), np.uint8), r"\(B, 3, S, S\)"),
        (np.zeros((2, 3, 8, 8), np.int32), "uint8 or floating"),
        (np.full((1, 3, 4, 4), np.nan), "NaN"),
        (np.full((1, 3, 4, 4), 200.0), "pass uint8"),
    ],
)
def test_bad_crops_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        crops_as_float(bad)


def test_result_shapes_are_checked_and_empty_means_not_found():
    with pytest.raises(ValueError, match="joints_2d"):
        HandPoseResult(np.zeros((2, 20, 2)), np.zeros((2, 21, 3)), np.ones(2))
    with pytest.raises(ValueError, match="joints_3d"):
        HandPoseResult(np.zeros((2, 21, 2)), np.zeros((1, 21, 3)), np.ones(2))
    empty = HandPoseResult.empty(2, crop_size=33)
    assert not empty.found.any()
    assert (empty.joints_3d == 0).all() and (empty.joints_2d == 16).all()
    both = HandPoseResult.concatenate([empty, ConstantHand()(np.zeros((1, 3, 32, 32)))])
    assert both.found.tolist() == [False, False, True]


def test_rescale_to_bone_is_the_ground_truth_rule():
    rng = np.random.default_rng(2)
    pred = rng.normal(0, 30, (4, 21, 3)) + 100.0  # not wrist-relative yet
    target = np.array([70.0, 80.0, 90.0, 100.0])
    scaled = rescale_to_bone(pred, target)
    np.testing.assert_allclose(scaled[:, WRIST], 0.0)
    np.testing.assert_allclose(np.linalg.norm(scaled[:, MIDDLE_MCP], axis=-1), target)
    # only the scale changes: directions are those of the wrist-relative prediction
    rooted = pred - pred[:, WRIST : WRIST + 1]
    ratio = np.linalg.norm(scaled, axis=-1)[:, :20] / np.linalg.norm(rooted, axis=-1)[:, :20]
    np.testing.assert_allclose(ratio, np.repeat(ratio[:, :1], 20, axis=1))
    missed = np.zeros((1, 21, 3))
    np.testing.assert_array_equal(rescale_to_bone(missed, 85.0), missed)
