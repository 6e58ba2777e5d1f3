import math
from pathlib import Path

import numpy as np
import pytest

from handhdr.datasets.schema import Sample
from handhdr.hdrm.data import crop_hand
from handhdr.hdrm.evaluate import RegionScore, evaluate_hdr, ssim_map, telea_inpaint

BG, RIGHT, LEFT = 100, 200, 50


def _sample(hand_type="interacting"):
    """Two 16 x 16 squares on a flat background, the left one on top."""
    image = np.full((64, 64, 3), BG, np.uint8)
    masks = np.zeros((4, 64, 64), bool)
    masks[0, 20:36, 16:32] = True
    masks[2, 24:40, 26:42] = True
    masks[1] = masks[0] & ~masks[2]
    masks[3] = masks[2]
    gt_right = image.copy()
    gt_right[masks[0]] = RIGHT
    gt_left = image.copy()
    gt_left[masks[2]] = LEFT
    image[masks[1]] = RIGHT
    image[masks[3]] = LEFT
    return Sample(
        file_name="a.png", image_path=Path("a.png"), hand_type=hand_type,
        joints_cam=np.zeros((42, 3), np.float32), joints_img=np.zeros((42, 2), np.float32),
        joint_valid=np.zeros(42, bool), intrinsics=np.eye(3, dtype=np.float32),
        image=image, masks=masks, hdr_gt={"right": gt_right, "left": gt_left},
    )  # fmt: skip


def _identity(images, masks):
    return images.copy()


def test_identity_scores_by_hand():
    # 32 px boxes at 32 px: crops are exact copies. Right target: the 12 x 6 overlap
    # shows the left hand (50) where the right one (200) belongs: error 150; the 152
    # left-hand pixels in its crop outside the right hand should be background (100):
    # error 50. Left target: nothing hidden; the 152 right-hand pixels in its crop
    # should be background: error 100.
    single = _sample("right")
    result = evaluate_hdr([_sample(), single], {"id": _identity}, resolution=32, batch_size=1)
    d, r = result["id"]["deocclusion"], result["id"]["removal"]
    assert d["pixels"] == 72 and r["pixels"] == 304
    assert d["l1"] == pytest.approx(150.0)
    assert d["psnr"] == pytest.approx(10 * math.log10(255**2 / 150**2))
    assert r["l1"] == pytest.approx((152 * 50 + 152 * 100) / 304)
    assert r["psnr"] == pytest.approx(10 * math.log10(255**2 / ((152 * 2500 + 152 * 10000) / 304)))
    assert -1 <= d["ssim"] < 0.9 and -1 <= r["ssim"] < 0.9
    assert result["counts"] == {"images": 1, "hands": 2}


def test_a_perfect_method_has_ssim_one_and_no_error():
    sample = _sample()
    answers = {}
    for hand in ("right", "left"):
        crop = crop_hand(sample.image, sample.masks, hand, 32, 2.0, sample.hdr_gt[hand])
        answers[crop.image.tobytes()] = crop.target

    def oracle(images, masks):
        return np.stack([answers[im.tobytes()] for im in images])

    result = evaluate_hdr([sample], {"oracle": oracle}, resolution=32)
    for region in ("deocclusion", "removal"):
        scores = result["oracle"][region]
        assert scores["l1"] == 0 and scores["ssim"] == pytest.approx(1.0)
        assert scores["psnr"] == pytest.approx(10 * math.log10(255**2 / 1e-10))


def test_telea_fills_only_the_holes_and_beats_doing_nothing():
    sample = _sample()
    crop = crop_hand(sample.image, sample.masks, "right", 32)
    filled = telea_inpaint(crop.image[None], crop.masks[None])[0]
    m_d, m_r = crop.regions()
    keep = ~(m_d | m_r)
    np.testing.assert_array_equal(filled[keep], crop.image[keep])
    assert not np.array_equal(filled[m_r], crop.image[m_r])
    result = evaluate_hdr([sample], {"id": _identity, "telea": telea_inpaint}, resolution=32)
    assert result["telea"]["removal"]["l1"] < result["id"]["removal"]["l1"]


def test_empty_regions_report_none_and_ssim_map_of_equal_images_is_one():
    assert RegionScore().result() == {"psnr": None, "ssim": None, "l1": None, "pixels": 0}
    image = np.random.default_rng(0).integers(0, 255, (20, 20, 3), dtype=np.uint8)
    np.testing.assert_allclose(ssim_map(image, image), 1.0)
    assert ssim_map(image, 255 - image).mean() < 0


def test_missing_ground_truth_names_the_image():
    sample = _sample()
    del sample.hdr_gt["left"]
    with pytest.raises(ValueError, match=r"a\.png.*left hand"):
        evaluate_hdr([sample], {"id": _identity}, resolution=32)
