"""Golden tests: every metric computed by hand on small arrays."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.datasets.subsets import root_validated
from handhdr.evaluation import metrics


def _two_hands(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 42, 3) camera-frame joints: wrists far from the origin, fingers around them."""
    joints = rng.uniform(-60.0, 60.0, size=(n, 42, 3))
    joints[:, :21] += np.array([100.0, 20.0, 600.0])
    joints[:, 21:] += np.array([-80.0, 10.0, 650.0])
    return joints.round()  # integers: every difference below is exact


def test_root_aligned_subtracts_each_hands_own_wrist():
    joints = np.zeros((1, 42, 3))
    joints[0, 20] = [1.0, 2.0, 3.0]  # right wrist
    joints[0, 41] = [10.0, 20.0, 30.0]  # left wrist
    joints[0, 0] = [2.0, 2.0, 3.0]
    joints[0, 21] = [10.0, 20.0, 31.0]
    aligned = metrics.root_aligned(joints)
    assert aligned[0, 20].tolist() == [0.0, 0.0, 0.0]
    assert aligned[0, 41].tolist() == [0.0, 0.0, 0.0]
    assert aligned[0, 0].tolist() == [1.0, 0.0, 0.0]
    assert aligned[0, 21].tolist() == [0.0, 0.0, 1.0]
    assert aligned[0, 5].tolist() == [-1.0, -2.0, -3.0]  # right joint at origin - right wrist
    assert aligned[0, 30].tolist() == [-10.0, -20.0, -30.0]


def _official_fixture():
    """Two interacting images on which the official number differs from a plain mean.

    Image A: all 42 joints valid; the prediction's joint 0 (right thumb tip) is off by
    (6, 8, 0) -> 10 mm. Image B: joint 0 invalid; joint 1 is off by (0, 0, 21) -> 21 mm.
    Image C (right hand only) has an invalid right wrist, so by the root rule none of
    its joints count, even though its joint 5 is off by 100 mm.
    """
    rng = np.random.default_rng(0)
    gt = _two_hands(rng, 3)
    # predictions are root-relative (each hand minus its own wrist), as files hold them
    pred = metrics.root_aligned(gt)
    pred[0, 0] += [6.0, 8.0, 0.0]
    pred[1, 1] += [0.0, 0.0, 21.0]
    pred[2, 5] += [100.0, 0.0, 0.0]
    joint_valid = np.ones((3, 42), dtype=bool)
    joint_valid[1, 0] = False
    joint_valid[2, 20] = False  # right wrist of C
    joint_valid[2, 21:] = False  # C has no left hand
    return pred, gt, root_validated(joint_valid)


def test_official_mpjpe_is_the_mean_of_per_joint_means():
    pred, gt, valid = _official_fixture()
    value, joint_means = metrics.official_mpjpe(pred[:2], gt[:2], valid[:2])
    # joint 0: only A is valid -> 10 / 1 = 10
    # joint 1: A (0) and B (21) -> 21 / 2 = 10.5
    # the other 40 joints (wrists included) are exact -> 0
    # MPJPE = (10 + 10.5) / 42 = 20.5 / 42
    assert joint_means[0] == pytest.approx(10.0)
    assert joint_means[1] == pytest.approx(10.5)
    assert np.allclose(joint_means[2:], 0.0)
    assert value == pytest.approx(20.5 / 42)


def test_official_mpjpe_differs_from_a_plain_mean_over_valid_joints():
    pred, gt, valid = _official_fixture()
    official, _ = metrics.official_mpjpe(pred[:2], gt[:2], valid[:2])
    plain = metrics.wrist_aligned_mean(pred[:2], gt[:2], valid[:2])
    # plain: (10 + 21) over 42 (A) + 41 (B) valid joints = 31 / 83
    assert plain == pytest.approx(31 / 83)
    assert official == pytest.approx(20.5 / 42)
    assert abs(official - plain) > 0.1


def test_root_rule_removes_a_hand_whose_wrist_is_invalid():
    pred, gt, valid = _official_fixture()
    assert not valid[2, :21].any()  # root_validated killed all of C's right hand
    with_c, _ = metrics.official_mpjpe(pred, gt, valid)
    without_c, _ = metrics.official_mpjpe(pred[:2], gt[:2], valid[:2])
    assert with_c == pytest.approx(without_c)


