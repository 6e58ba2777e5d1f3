import cv2
import numpy as np
import pytest
from PIL import Image

from handhdr.io import ImageReadError, read_image, write_image


@pytest.fixture
def rgb():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(12, 17, 3), dtype=np.uint8)


def test_png_rgb_round_trip(tmp_path, rgb):
    write_image(tmp_path / "a.png", rgb)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)


def test_grayscale_becomes_three_equal_channels(tmp_path, rgb):
    Image.fromarray(rgb[:, :, 0]).save(tmp_path / "g.png")
    out = read_image(tmp_path / "g.png")
    assert out.shape == (12, 17, 3) and out.dtype == np.uint8
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], rgb[:, :, 0])


def test_rgba_drops_alpha_and_keeps_colour(tmp_path, rgb):
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 7, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)


def test_16bit_gray_and_colour_are_scaled_to_8bit(tmp_path):
    gray16 = np.array([[0, 257 * 128, 65535]], dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "g16.png"), gray16)
    out = read_image(tmp_path / "g16.png")
    np.testing.assert_array_equal(out[0, :, 0], [0, 128, 255])
    colour16 = np.zeros((2, 2, 3), np.uint16)
    colour16[..., 2] = 65535  # red in OpenCV's BGR order
    colour16[..., 1] = 257 * 10
    cv2.imwrite(str(tmp_path / "c16.png"), colour16)
    out = read_image(tmp_path / "c16.png")
    np.testing.assert_array_equal(out[0, 0], [255, 10, 0])


def test_exif_orientation_is_applied(tmp_path):
    img = np.zeros((4, 8, 3), np.uint8)
    img[0, 0] = 255  # a white pixel in the stored top-left corner
    pil = Image.fromarray(img)
    exif = pil.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    pil.save(tmp_path / "r.jpg", exif=exif, quality=100)
    out = read_image(tmp_path / "r.jpg")
    assert out.shape == (8, 4, 3)
    assert out[0, -1].mean() > 200  # the corner moved to the top right


def test_palette_and_cmyk(tmp_path, rgb):
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").shape == (12, 17, 3)
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "c.jpg")
    assert read_image(tmp_path / "c.jpg").shape == (12, 17, 3)


@pytest.mark.parametrize(
    "content, message",
    [(b"", "empty"), (b"not an image at all", "not a readable image")],
)
def test_unreadable_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=message) as info:
        read_image(path)
    assert "bad.jpg" in str(info.value)


def test_truncated_jpeg_is_an_error_not_grey_pixels(tmp_path, rgb):
    big = np.repeat(np.repeat(rgb, 20, axis=0), 20, axis=1)
    write_image(tmp_path / "full.jpg", big)
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="cut.jpg"):
        read_image(tmp_path / "cut.jpg")


def test_missing_file(tmp_path):
    with pytest.raises(ImageReadError, match="no such image"):
        read_image(tmp_path / "nope.png")


def test_write_jpeg_quality(tmp_path, rgb):
    big = cv2.resize(rgb, (170, 120), interpolation=cv2.INTER_LINEAR)
    write_image(tmp_path / "hi.jpg", big, jpeg_quality=98)
    write_image(tmp_path / "lo.jpg", big, jpeg_quality=30)
    err_hi = np.abs(read_image(tmp_path / "hi.jpg").astype(int) - big).mean()
    err_lo = np.abs(read_image(tmp_path / "lo.jpg").astype(int) - big).mean()
    assert err_hi < err_lo
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary files left behind
