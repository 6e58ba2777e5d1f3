"""AIH_Syn and AIH_Render readers on tiny folders in the published layouts.

Compositions are checked against images and masks computed here by hand: the
augmentation parameters are chosen so that each warp is an exact pixel shift or a
quarter turn (scale 256/255 makes the 255-pixel box exactly 256 output pixels).
"""

import pickle

import numpy as np
import pytest
from PIL import Image

from handhdr.datasets.aih import AIHRenderDataset, AIHSynDataset
from handhdr.datasets.interhand_format import DatasetFormatError
from handhdr.io import read_image
from handhdr.io.restricted_pickle import UnsafePickleError

S = 256
UNIT = 256 / 255  # scale at which the reference's 255-pixel box maps 1:1 to 256 pixels


def _rect_mask(shape, y0, y1, x0, x1):
    mask = np.zeros(shape, np.uint8)
    mask[y0:y1, x0:x1] = 1  # the published masks hold 0/1
    return mask


def _write_jpg(path, seed, shape=(S, S)):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path, quality=95)
    return read_image(path)  # what the reader will see after JPEG


def _write_png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _shift(a, dx, dy):
    """out[y, x] = a[y - dy, x - dx], zero outside."""
    out = np.zeros_like(a)
    h, w = a.shape[:2]
    ys, xs = slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0))
    yd, xd = slice(max(-dy, 0), h + min(-dy, 0)), slice(max(-dx, 0), w + min(-dx, 0))
    out[ys, xs] = a[yd, xd]
    return out


def _quarter_turn(a):
    """The warp of rotation 90 about (128, 128): out[y, x] = a[x, 256 - y], row 0 black."""
    out = np.zeros_like(a)
    out[1:] = np.swapaxes(a, 0, 1)[S - 1 : 0 : -1]
    return out


# --------------------------------------------------------------------------- AIH_Syn


@pytest.fixture
def syn_root(tmp_path):
    root = tmp_path / "AIH_syn"
    annot, phase = "machine_annot", "train"
    ids = {"right": [11, 23], "left": [5, 8]}
    crops = {}
    for side, s in (("right", "r"), ("left", "l")):
        path = root / "filtered_list" / f"{annot}_{phase}_sh_{side}_filtered.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savetxt(path, np.array(ids[side], dtype=np.float64))  # numpy's default format
        for k, crop_id in enumerate(ids[side]):
            image = _write_jpg(
                root / annot / phase / "images" / f"{s}_images" / f"{crop_id}.jpg", crop_id
            )
            mask = _rect_mask((S, S), 40 + 10 * k, 200, 60 + 20 * k, 180 + 5 * k)
            _write_png(
                root
                / annot
                / phase
                / "labels"
                / f"in_{s}_images"
                / f"{s}_amodal"
                / f"{crop_id}.png",
                mask,
            )
            crops[(side, crop_id)] = (image, mask.astype(bool))
    colour = np.array([1.1, 0.9, 1.05])
    identity = [[0.5 / 255, 0.5 / 255], np.float64(UNIT), 0.0, colour]
    cfgs = [
        {  # right target 23, left distractor 5 moved 10 px left and 6 px down
            "loop_side": "right",
            "loop_side_idx": np.int64(1),
            "another_side_idx": np.int64(0),
            "r_aug_list": identity,
            "l_aug_list": [[10.5 / 255, -5.5 / 255], np.float64(UNIT), 0.0, colour],
            "occlusion_rate": np.float64(0.25),
        },
        {  # left target 8, right distractor 11 turned a quarter (in the mirrored frame)
            "loop_side": "left",
            "loop_side_idx": 1,
            "another_side_idx": 0,
            "r_aug_list": identity,
            "l_aug_list": [[0.5 / 255, 0.5 / 255], UNIT, 90.0, colour],
            "occlusion_rate": 0.5,
        },
    ]
    (root / "syn_cfgs").mkdir()
    np.save(root / "syn_cfgs" / f"all_{annot}_{phase}_syn_cfgs.npy", cfgs)  # as published
    return root, crops


