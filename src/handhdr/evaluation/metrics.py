"""Hand-pose metrics in pure numpy, one function per metric.

Arrays use the 42-joint two-hand layout of :mod:`handhdr.joints` (right 0-20, wrist
20; left 21-41, wrist 41; InterHand2.6M per-hand order): ``pred`` and ``gt`` are
``(N, 42, 3)`` millimetres (or ``(N, 42, 2)`` pixels for 2D), ``valid`` is ``(N, 42)``
bool. Every metric computes in float64. Means over nothing are ``None`` (a
subset without images or valid joints), per-joint means over nothing are NaN.

Notation: ``p_nj`` / ``g_nj`` the predicted / ground-truth joint ``j`` of image ``n``,
``v_nj`` its validity, ``w(j)`` the wrist of the hand of ``j``, ``m(j)`` its middle MCP.
"""

from __future__ import annotations

import numpy as np

from handhdr.joints import HAND_SLICES, HANDS, MIDDLE_MCP_INDEX, ROOT_INDEX


def _hand_index(index: dict[str, int]) -> np.ndarray:
    """``(42,)``: for each joint, the index of ``index[its hand]``."""
    out = np.empty(42, dtype=np.int64)
    for hand in HANDS:
        out[HAND_SLICES[hand]] = index[hand]
    return out


WRIST_OF = _hand_index(ROOT_INDEX)
MIDDLE_MCP_OF = _hand_index(MIDDLE_MCP_INDEX)


def root_aligned(joints: np.ndarray) -> np.ndarray:
    """Each hand relative to its own wrist: ``x'_nj = x_nj - x_n,w(j)``."""
    joints = np.asarray(joints, dtype=np.float64)
    return joints - joints[..., WRIST_OF, :]


