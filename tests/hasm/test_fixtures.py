import numpy as np

from handhdr.datasets.interhand import InterHandDataset
from handhdr.hasm.fixtures import make_mask_fixture, skeleton_masks


def test_skeleton_masks_nearer_hand_hides_the_other():
    joints = np.zeros((42, 2), np.float32)
    joints[:21] = [10, 10]
    joints[20] = [30, 10]  # right wrist: one bone from (10,10) to (30,10)
    joints[21:] = [20, 2]
    joints[41] = [20, 18]  # left: a vertical bone crossing it
    cam = np.zeros((42, 3), np.float32)
    cam[:21, 2], cam[21:, 2] = 500, 600  # right is nearer
    masks = skeleton_masks(joints, cam, np.ones(42, bool), (20, 40), thickness=3)
    ra, rv, la, lv = masks
    assert (rv == ra).all()  # the nearer hand is fully visible
    assert la[10, 20] and not lv[10, 20]  # the far hand is hidden at the crossing
    assert not (rv & lv).any() and (lv <= la).all()


def test_fixture_dataset_masks_are_consistent(tmp_path):
    make_mask_fixture(tmp_path, "test", seed=3)
    reader = InterHandDataset(tmp_path, "test", load_hdr_gt=False)
    hands = {"right": 0, "left": 0}
    for i in range(len(reader)):
        s = reader[i]
        assert s.masks is not None
        ra, rv, la, lv = s.masks
        assert (rv <= ra).all() and (lv <= la).all() and not (rv & lv).any()
        hands["right"] += ra.any()
        hands["left"] += la.any()
    assert hands["right"] > 0 and hands["left"] > 0