def test_official_mpjpe_leaves_out_joints_without_samples():
    # one image, right hand only, joint 3 off by 42 mm: 21 joints have samples
    gt = np.zeros((1, 42, 3))
    pred = gt.copy()
    pred[0, 3] = [0.0, 42.0, 0.0]
    valid = np.zeros((1, 42), dtype=bool)
    valid[0, :21] = True
    value, joint_means = metrics.official_mpjpe(pred, gt, valid)
    assert np.isnan(joint_means[21:]).all()
    assert value == pytest.approx(42.0 / 21)  # mean over the 21 joints that have samples
    assert metrics.official_mpjpe(pred, gt, np.zeros_like(valid))[0] is None


def test_a_wrist_error_moves_the_whole_hand():
    # the official alignment uses the predicted wrist: a wrist off by d shifts every
    # other joint of that hand by -d after alignment
    gt = np.zeros((1, 42, 3))
    pred = gt.copy()
    pred[0, 20] = [0.0, 0.0, 5.0]
    valid = np.ones((1, 42), dtype=bool)
    value, joint_means = metrics.official_mpjpe(pred, gt, valid)
    assert joint_means[20] == 0.0  # the wrist itself is always 0
    assert np.allclose(joint_means[:20], 5.0) and np.allclose(joint_means[21:], 0.0)
    assert value == pytest.approx(20 * 5.0 / 42)


def test_mean_over_valid():
    errors = np.array([[1.0, 2.0, 100.0], [3.0, 4.0, 5.0]])
    valid = np.array([[True, True, False], [True, False, True]])
    assert metrics.mean_over_valid(errors, valid) == pytest.approx((1 + 2 + 3 + 5) / 4)
    assert metrics.mean_over_valid(errors, np.zeros_like(valid)) is None


def _right_hand_with_bone(length: float) -> np.ndarray:
    """(42, 3) joints: right wrist at the origin, middle MCP at (0, length, 0)."""
    joints = np.zeros((42, 3))
    joints[:21, 0] = np.arange(21) * 2.0  # distinct positions along x
    joints[:21, 1] = np.arange(21) * 3.0
    joints[20] = [0.0, 0.0, 0.0]
    joints[11] = [0.0, length, 0.0]
    return joints


def test_middle_mcp_scaled_errors_by_hand():
    gt = _right_hand_with_bone(80.0)[None]
    # prediction: the same hand at half size, shifted: after rooting at the middle MCP
    # and scaling by 80 / 40 = 2 it equals the ground truth exactly
    pred = 0.5 * gt + np.array([7.0, -3.0, 11.0])
    # then move its thumb tip by (3, 4, 0) (5 mm before scaling -> 10 mm after)
    pred[0, 0] += [3.0, 4.0, 0.0]
    valid = np.zeros((1, 42), dtype=bool)
    valid[0, :21] = True
    errors, scored = metrics.middle_mcp_scaled_errors(pred, gt, valid)
    assert scored[0, :21].all() and not scored[0, 21:].any()
    assert errors[0, 0] == pytest.approx(10.0)
    assert np.allclose(errors[0, 1:21], 0.0)
    assert metrics.mean_over_valid(errors, scored) == pytest.approx(10.0 / 21)


def test_middle_mcp_protocol_needs_wrist_and_middle_mcp():
    gt = _right_hand_with_bone(80.0)[None]
    valid = np.ones((1, 42), dtype=bool)
    valid[0, 11] = False  # right middle MCP
    valid[0, 41] = False  # left wrist
    _, scored = metrics.middle_mcp_scaled_errors(gt, gt, valid)
    assert not scored.any()


def test_middle_mcp_missed_hand_is_not_scaled():
    # a missed hand (all zeros) has no bone to scale: errors are ||g_j - g_mcp||
    gt = _right_hand_with_bone(80.0)[None]
    pred = np.zeros_like(gt)
    valid = np.zeros((1, 42), dtype=bool)
    valid[0, :21] = True
    errors, _ = metrics.middle_mcp_scaled_errors(pred, gt, valid)
    assert errors[0, 20] == pytest.approx(80.0)  # wrist is 80 mm from the middle MCP
    assert errors[0, 11] == 0.0
    expected = np.linalg.norm(gt[0, :21] - gt[0, 11], axis=-1)
    assert np.allclose(errors[0, :21], expected)


def _rotation_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def test_procrustes_undoes_a_similarity_transform():
    rng = np.random.default_rng(1)
    gt = rng.normal(size=(1, 21, 3)) * 30
    pred = 2.5 * gt @ _rotation_z(np.pi / 2).T + np.array([4.0, 5.0, 6.0])
    valid = np.ones((1, 21), dtype=bool)
    aligned = metrics.procrustes_align(pred, gt, valid)
    assert np.allclose(aligned, gt, atol=1e-9)


