import numpy as np
import pytest
import torch

from handhdr import joints as J


@pytest.mark.parametrize("src", ["interhand", "mano", "mediapipe"])
@pytest.mark.parametrize("dst", ["interhand", "mano", "mediapipe"])
def test_round_trip_between_every_pair(src, dst):
    x = np.random.default_rng(0).normal(size=(4, 21, 3))
    back = J.convert_joints(J.convert_joints(x, src, dst), dst, src)
    np.testing.assert_array_equal(back, x)


def test_known_positions_mano_to_interhand():
    # label each MANO joint by its index and check a few InterHand slots by name
    mano = np.arange(21, dtype=np.float32)[:, None].repeat(3, axis=1)
    ih = J.convert_joints(mano, "mano", "interhand")
    assert ih[J.WRIST, 0] == 0  # MANO wrist is joint 0
    assert ih[0, 0] == 16  # thumb tip is the first appended fingertip
    assert ih[3, 0] == 13  # thumb_1 is MANO joint 13
    assert ih[11, 0] == 4  # middle MCP (middle_1) is MANO joint 4
    assert ih[19, 0] == 7  # pinky_1 is MANO joint 7
    assert ih[12, 0] == 19  # ring tip is the fourth fingertip


def test_known_positions_mediapipe_to_interhand():
    mp = np.arange(21, dtype=np.float32)[:, None].repeat(2, axis=1)
    ih = J.convert_joints(mp, "mediapipe", "interhand")
    assert ih[J.WRIST, 0] == 0
    assert ih[0, 0] == 4  # thumb tip
    assert ih[7, 0] == 5  # index MCP
    assert ih[16, 0] == 20  # pinky tip


def test_torch_input_keeps_type_and_gradient():
    x = torch.randn(2, 21, 3, requires_grad=True)
    y = J.convert_joints(x, "interhand", "mediapipe")
    assert isinstance(y, torch.Tensor)
    y.sum().backward()
    assert torch.all(x.grad == 1)


def test_parents_form_a_tree_rooted_at_the_wrist():
    for parents, root in ((J.INTERHAND_PARENTS, J.WRIST), (J.MANO_PARENTS, 0)):
        for j, p in enumerate(parents):
            seen = set()
            while p != -1:
                assert p not in seen
                seen.add(p)
                j, p = p, parents[p]
            assert j == root
    # every finger chain in the InterHand order ends at the wrist through its MCP
    assert J.INTERHAND_PARENTS[J.MIDDLE_MCP] == J.WRIST
    assert J.INTERHAND_PARENTS[8] == 9  # middle tip hangs on middle_3


def test_42_joint_layout():
    assert J.ROOT_INDEX == {"right": 20, "left": 41}
    assert J.MIDDLE_MCP_INDEX == {"right": 11, "left": 32}
    assert J.INTERHAND42_PARENTS[41] == -1 and J.INTERHAND42_PARENTS[32] == 41
    x = np.random.default_rng(1).normal(size=(42, 3))
    r, l = J.split_hands(x)
    np.testing.assert_array_equal(J.join_hands(r, l), x)
    with pytest.raises(ValueError, match="42"):
        J.split_hands(x[:21])


def test_bad_joint_set_and_shape():
    with pytest.raises(ValueError, match="unknown joint set"):
        J.joint_names("openpose")
    with pytest.raises(ValueError, match="21 joints"):
        J.convert_joints(np.zeros((20, 3)), "mano", "interhand")


def test_root_relative_and_mirror():
    x = np.random.default_rng(2).normal(size=(3, 21, 3)).astype(np.float32)
    rr = J.root_relative(x)
    np.testing.assert_allclose(rr[:, J.WRIST], 0)
    np.testing.assert_allclose(rr[:, 5], x[:, 5] - x[:, J.WRIST])
    m = J.mirror_x(x)
    np.testing.assert_array_equal(m[..., 0], -x[..., 0])
    np.testing.assert_array_equal(m[..., 1:], x[..., 1:])
    np.testing.assert_allclose(J.mirror_x(torch.from_numpy(x)).numpy(), m)
