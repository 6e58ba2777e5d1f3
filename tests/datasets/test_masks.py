import numpy as np
import pytest

from handhdr.datasets.masks import (
    decode_masks,
    encode_masks,
    hdr_gt_path,
    mask_path,
    read_masks,
    write_masks,
)


def test_bits_follow_the_documented_layout():
    masks = np.zeros((4, 1, 4), bool)
    masks[0, 0, 0] = True  # right amodal -> bit 0
    masks[1, 0, 1] = True  # right visible -> bit 1
    masks[2, 0, 2] = True  # left amodal -> bit 2
    masks[3, 0, 3] = True  # left visible -> bit 3
    masks[:, 0, 3] = True
    np.testing.assert_array_equal(encode_masks(masks)[0], [1, 2, 4, 15])


def test_png_round_trip(tmp_path):
    masks = np.random.default_rng(0).random((4, 9, 13)) > 0.5
    write_masks(tmp_path / "m.png", masks)
    np.testing.assert_array_equal(read_masks(tmp_path / "m.png", shape=(9, 13)), masks)
    np.testing.assert_array_equal(decode_masks(encode_masks(masks)), masks)


def test_read_checks_size_values_and_format(tmp_path):
    from handhdr.io import write_image

    write_masks(tmp_path / "m.png", np.zeros((4, 5, 5), bool))
    with pytest.raises(ValueError, match=r"m\.png.*\(6, 5\)"):
        read_masks(tmp_path / "m.png", shape=(6, 5))
    write_image(tmp_path / "v.png", np.full((3, 3), 200, np.uint8))
    with pytest.raises(ValueError, match="above 15"):
        read_masks(tmp_path / "v.png")
    write_image(tmp_path / "c.png", np.zeros((3, 3, 3), np.uint8))
    with pytest.raises(ValueError, match="single-channel"):
        read_masks(tmp_path / "c.png")
    with pytest.raises(ValueError, match="shape"):
        encode_masks(np.zeros((3, 2, 2), bool))


def test_paths_follow_the_layout(tmp_path):
    name = "Capture0/ROM01/cam400002/image1234.jpg"
    assert mask_path(tmp_path, "test", name) == (
        tmp_path / "masks/test/Capture0/ROM01/cam400002/image1234.png"
    )
    assert hdr_gt_path(tmp_path, "val", name, "left") == (
        tmp_path / "hdr_gt/val/Capture0/ROM01/cam400002/image1234_left.png"
    )
    with pytest.raises(ValueError, match="hand"):
        hdr_gt_path(tmp_path, "val", name, "both")
