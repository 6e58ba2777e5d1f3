import numpy as np
import torch

from handhdr.hdrm.masks import (
    TARGET_DISTRACTOR_ORDER,
    composite,
    deocclusion_removal_masks,
    erased_region,
)


def _row(*values):
    return np.array(values, np.float32).reshape(1, 1, -1)  # (1, 1, W): one channel


# a 1 x 6 scene: the target hand covers pixels 0-2 and is seen only at 0; the
# distractor covers 1-4 and is on top; pixel 5 is background
M_TA = _row(1, 1, 1, 0, 0, 0)
M_TV = _row(1, 0, 0, 0, 0, 0)
M_DA = _row(0, 1, 1, 1, 1, 0)
M_DV = _row(0, 1, 1, 1, 1, 0)
IMAGE = np.stack([_row(10, 20, 30, 40, 50, 60)[0]] * 3)  # (3, 1, 6)


def test_equations_2_and_3_on_a_hand_made_scene():
    out = deocclusion_removal_masks(IMAGE, M_TA, M_TV, M_DA, M_DV)
    np.testing.assert_array_equal(out.m_d[0, 0], [0, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(out.m_r[0, 0], [0, 0, 0, 1, 1, 0])
    np.testing.assert_array_equal(out.m_bv[0, 0], [0, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(out.i_d[0, 0], [10, 0, 0, 40, 50, 60])
    np.testing.assert_array_equal(out.i_r[0, 0], [10, 20, 30, 0, 0, 60])
    np.testing.assert_array_equal(out.valid[0, 0], [1, 0, 0, 0, 0, 1])
    assert out.network_input.shape == (8, 1, 6)
    np.testing.assert_array_equal(out.network_input[3], M_TV[0])  # I_D, M_tv, I_R, M_bv
    np.testing.assert_array_equal(out.network_input[4:7], out.i_r)
    np.testing.assert_array_equal(out.network_input[7], out.m_bv[0])


def test_a_distractor_hidden_by_the_target_is_not_removed():
    # target on top at pixel 1: the distractor is there (amodal) but not visible
    m_tv = _row(1, 1, 0, 0, 0, 0)
    m_dv = _row(0, 0, 1, 1, 1, 0)
    out = deocclusion_removal_masks(IMAGE, M_TA, m_tv, M_DA, m_dv)
    np.testing.assert_array_equal(out.m_d[0, 0], [0, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(out.m_r[0, 0], [0, 0, 0, 1, 1, 0])


def test_ablation_switches():
    no_removal = deocclusion_removal_masks(IMAGE, M_TA, M_TV, M_DA, M_DV, removal=False)
    assert not no_removal.m_r.any()
    np.testing.assert_array_equal(no_removal.i_r, IMAGE)
    np.testing.assert_array_equal(no_removal.m_d[0, 0], [0, 1, 1, 0, 0, 0])
    no_deocc = deocclusion_removal_masks(IMAGE, M_TA, M_TV, M_DA, M_DV, deocclusion=False)
    assert not no_deocc.m_d.any()
    np.testing.assert_array_equal(no_deocc.i_d, IMAGE)
    np.testing.assert_array_equal(no_deocc.valid[0, 0], [1, 1, 1, 0, 0, 1])


def test_torch_batches_with_per_sample_switches():
    t = [torch.from_numpy(np.stack([a, a])) for a in (IMAGE, M_TA, M_TV, M_DA, M_DV)]
    switch_d = torch.tensor([1.0, 0.0]).view(2, 1, 1, 1)
    out = deocclusion_removal_masks(*t, deocclusion=switch_d, removal=True)
    assert out.network_input.shape == (2, 8, 1, 6)
    assert out.m_d[0].sum() == 2 and out.m_d[1].sum() == 0
    assert torch.equal(out.m_r[0], out.m_r[1])


def test_target_distractor_order_follows_mask_names():
    from handhdr.datasets.schema import MASK_NAMES

    for hand, other in (("right", "left"), ("left", "right")):
        names = [MASK_NAMES[i] for i in TARGET_DISTRACTOR_ORDER[hand]]
        expected = [f"{hand}_amodal", f"{hand}_visible", f"{other}_amodal", f"{other}_visible"]
        assert names == expected


def test_erased_region_dilation_and_composite_exactness():
    m_d = torch.zeros(1, 1, 9, 9)
    m_r = torch.zeros(1, 1, 9, 9)
    m_d[0, 0, 4, 4] = 1
    m_r[0, 0, 0, 8] = 1
    assert erased_region(m_d, m_r).sum() == 2
    dilated = erased_region(m_d, m_r, dilation=1)
    assert dilated.sum() == 9 + 4  # a 3x3 block, and a 2x2 corner block
    image = torch.rand(1, 3, 9, 9)
    output = torch.full((1, 3, 9, 9), float("nan"))
    out = composite(image, output, dilated)
    keep = dilated.expand_as(image) < 0.5
    assert torch.equal(out[keep], image[keep])
    assert torch.isnan(out[~keep]).all()