def test_procrustes_fits_only_valid_joints():
    rng = np.random.default_rng(2)
    gt = rng.normal(size=(1, 21, 3)) * 30
    pred = gt @ _rotation_z(0.3).T * 0.8
    pred[0, 5] += 1000.0  # an outlier on an invalid joint must not influence the fit
    valid = np.ones((1, 21), dtype=bool)
    valid[0, 5] = False
    aligned = metrics.procrustes_align(pred, gt, valid)
    keep = np.arange(21) != 5
    assert np.allclose(aligned[0, keep], gt[0, keep], atol=1e-9)


def test_procrustes_collapsed_prediction_lands_on_the_centroid():
    # a missed hand (all joints equal) has no spread: s = 0, every joint at the GT centroid
    gt = np.zeros((1, 21, 3))
    gt[0, :, 0] = np.arange(21.0)  # x = 0..20, centroid (10, 0, 0)
    pred = np.zeros((1, 21, 3))
    aligned = metrics.procrustes_align(pred, gt, np.ones((1, 21), dtype=bool))
    assert np.allclose(aligned[0], [10.0, 0.0, 0.0])
    # PA errors |x - 10|: mean over 21 joints = 2 * (1 + ... + 10) / 21 = 110 / 21
    full_pred, full_gt = np.zeros((1, 42, 3)), np.zeros((1, 42, 3))
    full_gt[0, :21] = gt[0]
    valid = np.zeros((1, 42), dtype=bool)
    valid[0, :21] = True
    errors = metrics.pa_errors(full_pred, full_gt, valid)
    assert metrics.mean_over_valid(errors, valid) == pytest.approx(110 / 21)


def test_procrustes_never_reflects():
    # the mirror image of a chiral point set cannot be rotated onto it: the aligned
    # prediction keeps the prediction's orientation (sign of the signed volume)
    gt = np.array([[[0.0, 0, 0], [10, 0, 0], [0, 20, 0], [0, 0, 30]] + [[1.0, 2, 3]] * 17])
    pred = gt * np.array([-1.0, 1.0, 1.0])
    aligned = metrics.procrustes_align(pred, gt, np.ones((1, 21), dtype=bool))[0]

    def volume(p: np.ndarray) -> float:
        return float(np.linalg.det(np.stack([p[1] - p[0], p[2] - p[0], p[3] - p[0]])))

    assert np.sign(volume(aligned)) == np.sign(volume(pred[0])) == -np.sign(volume(gt[0]))


def test_procrustes_is_optimal_against_other_similarity_transforms():
    rng = np.random.default_rng(3)
    gt = rng.normal(size=(1, 21, 3)) * 30
    pred = gt @ _rotation_z(0.7).T * 1.3 + rng.normal(size=(1, 21, 3)) * 5
    valid = np.ones((1, 21), dtype=bool)
    best = ((metrics.procrustes_align(pred, gt, valid) - gt) ** 2).sum()
    for _ in range(50):  # random nearby similarity transforms never do better
        angle, scale = rng.normal(-0.7, 0.1), rng.normal(1 / 1.3, 0.05)
        shift = rng.normal(size=3)
        other = scale * pred @ _rotation_z(angle).T + shift
        assert ((other - gt) ** 2).sum() >= best - 1e-6


def test_mrrpe_by_hand():
    pred = np.zeros((1, 42, 3))
    gt = np.zeros((1, 42, 3))
    pred[0, 20], pred[0, 41] = [10.0, 0.0, 500.0], [-90.0, 0.0, 500.0]  # R - L = (100, 0, 0)
    gt[0, 20], gt[0, 41] = [0.0, 30.0, 540.0], [-100.0, 0.0, 500.0]  # R - L = (100, 30, 40)
    # || (100, 0, 0) - (100, 30, 40) || = || (0, -30, -40) || = 50
    assert metrics.mrrpe(pred, gt).tolist() == [50.0]


@pytest.mark.parametrize(
    ("predicted", "hand_type", "correct"),
    [
        ((True, False), "right", True),
        ((True, True), "right", False),
        ((False, True), "right", False),
        ((False, True), "left", True),
        ((True, True), "interacting", True),
        ((True, False), "interacting", False),
        ((False, False), "interacting", False),
    ],
)
def test_handedness_correct(predicted, hand_type, correct):
    result = metrics.handedness_correct(np.array([predicted]), np.array([hand_type]))
    assert result.tolist() == [correct]


def test_epe_2d_by_hand():
    pred = np.array([[[3.0, 4.0], [1.0, 1.0]]])
    gt = np.array([[[0.0, 0.0], [1.0, 1.0]]])
    assert metrics.epe_2d(pred, gt).tolist() == [[5.0, 0.0]]
