import numpy as np
import pytest
import torch

from handhdr.hasm.inference import HASMPredictor, InferenceSettings
from handhdr.hasm.side import (
    LeftLogit,
    SideClassifier,
    SideCropSettings,
    SideNet,
    SideNetConfig,
    assign_sides,
    export_side_onnx,
    hand_crop,
    load_side,
    onnx_side_classifier,
    save_side,
    side_classifier,
)
from handhdr.training.weights import WeightsError

TINY = SideNetConfig(widths=(4, 8), hidden=8)
SMALL_CROPS = SideCropSettings(size=32, context=40, scale=1.3, min_pixels=10)


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread) -> None:
    """Tiny networks on one torch thread."""


def tiny_side(seed=0):
    torch.manual_seed(seed)
    return SideNet(TINY).eval()


def test_side_net_outputs_and_mirror_antisymmetry():
    net = tiny_side()
    x = torch.rand(3, 4, 32, 32)
    assert net(x).shape == (3, 7)
    deployed = LeftLogit(net)
    # the mirror-averaged logit of a mirrored crop is exactly minus that of the crop
    a, b = deployed(x * 255), deployed(x.flip(-1) * 255)
    torch.testing.assert_close(a, -b, atol=1e-6, rtol=0)
    assert a.abs().max() > 0


def test_hand_crop_centres_the_mask_and_skips_tiny_ones():
    image = np.zeros((100, 200, 3), np.uint8)
    amodal = np.zeros((100, 200), bool)
    amodal[40:60, 150:170] = True  # a 20 px square hand on the right of the frame
    image[amodal] = 200
    out = hand_crop(image, amodal, SMALL_CROPS)
    assert out.shape == (32, 32, 4) and out.dtype == np.uint8
    ys, xs = np.nonzero(out[..., 3] > 127)
    # the box is 1.3 x its side: the mask fills ~1/1.3 of the crop, centred
    assert abs(ys.mean() - 15.5) < 1 and abs(xs.mean() - 15.5) < 1
    assert 22 <= ys.max() - ys.min() + 1 <= 26
    assert np.array_equal(out[..., 0] > 100, out[..., 3] > 127)
    wide = hand_crop(image, amodal, SMALL_CROPS, context=True)
    assert wide.shape == (40, 40, 4)
    # same pixel scale: the centre window of the context crop is the crop
    assert np.abs(wide[4:36, 4:36].astype(int) - out.astype(int)).mean() < 8
    tiny = np.zeros_like(amodal)
    tiny[0:3, 0:3] = True
    assert hand_crop(image, tiny, SMALL_CROPS) is None


@pytest.mark.parametrize(
    ("scores", "exchange"),
    [
        ({0: -2.0, 1: 3.0}, False),  # slot 1 is the more left-looking one: already in order
        ({0: 1.0, 1: 0.5}, True),  # both look left; slot 0 more so: it is the left one
        ({0: 2.0}, True),  # a lone left hand in slot 0 moves to slot 1
        ({0: -2.0}, False),
        ({1: -1.0}, True),  # a lone right hand in slot 1 moves to slot 0
        ({1: 1.0}, False),
        ({}, False),
    ],
)
def test_assign_sides(scores, exchange):
    assert assign_sides(scores) is exchange


class FixedRunner:
    """Left scores in call order; records the batch sizes it saw."""

    def __init__(self, scores):
        self.scores = list(scores)
        self.batches = []

    def __call__(self, crops):
        self.batches.append(crops.shape)
        return np.array(self.scores[: len(crops)], np.float32)


def two_hand_masks(shape=(64, 96)):
    masks = np.zeros((4, *shape), bool)
    masks[0, 10:30, 10:30] = masks[1, 10:30, 10:30] = True
    masks[2, 20:50, 50:80] = masks[3, 20:50, 50:80] = True
    return masks


