import numpy as np
import pytest
import torch

from handhdr.crop import (
    CropBox,
    box_from_joints,
    box_from_mask,
    crop_image,
    crop_masks,
    uncrop_image,
    warp_affine_torch,
)


def _smooth_image(h: int, w: int) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 127 + 100 * np.sin(xs / 7.0) * np.cos(ys / 9.0)
    g = 2.0 * xs + ys
    b = 60 + 80 * np.cos((xs + ys) / 11.0)
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)


def test_box_from_mask_is_centred_square_scaled():
    mask = np.zeros((50, 80), bool)
    mask[10:20, 30:60] = True  # rows 10..19, cols 30..59: w = 30, h = 10
    box = box_from_mask(mask, resolution=64, scale=2.0)
    assert box.center == (44.5, 14.5)
    assert box.side == 60.0
    # the mask's outer pixel edges land a quarter of the way into the crop
    np.testing.assert_allclose(
        box.to_crop([[29.5, 14.5], [59.5, 14.5]]), [[15.5, 31.5], [47.5, 31.5]]
    )


def test_empty_mask_and_no_valid_joints_mean_absent():
    assert box_from_mask(np.zeros((8, 8), bool), 32) is None
    joints = np.ones((21, 2))
    assert box_from_joints(joints, 32, valid=np.zeros(21, bool)) is None
    assert box_from_joints(np.full((21, 2), np.nan), 32) is None


def test_box_from_joints_and_minimum_side():
    joints = np.array([[10.0, 20.0], [30.0, 25.0], [999.0, 999.0]])
    box = box_from_joints(joints, 64, scale=2.0, valid=np.array([True, True, False]))
    assert box.center == (20.0, 22.5)
    assert box.side == 40.0
    single = box_from_joints(joints[:1], 64, min_side=16.0)
    assert single.side == 16.0 and single.center == (10.0, 20.0)


def test_points_round_trip_exactly_with_and_without_flip():
    rng = np.random.default_rng(0)
    points = rng.uniform(-50, 400, size=(42, 2))
    for flip in (False, True):
        box = CropBox((123.4, 87.6), 91.3, 128, flip)
        np.testing.assert_allclose(box.from_crop(box.to_crop(points)), points, atol=1e-9)
        np.testing.assert_allclose(box.to_crop(box.from_crop(points)), points, atol=1e-9)


def test_flip_mirrors_about_the_crop_centre():
    plain = CropBox((40.0, 30.0), 20.0, 16, flip=False)
    flipped = CropBox((40.0, 30.0), 20.0, 16, flip=True)
    pts = np.array([[33.0, 27.0], [45.0, 36.0]])
    a, b = plain.to_crop(pts), flipped.to_crop(pts)
    np.testing.assert_allclose(b[:, 0], 15 - a[:, 0])
    np.testing.assert_allclose(b[:, 1], a[:, 1])


def test_left_crop_is_the_mirror_of_the_plain_crop_and_flips_back():
    image = _smooth_image(60, 90)
    masks = np.zeros((4, 60, 90), bool)
    masks[2, 20:40, 30:45] = True  # a left amodal mask
    masks[3, 25:40, 30:40] = True
    box = box_from_mask(masks[2], 32, flip=False)
    left = box_from_mask(masks[2], 32, flip=True)
    np.testing.assert_array_equal(crop_image(image, left), crop_image(image, box)[:, ::-1])
    np.testing.assert_array_equal(crop_masks(masks, left), crop_masks(masks, box)[:, :, ::-1])
    # flipping the left crop back gives the plain crop
    np.testing.assert_array_equal(crop_image(image, left)[:, ::-1], crop_image(image, box))


def test_image_round_trip_within_interpolation_error():
    image = _smooth_image(120, 160).astype(np.float32)
    for flip in (False, True):
        box = CropBox((80.0, 60.0), 50.0, 100, flip)  # 2x upsampling
        crop = crop_image(image, box)
        back, coverage = uncrop_image(crop, box, image.shape[:2])
        assert coverage.sum() > 45 * 45
        err = np.abs(back[coverage] - image[coverage])
        assert err.mean() < 1.0 and err.max() < 6.0
        x0, y0, x1, y1 = box.corners()
        assert (back[:, : int(x0) - 1] == 0).all() and (back[:, int(x1) + 2 :] == 0).all()
        assert not coverage[:, : int(x0) - 1].any() and not coverage[: int(y0) - 1].any()


def test_crop_outside_the_image_is_padded_with_the_border_value():
    image = np.full((20, 20, 3), 200, np.uint8)
    mask = np.zeros((20, 20), bool)
    mask[0:6, 0:6] = True  # touches the top-left corner
    box = box_from_mask(mask, 24)
    crop = crop_image(image, box, border_value=7)
    assert box.center == (2.5, 2.5)
    assert (crop[:4, :4] == 7).all()  # left of and above the image
    assert (crop[-6:, -6:] == 200).all()  # inside it


def test_crop_masks_keeps_a_block_mask_block_shaped():
    masks = np.zeros((2, 40, 40), bool)
    masks[0, 10:30, 10:30] = True
    box = CropBox((19.5, 19.5), 40.0, 40)  # identity
    out = crop_masks(masks, box)
    np.testing.assert_array_equal(out, masks)


def test_torch_warp_agrees_with_opencv():
    image = _smooth_image(50, 70).astype(np.float32)
    boxes = [CropBox((30.2, 22.7), 41.0, 32, False), CropBox((60.0, 5.0), 30.0, 32, True)]
    batch = torch.from_numpy(np.stack([image] * 2)).permute(0, 3, 1, 2)
    matrices = torch.from_numpy(np.stack([b.matrix for b in boxes]))
    out = warp_affine_torch(batch, matrices, (32, 32)).permute(0, 2, 3, 1).numpy()
    for k, box in enumerate(boxes):
        np.testing.assert_allclose(out[k], crop_image(image, box), atol=0.05)
    back = warp_affine_torch(
        torch.from_numpy(out).permute(0, 3, 1, 2),
        torch.from_numpy(np.stack([b.inverse_matrix for b in boxes])),
        (50, 70),
    )
    ref, _ = uncrop_image(out[0], boxes[0], (50, 70))
    np.testing.assert_allclose(back[0].permute(1, 2, 0).numpy(), ref, atol=0.05)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="positive side"):
        CropBox((0.0, 0.0), 0.0, 32)
    with pytest.raises(ValueError, match="H x W"):
        box_from_mask(np.zeros((2, 3, 3)), 32)
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        CropBox((0.0, 0.0), 4.0, 8).to_crop(np.zeros((3, 3)))
