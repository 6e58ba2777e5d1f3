import numpy as np
import pytest

from handhdr.hasm.inference import HASMPredictor, InferenceSettings


class ColourRunner:
    """Stands for a network: red pixels are the right hand, blue ones the left hand;
    amodal = visible. Logits are +-10 per stride-4 cell (mean of the cell)."""

    stride = 4

    def __init__(self):
        self.sizes = []

    def __call__(self, crops):
        self.sizes.append(crops.shape[1])
        b, s = crops.shape[:2]
        cells = crops.reshape(b, s // 4, 4, s // 4, 4, 3).astype(float).mean((2, 4))
        red = (cells[..., 0] > 128) & (cells[..., 2] < 128)
        blue = (cells[..., 2] > 128) & (cells[..., 0] < 128)
        out = np.stack([red, red, blue, blue], axis=1)
        return np.where(out, 10.0, -10.0).astype(np.float32)


def scene(h=300, w=500):
    image = np.full((h, w, 3), 90, np.uint8)
    truth = np.zeros((4, h, w), bool)
    truth[0:2, 100:160, 200:260] = True
    truth[2:4, 120:170, 270:330] = True
    image[truth[0]] = (230, 40, 40)
    image[truth[2]] = (40, 40, 230)
    return image, truth


def test_coarse_to_fine_masks_at_the_image_resolution():
    image, truth = scene()
    runner = ColourRunner()
    result = HASMPredictor(runner, InferenceSettings(size=160, coarse_size=64))(image)
    assert runner.sizes == [64, 160]  # whole frame small, then the two-hand region
    assert result.masks.shape == truth.shape and result.masks.dtype == bool
    # the union box x 200..330, y 100..170, as seen on the coarse grid (cells of
    # 500 / 16 px), enlarged x 1.5: it holds both hands with a margin
    region = result.region
    assert region is not None
    assert region.x0 < 200 - 20 and region.x0 + region.side > 330 + 20
    assert region.y0 < 100 - 20 and region.y0 + region.side > 170 + 20
    assert region.side <= 1.5 * (130 + 2 * 500 / 16)
    inter = (result.masks & truth).sum((1, 2))
    union = (result.masks | truth).sum((1, 2))
    assert (inter / union).min() > 0.8
    assert result.probabilities.max() <= 1.0 and result.probabilities[0, 130, 230] > 0.99


def test_fine_pass_is_sharper_than_the_coarse_one():
    image, truth = scene()
    coarse_only = HASMPredictor(ColourRunner(), InferenceSettings(size=32, coarse_to_fine=False))(
        image
    )
    fine = HASMPredictor(ColourRunner(), InferenceSettings(size=32))(image)
    assert coarse_only.region is None

    def miou(masks):
        return ((masks & truth).sum((1, 2)) / (masks | truth).sum((1, 2))).mean()

    assert miou(fine.masks) > miou(coarse_only.masks) + 0.05


@pytest.mark.parametrize("hands", [0, 1])
def test_zero_or_one_hand(hands):
    image, truth = scene()
    if hands == 0:
        image[:] = 90
        truth[:] = False
    else:
        image[truth[2]] = 90  # the left hand is gone
        truth[2:] = False
    result = HASMPredictor(ColourRunner(), InferenceSettings(size=64))(image)
    assert (result.region is None) == (hands == 0)
    assert not result.masks[2:].any()
    assert result.masks[0].any() == (hands == 1)


def test_threshold_and_bad_input():
    with pytest.raises(ValueError, match="multiple of 32"):
        HASMPredictor(ColourRunner(), InferenceSettings(size=100))
    with pytest.raises(ValueError, match="threshold"):
        HASMPredictor(ColourRunner(), InferenceSettings(threshold=1.0))
    with pytest.raises(ValueError, match="uint8 RGB"):
        HASMPredictor(ColourRunner())(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="unknown inference keys"):
        InferenceSettings.from_dict({"sise": 3})
