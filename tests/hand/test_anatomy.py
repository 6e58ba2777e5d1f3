"""The built-in hand's skeleton and implicit skin."""

import numpy as np

from handhdr.hand import anatomy
from handhdr.hand.builtin import skeleton


def test_proportions_are_those_of_an_adult_hand():
    joints, tips, _ = skeleton()
    hand_length = np.linalg.norm(tips[2] - joints[0])  # wrist to middle fingertip
    assert 0.17 < hand_length < 0.20
    breadth = np.linalg.norm(joints[1] - joints[7])  # index to pinky knuckle
    assert 0.055 < breadth < 0.07
    # digit lengths from the base joint: middle > ring ~ index > pinky; thumb shortest tip reach
    length = {
        n: np.linalg.norm(tips[k] - joints[c[0]])
        for k, (n, c) in enumerate((name, anatomy.DIGIT_JOINTS[name]) for name in anatomy.DIGITS)
    }
    assert length["middle"] > length["ring"] > length["pinky"]
    assert length["middle"] > length["index"] > length["pinky"]


def test_phalanges_taper_towards_the_tips():
    for digit in anatomy.right_hand_digits().values():
        joints_r = digit.radii[[0, 2, 4, 6]]
        assert (np.diff(joints_r) < 0).all(), digit.name


def test_joints_are_inside_and_tips_on_the_skin():
    joints, tips, _ = skeleton()
    assert (anatomy.hand_sdf(joints) < -0.004).all()
    np.testing.assert_allclose(anatomy.hand_sdf(tips), 0.0, atol=0.0015)


def test_fingers_are_separate_beyond_the_webs():
    digits = anatomy.right_hand_digits()
    for a, b in (("index", "middle"), ("middle", "ring"), ("ring", "pinky")):
        # half way between the two PIP joints there is air
        gap = 0.5 * (digits[a].joints[1] + digits[b].joints[1])
        assert anatomy.hand_sdf(gap[None])[0] > 0, (a, b)


def test_nearest_part_labels_digits_and_palm():
    digits = anatomy.right_hand_digits()
    points = np.stack([digits["index"].joints[2], digits["thumb"].joints[2], [-0.05, 0.0, 0.0]])
    labels = anatomy.nearest_part(points)
    assert [anatomy.PART_NAMES[k] for k in labels] == ["index", "thumb", "palm"]