def test_syn_right_target_composition(syn_root):
    root, crops = syn_root
    data = AIHSynDataset(root, phase="train")
    assert len(data) == 2 and data.annots == ["machine_annot"]
    sample = data[0]
    target, t_mask = crops[("right", 23)]
    distractor, d_mask = crops[("left", 5)]
    d_img, d_m = _shift(distractor, -10, 6), _shift(d_mask, -10, 6)
    expected = np.where(d_m[:, :, None], d_img, target)
    np.testing.assert_array_equal(sample.image, expected)
    np.testing.assert_array_equal(sample.mask("right_amodal"), t_mask)
    np.testing.assert_array_equal(sample.mask("right_visible"), t_mask & ~d_m)
    np.testing.assert_array_equal(sample.mask("left_amodal"), d_m)
    np.testing.assert_array_equal(sample.mask("left_visible"), d_m)
    assert list(sample.hdr_gt) == ["right"]
    np.testing.assert_array_equal(sample.hdr_gt["right"], target)
    outside = ~d_m  # the ground truth equals the image wherever the distractor is not
    np.testing.assert_array_equal(sample.image[outside], sample.hdr_gt["right"][outside])
    assert sample.file_name == "machine_annot/train/composed/0000000"
    assert sample.meta["target_image"] == "machine_annot/train/images/r_images/23.jpg"
    assert sample.meta["distractor_image"] == "machine_annot/train/images/l_images/5.jpg"
    assert sample.meta["occlusion_rate"] == 0.25
    overlap = (t_mask & d_m).sum() / t_mask.sum()
    assert sample.meta["occlusion_rate_composed"] == pytest.approx(overlap)
    assert sample.hand_type == "interacting" and not sample.joint_valid.any()


def test_syn_left_target_is_composed_mirrored_and_returned_on_its_true_side(syn_root):
    root, crops = syn_root
    sample = AIHSynDataset(root, phase="train")[1]
    target, t_mask = crops[("left", 8)]
    distractor, d_mask = crops[("right", 11)]
    # reference frame: both crops mirrored, the distractor turned, pasted on top
    d_img = _quarter_turn(distractor[:, ::-1])
    d_m = _quarter_turn(d_mask[:, ::-1])
    composed = np.where(d_m[:, :, None], d_img, target[:, ::-1])
    np.testing.assert_array_equal(sample.image, composed[:, ::-1])
    np.testing.assert_array_equal(sample.mask("left_amodal"), t_mask)
    np.testing.assert_array_equal(sample.mask("left_visible"), t_mask & ~d_m[:, ::-1])
    np.testing.assert_array_equal(sample.mask("right_amodal"), d_m[:, ::-1])
    np.testing.assert_array_equal(sample.mask("right_visible"), d_m[:, ::-1])
    assert list(sample.hdr_gt) == ["left"]
    np.testing.assert_array_equal(sample.hdr_gt["left"], target)
    assert sample.meta["target"] == "left"


def test_syn_without_images_and_branch_selection(syn_root):
    root, _ = syn_root
    data = AIHSynDataset(root, phase="train", load_images=False)
    sample = data[-1]
    assert sample.image is None and sample.masks is None and sample.hdr_gt == {}
    assert sample.image_path == root / "machine_annot/train/images/l_images/8.jpg"
    with pytest.raises(DatasetFormatError, match=r"no train data for \['human_annot'\]"):
        AIHSynDataset(root, phase="train", annots=["human_annot"])
    with pytest.raises(DatasetFormatError, match="no val data"):
        AIHSynDataset(root, phase="val")


def test_syn_bad_composition_entries_name_the_file_and_entry(syn_root):
    root, _ = syn_root
    path = root / "syn_cfgs" / "all_machine_annot_train_syn_cfgs.npy"
    cfgs = np.load(path, allow_pickle=True).tolist()
    cfgs[1]["another_side_idx"] = 7
    np.save(path, cfgs)
    with pytest.raises(DatasetFormatError, match=r"syn_cfgs\.npy, entry 1: another_side_idx = 7"):
        AIHSynDataset(root)
    del cfgs[1]["another_side_idx"]
    np.save(path, cfgs)
    with pytest.raises(DatasetFormatError, match="entry 1: expected a dict with keys"):
        AIHSynDataset(root)
    cfgs[1]["another_side_idx"], cfgs[0]["l_aug_list"] = 0, [0.1, 1.0]
    np.save(path, cfgs)
    with pytest.raises(DatasetFormatError, match=r"entry 0, l_aug_list: expected \[\[tx, ty\]"):
        AIHSynDataset(root)


