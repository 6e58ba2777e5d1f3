"""The eval-shpe protocol on a tiny dataset with estimators of known errors."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.datasets.interhand import InterHandDataset
from handhdr.datasets.masks import mask_path, read_masks
from handhdr.joints import HAND_SLICES, MIDDLE_MCP, WRIST
from handhdr.shpe.evaluate import evaluate_shpe
from handhdr.shpe.interface import HandPoseResult, crops_as_float

SIZE = 40
SHIFT_2D = np.array([3.0, 4.0])  # 5 px
SCALE_3D = 1.1


def _expected_hands(root, split="test"):
    """Ground truth of every evaluated hand, computed here from the files: the square
    box of the amodal mask x2, crop pixels (mirrored for left), mirrored 3D."""
    dataset = InterHandDataset(root, split, load_images=False, load_masks=False)
    gt = dataset.ground_truth()
    hands = []
    for i, name in enumerate(gt.file_names):
        hand = str(gt.hand_type[i])
        sl = HAND_SLICES[hand]
        valid = gt.joint_valid[i, sl]
        if hand == "interacting" or not valid[WRIST]:
            continue
        amodal = read_masks(mask_path(root, split, name))[0 if hand == "right" else 2]
        rows, cols = np.nonzero(amodal)
        x0, x1, y0, y1 = cols.min() - 0.5, cols.max() + 0.5, rows.min() - 0.5, rows.max() + 0.5
        side = 2 * max(x1 - x0, y1 - y0)
        left, top = (x0 + x1) / 2 - side / 2, (y0 + y1) / 2 - side / 2
        uv = (gt.joints_img[i, sl] - [left, top]) * SIZE / side - 0.5
        rel = gt.joints_cam[i, sl] - gt.joints_cam[i, sl][WRIST]
        if hand == "left":
            uv[:, 0] = SIZE - 1 - uv[:, 0]
            rel = rel * [-1.0, 1.0, 1.0]
        hands.append((uv, rel, valid))
    return hands


class Oracle:
    """Returns the ground truth of each crop, in the protocol's order, with known errors:
    2D shifted by 5 px, 3D scaled by 1.1."""

    name = "oracle"
    input_size = SIZE
    scale_rule = "ground truth x 1.1"

    def __init__(self, hands):
        self.hands = list(hands)

    def __call__(self, crops):
        n = len(crops_as_float(crops))
        batch, self.hands = self.hands[:n], self.hands[n:]
        return HandPoseResult(
            np.stack([uv + SHIFT_2D for uv, _, _ in batch]),
            np.stack([rel * SCALE_3D for _, rel, _ in batch]),
            np.ones(n),
        )


def test_known_errors(sh_root):
    hands = _expected_hands(sh_root)
    dataset = InterHandDataset(sh_root, "test")
    metrics = evaluate_shpe(dataset, Oracle(hands), batch_size=3, progress=False)
    assert metrics["mpjpe"] == pytest.approx(0.0, abs=1e-3)  # the bone rule undoes x1.1
    assert metrics["epe_2d"] == pytest.approx(5.0, abs=1e-3)
    errors = [np.linalg.norm(rel, axis=-1)[valid] * (SCALE_3D - 1) for _, rel, valid in hands]
    assert metrics["mpjpe_prior_scale"] == pytest.approx(np.concatenate(errors).mean(), rel=1e-4)
    c = metrics["counts"]
    single = int(np.isin(dataset.hand_types, ("right", "left")).sum())
    assert c["hands"] == len(hands) and c["images"] == single
    assert c["hands"] + c["hands_without_root"] == single
    assert c["right"] + c["left"] == c["hands"] and c["left"] > 0 and c["right"] > 0
    assert metrics["box_source"] == {"amodal_mask": len(hands), "joints": 0}
    assert metrics["notes"] == []
    assert set(metrics["per_joint_mpjpe"]) >= {"wrist", "thumb_4"}


def test_missed_hands_cost_their_distance_to_the_root(sh_root):
    class Blind:
        name, input_size, scale_rule = "blind", SIZE, "none"

        def __call__(self, crops):
            return HandPoseResult.empty(len(crops), SIZE)

    hands = _expected_hands(sh_root)
    metrics = evaluate_shpe(InterHandDataset(sh_root, "test"), Blind(), progress=False)
    assert metrics["counts"]["not_found"] == len(hands)
    scaled = [
        np.linalg.norm(rel, axis=-1)[valid & valid[MIDDLE_MCP]]
        for _, rel, valid in hands
        if valid[MIDDLE_MCP]
    ]
    assert metrics["mpjpe"] == pytest.approx(np.concatenate(scaled).mean(), rel=1e-4)


def test_without_masks_boxes_come_from_joints_and_the_results_say_so(tmp_path, single_hand_dataset):
    dataset = single_hand_dataset(tmp_path, "test", seed=4, masks=False)

    class Centre:
        name, input_size, scale_rule = "centre", SIZE, "none"

        def __call__(self, crops):
            return HandPoseResult.empty(len(crops), SIZE)

    metrics = evaluate_shpe(dataset, Centre(), progress=False, limit=5)
    assert metrics["counts"]["images"] == 5
    assert metrics["box_source"]["amodal_mask"] == 0
    assert metrics["box_source"]["joints"] == metrics["counts"]["hands"] > 0
    assert "box of the valid 2D joints" in metrics["notes"][0]