def test_side_classifier_scores_only_the_slots_that_hold_a_hand():
    image = np.full((64, 96, 3), 90, np.uint8)
    masks = two_hand_masks()
    runner = FixedRunner([0.7, -0.4])
    classifier = SideClassifier(runner, SMALL_CROPS)
    assert classifier.left_scores(image, masks) == pytest.approx({0: 0.7, 1: -0.4})
    assert classifier.exchange(image, masks) is True
    masks[0:2] = False
    runner = FixedRunner([0.7])
    assert SideClassifier(runner, SMALL_CROPS).exchange(image, masks) is False  # left, slot 1
    assert runner.batches == [(1, 32, 32, 4)]
    runner = FixedRunner([])
    assert SideClassifier(runner, SMALL_CROPS).left_scores(image, np.zeros_like(masks)) == {}
    assert runner.batches == []


class FixedHASM:
    """A HASM runner whose logits put one hand in each slot (logits in [-5, 5])."""

    stride = 4

    def __init__(self, masks_small):
        self.logits = np.where(masks_small, 5.0, -5.0).astype(np.float32)

    def __call__(self, crops):
        return np.repeat(self.logits[None], len(crops), axis=0)


def test_predictor_orders_the_slots_with_the_side_classifier():
    image = np.full((64, 64, 3), 90, np.uint8)
    small = np.zeros((4, 16, 16), bool)
    small[0:2, 2:6, 2:6] = True  # slot 0: top-left
    small[2:4, 9:14, 9:14] = True  # slot 1: bottom-right
    settings = InferenceSettings(size=64, coarse_size=64, coarse_to_fine=False)
    plain = HASMPredictor(FixedHASM(small), settings)(image)
    invariant = InferenceSettings(
        size=64, coarse_size=64, coarse_to_fine=False, side_invariant=True
    )
    with pytest.raises(ValueError, match="side classifier"):
        HASMPredictor(FixedHASM(small), invariant)
    swapped = HASMPredictor(
        FixedHASM(small), invariant, SideClassifier(FixedRunner([1.0, -1.0]), SMALL_CROPS)
    )(image)
    assert np.array_equal(swapped.masks, plain.masks[[2, 3, 0, 1]])
    assert np.array_equal(swapped.logits, plain.logits[[2, 3, 0, 1]])
    kept = HASMPredictor(
        FixedHASM(small), invariant, SideClassifier(FixedRunner([-1.0, 1.0]), SMALL_CROPS)
    )(image)
    assert np.array_equal(kept.masks, plain.masks)


def test_save_load_round_trip_and_onnx_agree(tmp_path):
    net = tiny_side(1)
    path = save_side(net, tmp_path / "side.safetensors", SMALL_CROPS, dtype=None)
    loaded, crops = load_side(path)
    assert crops == SMALL_CROPS and loaded.config.widths == TINY.widths
    for a, b in zip(net.state_dict().values(), loaded.state_dict().values(), strict=True):
        torch.testing.assert_close(a.float(), b.float())
    batch = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 4), dtype=np.uint8)
    torch_scores = side_classifier(loaded, crops).runner(batch)
    onnx_path = export_side_onnx(loaded, tmp_path / "side.onnx", crops)
    from_file = onnx_side_classifier(onnx_path)
    assert from_file.settings == crops
    np.testing.assert_allclose(from_file.runner(batch), torch_scores, atol=1e-4)
    np.testing.assert_allclose(
        side_classifier(loaded, crops, backend="onnx").runner(batch), torch_scores, atol=1e-4
    )


def test_load_side_rejects_other_weights(tmp_path):
    from handhdr.training.weights import save_weights

    path = save_weights(torch.nn.Linear(2, 2), tmp_path / "x.safetensors", {"stage": "hdrm"})
    with pytest.raises(WeightsError, match="not side-classifier weights"):
        load_side(path)
    with pytest.raises(WeightsError, match="not found"):
        load_side(tmp_path / "missing.safetensors")