def test_syn_composition_list_is_unpickled_safely(syn_root):
    root, _ = syn_root
    marker = root / "pwned"

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    path = root / "syn_cfgs" / "all_machine_annot_train_syn_cfgs.npy"
    np.save(path, np.array([Evil()], dtype=object))
    assert b"system" in path.read_bytes()
    with pytest.raises(UnsafePickleError, match=r"syn_cfgs\.npy: refusing to load (posix|os)"):
        AIHSynDataset(root)
    assert not marker.exists()
    path.write_bytes(b"\x93NUMPY" + pickle.dumps([1]))  # broken header
    with pytest.raises(ValueError, match="syn_cfgs.npy"):
        AIHSynDataset(root)


def test_syn_missing_crop_names_the_file(syn_root):
    root, _ = syn_root
    (root / "machine_annot/train/labels/in_l_images/l_amodal/5.png").unlink()
    data = AIHSynDataset(root)
    with pytest.raises(DatasetFormatError, match=r"l_amodal/5\.png: label file not found"):
        data[0]


# ------------------------------------------------------------------------ AIH_Render


@pytest.fixture
def render_root(tmp_path):
    root = tmp_path / "AIH_render"
    shape = (48, 64)  # non-square, to catch transposed masks
    truth = {}
    for s, name, seed in (("r", "0001.jpg", 1), ("l", "0002.jpg", 2), ("r", "0003.jpg", 3)):
        base = root / "machine_annot" / "val"
        image = _write_jpg(base / "images" / f"{s}_images" / "IH" / name, seed, shape)
        gt = _write_jpg(base / "images" / f"{s}_images" / "DR_gt" / name, seed + 10, shape)
        amodal = _rect_mask(shape, 5, 40, 10, 50)
        visible = np.zeros(shape, np.uint8)
        visible[5:40, 10:30] = 1 if s == "r" else 2  # the target's visible part
        visible[20:45, 30:60] = 2 if s == "r" else 1  # the distractor, on top
        stem = name.replace(".jpg", ".png")
        _write_png(base / "labels" / f"in_{s}_images" / f"{s}_amodal" / stem, amodal)
        _write_png(base / "labels" / f"in_{s}_images" / "rl_visible" / stem, visible)
        truth[name] = (image, gt, amodal.astype(bool), visible)
    return root, truth


def test_render_samples_masks_and_ground_truth(render_root):
    root, truth = render_root
    data = AIHRenderDataset(root, phase="val")
    assert [s.file_name for s in (data[i] for i in range(len(data)))] == [
        "machine_annot/val/images/r_images/IH/0001.jpg",
        "machine_annot/val/images/r_images/IH/0003.jpg",
        "machine_annot/val/images/l_images/IH/0002.jpg",
    ]
    right = data[0]
    image, gt, amodal, visible = truth["0001.jpg"]
    np.testing.assert_array_equal(right.image, image)
    np.testing.assert_array_equal(right.mask("right_amodal"), amodal)
    np.testing.assert_array_equal(right.mask("right_visible"), visible == 1)
    np.testing.assert_array_equal(right.mask("left_visible"), visible == 2)
    np.testing.assert_array_equal(right.mask("left_amodal"), visible == 2)
    assert right.meta["unknown_masks"] == ["left_amodal"]
    assert list(right.hdr_gt) == ["right"]
    np.testing.assert_array_equal(right.hdr_gt["right"], gt)

    left = data[2]
    image, gt, amodal, visible = truth["0002.jpg"]
    np.testing.assert_array_equal(left.mask("left_amodal"), amodal)
    np.testing.assert_array_equal(left.mask("left_visible"), visible == 2)
    np.testing.assert_array_equal(left.mask("right_visible"), visible == 1)
    assert left.meta["unknown_masks"] == ["right_amodal"] and list(left.hdr_gt) == ["left"]
    np.testing.assert_array_equal(left.hdr_gt["left"], gt)
    assert len(AIHRenderDataset(root, phase="val", targets=("left",))) == 1


def test_render_bad_layouts(render_root):
    root, _ = render_root
    labels = root / "machine_annot/val/labels/in_r_images/rl_visible"
    bad = np.full((48, 64), 3, np.uint8)
    _write_png(labels / "0003.png", bad)
    with pytest.raises(
        DatasetFormatError, match=r"0003\.png: label value 3 found, expected 0\.\.2"
    ):
        AIHRenderDataset(root, phase="val")[1]
    (labels / "0003.png").unlink()
    with pytest.raises(DatasetFormatError, match=r"rl_visible/0003\.png: missing"):
        AIHRenderDataset(root, phase="val")
    with pytest.raises(DatasetFormatError, match="no train data"):
        AIHRenderDataset(root, phase="train")
