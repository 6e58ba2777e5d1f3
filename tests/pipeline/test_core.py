"""HDRPipeline end to end on tiny random-weight models, and each rule on chosen masks."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.crop import box_from_joints, crop_masks
from handhdr.evaluation.predictions import conforms, read_predictions, write_predictions
from handhdr.hdrm.masks import TARGET_DISTRACTOR_ORDER
from handhdr.hdrm.weights import hdrm_inpainter
from handhdr.joints import WRIST
from handhdr.pipeline import ABLATIONS, HDRPipeline, MissingWeightsError
from handhdr.pipeline.masks import MIN_MASK_PIXELS


def _pipe(fake_hasm, masks, hdrm, shpe, **kwargs) -> HDRPipeline:
    return HDRPipeline(fake_hasm(masks), hdrm, shpe, **kwargs)


@pytest.mark.parametrize("hands", [(), ("right",), ("left",), ("right", "left")])
def test_zero_one_or_two_hands_come_out_as_the_masks_say(
    hands, fake_hasm, masks_for, fixed_pose, tiny_weights, scene_image
):
    pipe = _pipe(fake_hasm, masks_for(hands), hdrm_inpainter(tiny_weights["hdrm"]), fixed_pose())
    result = pipe.predict(scene_image)["hdr"]
    assert tuple(result.hands) == hands
    assert set(result.hdrm_input) == set(result.hdrm_output) == set(hands)
    assert result.masks.shape == (4, *scene_image.shape[:2]) and result.masks.dtype == bool
    for hand, found in result.hands.items():
        assert found.handedness == hand
        assert found.joints_2d.shape == (21, 2) and found.joints_3d.shape == (21, 3)
        assert found.visible.shape == (21,) and found.visible.dtype == bool
        assert 0.0 < found.score <= 1.0
    line = result.to_image_prediction("img.png").to_json()
    assert conforms(line) and set(line["hands"]) == set(hands)


def test_an_empty_or_tiny_mask_is_absent_not_invented(
    fake_hasm, masks_for, fixed_pose, tiny_weights, scene_image
):
    masks = masks_for(("right",))
    masks[2, 5:9, 5:9] = masks[3, 5:9, 5:9] = True  # 16 px "left hand": noise
    assert masks[2].sum() < MIN_MASK_PIXELS
    pose = fixed_pose()
    pipe = _pipe(fake_hasm, masks, hdrm_inpainter(tiny_weights["hdrm"]), pose)
    result = pipe.predict(scene_image)["hdr"]
    assert list(result.hands) == ["right"]
    assert not result.masks[2].any() and not result.masks[3].any()  # cleared, not kept
    assert len(pose.crops) == 1  # SHPE never saw a left crop


def test_only_the_largest_blob_of_each_amodal_mask_is_kept(
    fake_hasm, masks_for, fixed_pose, tiny_weights, scene_image
):
    masks = masks_for(("right", "left"))
    masks[0, 80:90, 5:20] = masks[1, 80:90, 5:20] = True  # a third hand's bit, far away
    result = _pipe(fake_hasm, masks, hdrm_inpainter(tiny_weights["hdrm"]), fixed_pose()).predict(
        scene_image
    )["hdr"]
    assert not result.masks[0, 80:90, 5:20].any() and not result.masks[1, 80:90, 5:20].any()
    x, y, w, h = result.hands["right"].box
    ys, xs = np.nonzero(masks_for(("right",))[0])
    assert (x, y, w, h) == (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)


def test_hasm_runs_once_for_all_ablations(
    fake_hasm, masks_for, fixed_pose, tiny_weights, scene_image
):
    hasm = fake_hasm(masks_for())
    pipe = HDRPipeline(hasm, hdrm_inpainter(tiny_weights["hdrm"]), fixed_pose())
    results = pipe.predict(scene_image, ablations=ABLATIONS)
    assert list(results) == list(ABLATIONS) and len(hasm.calls) == 1
    masks = [r.masks for r in results.values()]
    assert all(m is masks[0] for m in masks)  # shared, not recomputed
    assert set(pipe.timings) == {"hasm", "hdrm", "shpe", "total"}
    assert all(v >= 0 for v in pipe.timings.values())


def test_each_switch_reaches_hdrnet_and_shpe_only_never_calls_it(
    fake_hasm, masks_for, spy_hdrm, fixed_pose, tiny_weights, scene_image
):
    spy = spy_hdrm(hdrm_inpainter(tiny_weights["hdrm"]))
    pipe = _pipe(fake_hasm, masks_for(), spy, fixed_pose())
    pipe.predict(scene_image, ablations=("shpe_only",))
    assert spy.calls == []
    for name, expected in [("no_removal", [1, 0]), ("no_deocclusion", [0, 1]), ("hdr", [1, 1])]:
        spy.calls.clear()
        pipe.predict(scene_image, ablations=(name,))
        assert len(spy.calls) == 1
        _, _, switches = spy.calls[0]
        np.testing.assert_array_equal(switches, [expected, expected])  # right, left


def test_each_ablation_changes_only_its_own_region(
    fake_hasm, masks_for, fixed_pose, tiny_weights, scene_image
):
    """The composite differs from the crop exactly where that ablation erases: M_D for
    de-occlusion, M_R for removal (dilated by the network's composite dilation)."""
    import cv2

    from handhdr.hdrm.data import crop_regions

    hdrm = hdrm_inpainter(tiny_weights["hdrm"])
    dilation = hdrm.net.config.composite_dilation
    pipe = _pipe(fake_hasm, masks_for(), hdrm, fixed_pose())
    results = pipe.predict(scene_image, ablations=ABLATIONS)
    kernel = np.ones((2 * dilation + 1, 2 * dilation + 1), np.uint8)

    def grown(region):
        return cv2.dilate(region.astype(np.uint8), kernel).astype(bool)

    from handhdr.hdrm.data import crop_hand

    for hand in ("right", "left"):
        crop = crop_hand(scene_image, results["hdr"].masks, hand, hdrm.resolution)
        m_d, m_r = crop_regions(crop.masks)
        np.testing.assert_array_equal(results["hdr"].hdrm_input[hand], crop.image)
        changed = {
            name: (results[name].hdrm_output[hand] != crop.image).any(axis=-1) for name in ABLATIONS
        }
        assert not changed["shpe_only"].any()
        assert not (changed["no_removal"] & ~grown(m_d)).any()
        assert not (changed["no_deocclusion"] & ~grown(m_r)).any()
        assert not (changed["hdr"] & ~grown(m_d | m_r)).any()
        if m_d.any():  # the target is hidden here: de-occlusion repaints it
            assert changed["no_removal"].any()
        if m_r.any():
            assert changed["no_deocclusion"].any()
        # nothing else differs: same box, masks and visibility in every ablation
        boxes = {results[n].hands[hand].box for n in ABLATIONS}
        visible = {tuple(results[n].hands[hand].visible) for n in ABLATIONS}
        assert len(boxes) == 1 and len(visible) == 1
    # the masks make the left hand hidden and the right one a distractor for it
    left = crop_hand(scene_image, results["hdr"].masks, "left", hdrm.resolution)
    assert crop_regions(left.masks)[0].any()


def test_variant_weights_run_as_their_own_ablation(
    fake_hasm, masks_for, spy_hdrm, fixed_pose, tiny_weights, scene_image
):
    main = spy_hdrm(hdrm_inpainter(tiny_weights["hdrm"]))
    variant = spy_hdrm(hdrm_inpainter(tiny_weights["no_transformer"]))
    pipe = _pipe(
        fake_hasm, masks_for(), main, fixed_pose(), hdrm_variants={"no_transformer": variant}
    )
    assert "no_transformer" in pipe.ablations
    results = pipe.predict(scene_image, ablations=("hdr", "no_transformer"))
    assert len(main.calls) == 1 and len(variant.calls) == 1
    np.testing.assert_array_equal(variant.calls[0][2], [[1, 1], [1, 1]])  # hdr switches
    a, b = results["hdr"].hdrm_output["left"], results["no_transformer"].hdrm_output["left"]
    assert (a != b).any()  # another network, another composite
    with pytest.raises(ValueError, match="unknown ablation 'no_discriminator'"):
        pipe.predict(scene_image, ablations=("no_discriminator",))


def test_left_hands_are_mirrored_in_and_out(fake_hasm, masks_for, fixed_pose, tiny_weights):
    pose = fixed_pose()
    image = np.zeros((96, 128, 3), np.uint8)
    image[:, :64] = 200  # left half bright: a mirrored crop shows it on the other side
    pipe = _pipe(fake_hasm, masks_for(), hdrm_inpainter(tiny_weights["hdrm"]), pose)
    result = pipe.predict(image, ablations=("shpe_only",))["shpe_only"]
    right, left = result.hands["right"], result.hands["left"]
    # same crop joints -> image joints through each crop's own (mirrored for left) box
    np.testing.assert_allclose(right.joints_2d, right.crop_box.from_crop(pose.joints_2d), atol=1e-3)
    np.testing.assert_allclose(left.joints_2d, left.crop_box.from_crop(pose.joints_2d), atol=1e-3)
    assert left.crop_box.flip and not right.crop_box.flip
    # the crop of the left hand is mirrored: its right part is the image's bright left part
    left_crop = result.hdrm_input["left"].astype(int)
    r = left_crop.shape[1]
    assert left_crop[:, r // 2 + 2 :].mean() > left_crop[:, : r // 2 - 2].mean()
    # 3D: the right hand as given, the left hand mirrored back through x = 0
    np.testing.assert_allclose(right.joints_3d, pose.joints_3d, atol=1e-4)
    np.testing.assert_allclose(left.joints_3d, pose.joints_3d * [-1, 1, 1], atol=1e-4)


def test_visibility_follows_the_visible_mask(
    fake_hasm, masks_for, fixed_pose, tiny_weights, scene_image
):
    pipe = _pipe(fake_hasm, masks_for(), hdrm_inpainter(tiny_weights["hdrm"]), fixed_pose())
    result = pipe.predict(scene_image)["hdr"]
    for k, hand in enumerate(("right", "left")):
        found = result.hands[hand]
        points = np.round(found.joints_2d).astype(int)
        inside = (points >= 0).all(1) & (points[:, 0] < 128) & (points[:, 1] < 96)
        expected = np.zeros(21, bool)
        expected[inside] = result.masks[2 * k + 1][points[inside, 1], points[inside, 0]]
        np.testing.assert_array_equal(found.visible, expected)


def test_real_stages_end_to_end_with_the_prior_bone(tiny_weights, scene_image, tmp_path):
    """3D scale = the estimator's rule: DetNet's units x its prior reference bone."""
    paths = (tiny_weights["hasm"], tiny_weights["hdrm"], tiny_weights["shpe"])
    results = HDRPipeline.load(*paths, reference_bone_mm=70.0).predict(
        scene_image, ablations=ABLATIONS
    )
    doubled = HDRPipeline.load(*paths, reference_bone_mm=140.0).predict(scene_image)["hdr"]
    for result in results.values():
        assert list(result.hands) == ["right", "left"]  # the tiny HASM is forced to both
        for found in result.hands.values():
            np.testing.assert_allclose(found.joints_3d[WRIST], 0.0, atol=1e-4)
            assert np.abs(found.joints_3d).max() > 1.0
    for hand, found in doubled.hands.items():
        np.testing.assert_allclose(
            found.joints_3d, 2 * results["hdr"].hands[hand].joints_3d, rtol=1e-4, atol=1e-3
        )
        np.testing.assert_allclose(found.joints_2d, results["hdr"].hands[hand].joints_2d)
    path = tmp_path / "predictions.jsonl"
    write_predictions(path, [r.to_image_prediction(f"{n}.png") for n, r in results.items()])
    lines = read_predictions(path, require=("joints_3d", "joints_2d"))
    assert [p.file_name for p in lines] == [f"{n}.png" for n in ABLATIONS]
    assert lines[0].hands["left"].joint_visible is not None and lines[0].hands["left"].box


def test_torch_and_onnx_backends_agree(tiny_weights, scene_image):
    paths = (tiny_weights["hasm"], tiny_weights["hdrm"], tiny_weights["shpe"])
    by_torch = HDRPipeline.load(*paths, backend="torch").predict(scene_image)["hdr"]
    by_onnx = HDRPipeline.load(*paths, backend="onnx", threads=1).predict(scene_image)["hdr"]
    assert (by_torch.masks == by_onnx.masks).mean() > 0.999
    assert list(by_torch.hands) == list(by_onnx.hands) == ["right", "left"]
    for hand in by_torch.hands:
        a, b = by_torch.hands[hand], by_onnx.hands[hand]
        assert a.box == b.box
        diff = by_torch.hdrm_output[hand].astype(int) - by_onnx.hdrm_output[hand].astype(int)
        assert np.abs(diff).mean() < 1.0
        close = np.linalg.norm(a.joints_2d - b.joints_2d, axis=1) < 1.0
        assert close.mean() > 0.9  # an argmax may tip over on a near tie
        assert a.score == pytest.approx(b.score, abs=1e-2)


def test_a_pipeline_without_hdrnet_runs_shpe_only(fake_hasm, masks_for, fixed_pose, scene_image):
    pose = fixed_pose(input_size=40)
    pipe = _pipe(fake_hasm, masks_for(), None, pose)
    assert pipe.ablations == ("shpe_only",)
    result = pipe.predict(scene_image, ablations=("shpe_only",))["shpe_only"]
    assert list(result.hands) == ["right", "left"]
    assert result.hdrm_input["right"].shape == (40, 40, 3)  # crops at the estimator's size
    with pytest.raises(ValueError, match="needs HDRNet weights"):
        pipe.predict(scene_image)


def test_bad_inputs_are_clear_errors(fake_hasm, masks_for, fixed_pose, tiny_weights, scene_image):
    pipe = _pipe(fake_hasm, masks_for(), hdrm_inpainter(tiny_weights["hdrm"]), fixed_pose())
    with pytest.raises(ValueError, match="H x W x 3 uint8 RGB"):
        pipe.predict(scene_image[..., 0])
    with pytest.raises(ValueError, match="H x W x 3 uint8 RGB"):
        pipe.predict(scene_image.astype(np.float32))
    with pytest.raises(ValueError, match="unknown ablation"):
        pipe.predict(scene_image, ablations=("everything",))
    with pytest.raises(ValueError, match="no ablation"):
        pipe.predict(scene_image, ablations=())
    with pytest.raises(ValueError, match="keyed 'right'/'left'"):
        pipe.predict(scene_image, boxes={"middle": (0, 0, 5, 5)})
    with pytest.raises(TypeError, match="single-hand estimator"):
        HDRPipeline(fake_hasm(masks_for()), None, object())


def test_missing_shipped_weights_name_the_files_and_the_commands(tmp_path, monkeypatch):
    import handhdr.training.weights as weights

    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path / "none")
    with pytest.raises(MissingWeightsError) as info:
        HDRPipeline.load()
    message = str(info.value)
    for name in ("hasm_lite.safetensors", "hdrm_lite.safetensors", "shpe_lite.safetensors"):
        assert name in message
    assert "handhdr train hasm" in message and "handhdr train export" in message
    assert set(info.value.missing) == {"hasm", "hdrm", "shpe"}


def test_load_takes_an_estimator_object_and_boxes_skip_the_coarse_pass(
    tiny_weights, fixed_pose, scene_image, monkeypatch
):
    pose = fixed_pose()
    pipe = HDRPipeline.load(tiny_weights["hasm"], tiny_weights["hdrm"], pose)
    assert pipe.shpe is pose
    seen = []

    class Counting:
        stride = pipe.hasm.predictor.runner.stride

        def __init__(self, inner):
            self.inner = inner

        def __call__(self, crops):
            seen.append(crops.shape)
            return self.inner(crops)

    monkeypatch.setattr(pipe.hasm.predictor, "runner", Counting(pipe.hasm.predictor.runner))
    result = pipe.predict(scene_image, boxes={"right": (40, 30, 20, 10)})["hdr"]
    assert len(seen) == 1  # one fine pass, no coarse pass
    x, y, w, h = result.region
    assert w == h and x + w / 2 == pytest.approx(50) and y + h / 2 == pytest.approx(35)
    # the crop is the box's, as box_from_joints makes it; the unboxed left hand is not
    # reported although HASM (forced to find both) has its masks
    assert list(result.hands) == ["right"] and result.masks[2].any()
    expected = box_from_joints(np.array([[40.0, 30.0], [60.0, 40.0]]), 32, 2.0)
    assert result.hands["right"].crop_box == expected


def test_boxes_crop_both_hands_from_their_boxes_and_keep_hasm_masks(
    fake_hasm, masks_for, spy_hdrm, fixed_pose, tiny_weights, scene_image
):
    spy = spy_hdrm(hdrm_inpainter(tiny_weights["hdrm"]))
    hasm = fake_hasm(masks_for())
    pipe = HDRPipeline(hasm, spy, fixed_pose())
    boxes = {"right": (40.0, 30.0, 20.0, 30.0), "left": (70.0, 30.0, 14.0, 20.0)}
    result = pipe.predict(scene_image, ablations=("hdr",), boxes=boxes)["hdr"]
    assert hasm.calls == [boxes]
    assert list(result.hands) == ["right", "left"]
    for k, (hand, (x, y, w, h)) in enumerate(boxes.items()):
        crop_box = result.hands[hand].crop_box
        corners = np.array([[x, y], [x + w, y + h]])
        assert crop_box == box_from_joints(corners, 32, 2.0, flip=hand == "left")
        np.testing.assert_array_equal(spy.calls[0][1][k], crop_masks(
            result.masks[list(TARGET_DISTRACTOR_ORDER[hand])], crop_box
        ))  # fmt: skip
    # a boxed hand that HASM does not find stays absent
    empty = HDRPipeline(fake_hasm(masks_for(("right",))), spy, fixed_pose())
    assert list(empty.predict(scene_image, boxes=boxes)["hdr"].hands) == ["right"]


@pytest.mark.parametrize("shape", [(1, 1), (3, 500), (1500, 2000)])
def test_tiny_thin_and_large_images_go_through(tiny_weights, shape):
    pipe = HDRPipeline.load(tiny_weights["hasm"], tiny_weights["hdrm"], tiny_weights["shpe"])
    image = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    result = pipe.predict(image, ablations=("shpe_only", "hdr"))["hdr"]
    assert result.masks.shape == (4, *shape)
    if shape[0] * shape[1] < MIN_MASK_PIXELS:  # the forced masks are too small for a hand
        assert result.hands == {}
    for found in result.hands.values():
        assert np.isfinite(found.joints_2d).all() and np.isfinite(found.joints_3d).all()
        x, y, w, h = found.box
        assert 0 <= x and 0 <= y and x + w <= shape[1] and y + h <= shape[0]


def test_given_masks_replace_hasm_which_does_not_run(
    fake_hasm, masks_for, spy_hdrm, fixed_pose, tiny_weights, scene_image
):
    given = masks_for(("right", "left"))
    hasm = fake_hasm(masks_for(("right",)))  # would find one hand only
    spy = spy_hdrm(hdrm_inpainter(tiny_weights["hdrm"]))
    pipe = HDRPipeline(hasm, spy, fixed_pose(confidence=0.8))
    result = pipe.predict(scene_image, ablations=("hdr",), masks=given)["hdr"]
    assert hasm.calls == []
    assert list(result.hands) == ["right", "left"]
    np.testing.assert_array_equal(result.masks, given)
    for hand in result.hands.values():
        assert hand.mask_score == pytest.approx(1.0) and hand.score == pytest.approx(0.8)
    # the same answer as a HASM that returned exactly these masks
    same = HDRPipeline(fake_hasm(given), spy, fixed_pose(confidence=0.8))
    other = same.predict(scene_image, ablations=("hdr",))["hdr"]
    for hand in ("right", "left"):
        np.testing.assert_allclose(result.hands[hand].joints_2d, other.hands[hand].joints_2d)
        assert result.hands[hand].crop_box == other.hands[hand].crop_box
    np.testing.assert_array_equal(spy.calls[0][0], spy.calls[1][0])  # same HDRM input
    with pytest.raises(ValueError, match=r"given masks must be \(4, 96, 128\)"):
        pipe.predict(scene_image, masks=given[:, :50])
