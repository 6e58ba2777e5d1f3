import numpy as np
import pytest

from handhdr.joints import INTERHAND_PARENTS
from handhdr.synth.collision import (
    SHRINK,
    hand_capsules,
    mutual_penetration,
    segment_distances,
    separate,
)

RADIUS = 0.008


def _flat_hand(rng):
    """A flat hand skeleton in the z = 0 plane (metres, InterHand order), fingers along +y."""
    joints = np.zeros((21, 3))
    for finger, x in enumerate((0.04, 0.02, 0.0, -0.02, -0.04)):
        base = np.array([x, 0.08 if finger else 0.03, 0.0])
        lengths = rng.uniform(0.018, 0.03, 3)
        chain = [base]
        for length in lengths:
            chain.append(chain[-1] + [0.0, length, 0.0])
        joints[4 * finger : 4 * finger + 4] = np.array(chain[::-1])
    return joints


def _tube_hand(rng, joints):
    """Skin points on 8 mm tubes around the bones of a joint skeleton (metres)."""
    points = []
    for child, parent in enumerate(INTERHAND_PARENTS[:20]):
        a, b = joints[child], joints[parent]
        axis = (b - a) / np.linalg.norm(b - a)
        ortho = np.linalg.svd(axis[None])[2][1:]  # two unit vectors orthogonal to the bone
        t = rng.random(60)[:, None]
        angle = rng.uniform(0, 2 * np.pi, 60)
        ring = np.cos(angle)[:, None] * ortho[0] + np.sin(angle)[:, None] * ortho[1]
        points.append(a + t * (b - a) + RADIUS * ring)
    return np.concatenate(points)


def test_segment_distance_by_hand():
    points = np.array([[0.0, 1.0, 0.0], [-2.0, 0.0, 0.0], [0.5, 0.0, 0.0]])
    d = segment_distances(points, np.zeros((1, 3)), np.array([[1.0, 0.0, 0.0]]))
    np.testing.assert_allclose(d[:, 0], [1.0, 2.0, 0.0])


def test_capsules_fit_the_skin_and_resolution_separates_minimally():
    rng = np.random.default_rng(0)
    joints = _flat_hand(rng)
    skin = _tube_hand(rng, joints)
    caps = hand_capsules(joints, skin)
    finger_bones = caps.radius[:16]  # the phalanges; palm capsules see several tubes
    np.testing.assert_allclose(np.median(finger_bones), SHRINK * RADIUS, rtol=0.1)

    other_joints = joints + [0.0, 0.0, 0.03]  # far above the palm plane: no contact
    other = hand_capsules(other_joints, skin + [0.0, 0.0, 0.03])
    assert mutual_penetration(skin, caps, skin + [0.0, 0.0, 0.03], other) == 0.0

    shift = np.array([0.0, 0.0, 0.006])  # the tubes overlap by 10 mm
    moved = hand_capsules(joints + shift, skin + shift)
    depth = mutual_penetration(skin, caps, skin + shift, moved)
    assert depth > 0.005
    push = separate(skin, caps, skin + shift, moved, np.array([0.0, 0.0, 1.0]))
    assert push is not None
    after = mutual_penetration(skin, caps, skin + shift + push, moved.translated(push))
    assert after == 0.0
    # minimal: skins end up about touching (shrunk capsules), not far apart
    assert 0.006 + push[2] == pytest.approx(2 * SHRINK * RADIUS + 0.0, abs=0.004)


def test_separation_gives_up_beyond_the_limit():
    rng = np.random.default_rng(1)
    joints = _flat_hand(rng)
    skin = _tube_hand(rng, joints)
    caps = hand_capsules(joints, skin)
    # the same hand twice: pushing sideways by 1 cm is never enough
    assert separate(skin, caps, skin, caps, np.array([1.0, 0.0, 0.0]), max_push_m=0.01) is None
    gap = separate(skin, caps, skin, caps, np.array([0.0, 0.0, 1.0]), gap_m=0.02, max_push_m=0.2)
    assert gap is not None and gap[2] > 0.02
