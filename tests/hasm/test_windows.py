import numpy as np
import pytest
import torch
import torch.nn.functional as F

from handhdr.hasm.windows import Window, box_window, crop, crop_masks, mask_box, paste


def _interp(array, size):
    t = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    return F.interpolate(t[None], size=size, mode="bilinear", align_corners=False)[0].numpy()


def test_whole_image_window_letterboxes():
    image = np.random.default_rng(0).integers(0, 255, (30, 40, 3), np.uint8)
    window = Window.whole_image(30, 40)
    assert (window.x0, window.y0, window.side) == (0.0, -5.0, 40.0)
    out = crop(image, window, 40)
    np.testing.assert_array_equal(out[5:35], image)
    assert out[:5].max() == 0 and out[35:].max() == 0  # padding is black


def test_upscaling_crop_is_bilinear_like_torch():
    image = np.random.default_rng(1).random((30, 40)).astype(np.float32)
    out = crop(image, Window(5, 5, 20), 40)
    expected = _interp(image[None, 5:25, 5:25], (40, 40))[0]
    np.testing.assert_allclose(out[1:-1, 1:-1], expected[1:-1, 1:-1], atol=1e-5)


def test_downscaling_averages_areas_and_flip_mirrors():
    image = np.zeros((8, 8), np.float32)
    image[:, :4] = 1.0
    out = crop(image, Window(0, 0, 8), 2)
    np.testing.assert_allclose(out, [[1, 0], [1, 0]], atol=1e-6)
    np.testing.assert_allclose(crop(image, Window(0, 0, 8), 2, flip=True), [[0, 1], [0, 1]])


def test_masks_keep_pixels_more_than_half_covered():
    masks = np.zeros((4, 8, 8), bool)
    masks[0, :, :4] = True  # half the image
    masks[1, :2, :2] = True  # a quarter of one output pixel
    out = crop_masks(masks, Window(0, 0, 8), 2)
    assert out.dtype == bool and out.shape == (4, 2, 2)
    np.testing.assert_array_equal(out[0], [[True, False], [True, False]])
    assert not out[1].any()


def test_paste_inverts_the_crop_geometry():
    grid = np.random.default_rng(2).random((4, 10, 10)).astype(np.float32)
    # the network saw the window (10, 10, 20) at 40x40; its stride-4 output, pasted
    # back, is the bilinear upsampling of the grid onto the window's 20x20 pixels
    out = paste(grid, Window(10, 10, 20), 40, 4, (30, 40), fill=-7.0)
    np.testing.assert_allclose(out[:, 10:30, 10:30], _interp(grid, (20, 20)), atol=1e-5)
    assert (out[:, :10] == -7).all() and (out[:, :, 30:] == -7).all()
    with pytest.raises(ValueError, match="grid must be"):
        paste(grid[:, :5], Window(0, 0, 20), 40, 4, (30, 40))


def test_boxes():
    mask = np.zeros((10, 12), bool)
    assert mask_box(mask) is None
    mask[2:5, 3:9] = True
    assert mask_box(mask) == (3.0, 2.0, 9.0, 5.0)
    w = box_window((3.0, 2.0, 9.0, 5.0), 1.5, min_side=4)
    assert w.side == 9.0 and (w.x0 + w.side / 2, w.y0 + w.side / 2) == (6.0, 3.5)
    assert box_window((0, 0, 1, 1), 1.5, min_side=8).side == 8
    assert Window(0, 0, 10).scaled(2) == Window(-5, -5, 20)