def joint_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Euclidean distance per joint: ``e_nj = ||p_nj - g_nj||_2``, shape ``(N, J)``."""
    diff = np.asarray(pred, dtype=np.float64) - np.asarray(gt, dtype=np.float64)
    return np.sqrt((diff**2).sum(axis=-1))


def per_joint_mean(errors: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per-joint mean over the images where the joint is valid.

    ``m_j = sum_n v_nj e_nj / sum_n v_nj``; NaN for a joint valid in no image.
    """
    valid = np.asarray(valid, dtype=bool)
    counts = valid.sum(axis=0)
    sums = np.where(valid, errors, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def mean_of_joint_means(joint_means: np.ndarray) -> float | None:
    """Unweighted mean of per-joint means over the joints that have any: ``mean_j m_j``.

    On the real InterHand2.6M test set every one of the 42 joints has samples, so this
    is the official ``np.mean`` over 42 joints; on small sets a joint without samples
    (e.g. no left hands at all) is left out rather than making the result NaN.
    """
    present = np.isfinite(joint_means)
    return float(joint_means[present].mean()) if present.any() else None


def mean_over_valid(errors: np.ndarray, valid: np.ndarray) -> float | None:
    """Plain mean over all valid (image, joint) pairs: ``sum v e / sum v``."""
    valid = np.asarray(valid, dtype=bool)
    count = int(valid.sum())
    return float(np.asarray(errors, dtype=np.float64)[valid].sum() / count) if count else None


def official_mpjpe(
    pred: np.ndarray, gt: np.ndarray, valid: np.ndarray
) -> tuple[float | None, np.ndarray]:
    """InterHand2.6M MPJPE exactly as the official evaluation computes it.

    1. Each hand of ``pred`` and ``gt`` is aligned on its own wrist (:func:`root_aligned`).
    2. ``e_nj = ||p'_nj - g'_nj||`` is collected per joint over the images where
       ``v_nj`` (the caller passes ``root_validated`` validity) holds.
    3. ``MPJPE = (1/42) sum_j m_j`` with ``m_j`` the per-joint mean; the wrists, always
       0 after alignment, are inside this mean.

    Returns ``(MPJPE, per-joint means (42,))``. SH / IH / ALL are this function applied
    to the images of each subset (ALL joins SH and IH per joint).
    """
    errors = joint_errors(root_aligned(pred), root_aligned(gt))
    joint_means = per_joint_mean(errors, valid)
    return mean_of_joint_means(joint_means), joint_means


def wrist_aligned_mean(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray) -> float | None:
    """Wrist-aligned MPJPE as a plain mean over valid joints (wrists included).

    ``sum_nj v_nj ||p'_nj - g'_nj|| / sum_nj v_nj`` with ``'`` = :func:`root_aligned`.
    Differs from :func:`official_mpjpe` only in weighting: every valid joint of every
    image counts once, instead of every joint type counting once.
    """
    return mean_over_valid(joint_errors(root_aligned(pred), root_aligned(gt)), valid)


def middle_mcp_scaled_errors(
    pred: np.ndarray, gt: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Errors after rooting both hands at the middle MCP and matching the bone length.

    The IntagHand / EANet style. Per hand, with ``r = m(j)`` and ``w = w(j)``::

        s   = ||g_w - g_r|| / ||p_w - p_r||   (s = 1 when ||p_w - p_r|| = 0, e.g. a missed hand)
        e_j = || s (p_j - p_r) - (g_j - g_r) ||

    A joint counts when it, its hand's wrist and its hand's middle MCP are valid
    (both are needed to define the root and the scale). Returns ``(errors, valid)``.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    pred_rooted = pred - pred[..., MIDDLE_MCP_OF, :]
    gt_rooted = gt - gt[..., MIDDLE_MCP_OF, :]
    pred_bone = np.linalg.norm(pred_rooted[..., WRIST_OF, :], axis=-1)
    gt_bone = np.linalg.norm(gt_rooted[..., WRIST_OF, :], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(pred_bone > 0, gt_bone / np.where(pred_bone > 0, pred_bone, 1.0), 1.0)
    errors = joint_errors(pred_rooted * scale[..., None], gt_rooted)
    valid = np.asarray(valid, dtype=bool)
    valid = valid & valid[..., MIDDLE_MCP_OF] & valid[..., WRIST_OF]
    return errors, valid


def procrustes_align(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Similarity transform (scale, rotation, translation) of ``pred`` onto ``gt``.

    For each row of ``(M, J, 3)`` arrays, minimises ``sum_j v_j ||s R p_j + t - g_j||^2``
    over the valid joints (Umeyama): with centred ``P``, ``G`` and
    ``U S V^T = svd(P^T G)``, ``D = diag(1, 1, sign det(V U^T))``, ``R = V D U^T``,
    ``s = tr(S D) / sum ||P||^2``, ``t = mean(g) - s R mean(p)``. A prediction with no
    spread (all joints equal, e.g. a missed hand) gets ``s = 0``: every joint lands on
    the ground-truth centroid. Rows without valid joints are returned unchanged.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    mask = np.asarray(valid, dtype=bool)[..., None]  # (M, J, 1)
    count = mask.sum(axis=-2, keepdims=True)
    has_any = count[..., 0, 0] > 0
    count = np.maximum(count, 1)
    mu_p = np.where(mask, pred, 0.0).sum(axis=-2, keepdims=True) / count
    mu_g = np.where(mask, gt, 0.0).sum(axis=-2, keepdims=True) / count
    p0 = np.where(mask, pred - mu_p, 0.0)  # invalid joints (maybe NaN) take no part
    g0 = np.where(mask, gt - mu_g, 0.0)
    cov = np.einsum("mji,mjk->mik", p0, g0)  # P^T G, (M, 3, 3)
    u, sing, vt = np.linalg.svd(cov)
    v = np.swapaxes(vt, -1, -2)
    ut = np.swapaxes(u, -1, -2)
    d = np.ones_like(sing)
    d[:, -1] = np.sign(np.linalg.det(v @ ut))
    d[d == 0] = 1.0
    rot = v @ (d[:, :, None] * ut)  # V D U^T
    spread = (p0**2).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(spread > 0, (sing * d).sum(axis=-1) / np.where(spread > 0, spread, 1), 0)
    aligned = scale[:, None, None] * np.einsum("mik,mjk->mji", rot, pred - mu_p) + mu_g
    return np.where(has_any[:, None, None], aligned, pred)


def pa_errors(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """PA-MPJPE errors: each hand Procrustes-aligned (:func:`procrustes_align`) on its
    valid joints, then ``e_nj = ||PA(p)_nj - g_nj||``. Shape ``(N, 42)``."""
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    aligned = np.empty_like(pred)
    for hand in HANDS:
        sl = HAND_SLICES[hand]
        aligned[:, sl] = procrustes_align(pred[:, sl], gt[:, sl], valid[:, sl])
    return joint_errors(aligned, gt)


def mrrpe(pred_cam: np.ndarray, gt_cam: np.ndarray) -> np.ndarray:
    """Mean relative-root position error terms, one per image (mm).

    ``||(p_R - p_L) - (g_R - g_L)||`` with ``R`` = right wrist (20), ``L`` = left wrist
    (41), both in camera coordinates. The caller keeps the interacting images with both
    ground-truth roots valid and averages.
    """
    pred_cam = np.asarray(pred_cam, dtype=np.float64)
    gt_cam = np.asarray(gt_cam, dtype=np.float64)
    right, left = ROOT_INDEX["right"], ROOT_INDEX["left"]
    pred_rel = pred_cam[:, right] - pred_cam[:, left]
    gt_rel = gt_cam[:, right] - gt_cam[:, left]
    return np.linalg.norm(pred_rel - gt_rel, axis=-1)


def expected_hands(hand_type: np.ndarray) -> np.ndarray:
    """``(N, 2)`` bool (right, left): the hands a ground-truth ``hand_type`` implies."""
    hand_type = np.asarray(hand_type)
    interacting = hand_type == "interacting"
    return np.stack([interacting | (hand_type == "right"), interacting | (hand_type == "left")], 1)


def handedness_correct(hands_predicted: np.ndarray, hand_type: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: the set of predicted hands equals the set ``hand_type`` implies.

    ``hands_predicted`` is ``(N, 2)`` bool (right, left). A right-only image is correct
    only with exactly a right hand predicted; an interacting image needs both.
    """
    return (np.asarray(hands_predicted, dtype=bool) == expected_hands(hand_type)).all(axis=-1)


def epe_2d(pred_2d: np.ndarray, gt_2d: np.ndarray) -> np.ndarray:
    """2D end-point error per joint in pixels: ``e_nj = ||u_nj - u*_nj||_2``."""
    return joint_errors(pred_2d, gt_2d)
