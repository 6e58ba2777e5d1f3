"""Tzionas reader on tiny sequences written in the dataset's own format."""

import numpy as np
import pytest
from PIL import Image

from handhdr.datasets.interhand_format import DatasetFormatError
from handhdr.datasets.tzionas import TZIONAS_JOINTS, TzionasDataset, read_joints_file
from handhdr.joints import INTERHAND42_NAMES, ROOT_INDEX

J = INTERHAND42_NAMES.index


def _points(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(1, 640, 28), rng.integers(1, 480, 28)], axis=1)


def _write_label(path, points, sep="\t", trailing_newline=False):
    """The real files: 'idx<TAB>x<TAB>y' per line, integer pixels, no final newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(f"{i}{sep}{x}{sep}{y}" for i, (x, y) in enumerate(points))
    path.write_text(text + ("\n" if trailing_newline else ""))


def _write_frame(root, seq, frame, points=None, seed=0):
    rgb = np.random.default_rng(seed).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    image = root / seq / "1" / "rgb" / f"{frame}.png"
    image.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(image)
    if points is not None:
        _write_label(root / seq / "1" / "joints_2D_GT" / f"{frame}.txt", points)
    return rgb


@pytest.fixture
def dataset_root(tmp_path):
    points = {}
    for seq, seed in (("01", 0), ("02", 10)):
        for k, frame in enumerate(("000", "005", "010")):
            points[(seq, frame)] = _points(seed + k)
            _write_frame(tmp_path, seq, frame, points[(seq, frame)], seed + k)
        _write_frame(tmp_path, seq, "001", None, 99)  # an unannotated frame
    return tmp_path, points


def test_samples_follow_the_label_files(dataset_root):
    root, points = dataset_root
    data = TzionasDataset(root, load_images=False)
    assert data.file_names == [
        f"{seq}/1/rgb/{frame}.png" for seq in ("01", "02") for frame in ("000", "005", "010")
    ]
    sample = data[4]
    p = points[("02", "005")]
    assert sample.file_name == "02/1/rgb/005.png" and sample.image is None
    assert sample.image_path == root / "02" / "1" / "rgb" / "005.png"
    assert sample.frame_idx == 5 and sample.hand_type == "interacting"
    # the documented mapping: per hand pinky, ring, middle, index (MCP, PIP, DIP), thumb
    np.testing.assert_array_equal(sample.joints_img[J("r_pinky_1")], p[0])
    np.testing.assert_array_equal(sample.joints_img[J("r_middle_2")], p[7])
    np.testing.assert_array_equal(sample.joints_img[J("r_index_3")], p[11])
    np.testing.assert_array_equal(sample.joints_img[J("r_thumb_3")], p[13])
    np.testing.assert_array_equal(sample.joints_img[J("l_pinky_1")], p[14])
    np.testing.assert_array_equal(sample.joints_img[J("l_thumb_2")], p[26])
    assert sample.joint_valid.sum() == 28
    for hand in ("right", "left"):  # no wrist and no fingertip in this dataset
        assert not sample.joint_valid[ROOT_INDEX[hand]]
    tips = [J(f"{h}_{f}_4") for h in "rl" for f in ("thumb", "index", "middle", "ring", "pinky")]
    assert not sample.joint_valid[tips].any()
    assert np.isnan(sample.joints_cam).all() and sample.joints_cam.shape == (42, 3)
    np.testing.assert_allclose(sample.intrinsics, [[525, 0, 319.5], [0, 525, 239.5], [0, 0, 1]])


def test_zero_points_are_not_annotated_and_set_the_hand_type(tmp_path):
    p = _points(3)
    p[14:] = 0  # the whole second (left) hand unannotated
    p[2] = 0  # one right joint unannotated
    _write_frame(tmp_path, "07", "100", p)
    sample = TzionasDataset(tmp_path, load_images=False)[0]
    assert sample.hand_type == "right" and sample.hand_type_valid
    assert not sample.joint_valid[J("r_pinky_3")]
    np.testing.assert_array_equal(sample.joints_img[J("r_pinky_3")], [0, 0])
    assert sample.joint_valid.sum() == 13 and not sample.hand_valid("left")
    p[:] = 0
    _write_label(tmp_path / "07" / "1" / "joints_2D_GT" / "100.txt", p)
    sample = TzionasDataset(tmp_path, load_images=False)[0]
    assert not sample.joint_valid.any() and not sample.hand_type_valid


def test_ground_truth_matches_samples_and_images_load(dataset_root):
    root, _ = dataset_root
    data = TzionasDataset(root, seqs=["02"])
    gt = data.ground_truth()
    assert len(gt) == len(data) == 3 and gt.file_names == data.file_names
    for i in range(len(data)):
        sample = data[i]
        np.testing.assert_array_equal(gt.joints_img[i], sample.joints_img)
        np.testing.assert_array_equal(gt.joint_valid[i], sample.joint_valid)
        assert gt.hand_type[i] == sample.hand_type
        np.testing.assert_array_equal(gt.intrinsics[i], sample.intrinsics)
    assert np.isnan(gt.joints_cam).all()
    image = data[-1].image
    expected = np.asarray(Image.open(root / "02" / "1" / "rgb" / "010.png"))
    assert image.shape == (480, 640, 3)
    np.testing.assert_array_equal(image, expected)


def test_trailing_newline_and_spaces_are_fine(tmp_path):
    p = _points(5)
    path = tmp_path / "a.txt"
    _write_label(path, p, sep=" ", trailing_newline=True)
    np.testing.assert_array_equal(read_joints_file(path), p.astype(np.float32))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda lines: lines[:5] + ["5\t12"] + lines[6:], r"000\.txt, line 6: expected 'idx x y'"),
        (lambda lines: lines[:3] + ["3\tx\t4"] + lines[4:], r"line 4: x and y must be numbers"),
        (lambda lines: lines[:-1], r"expected 28 joints .* missing \[27\]"),
        (lambda lines: lines + ["3\t1\t1"], r"line 29: joint 3 already given on line 4"),
        (lambda lines: lines[:-1] + ["28\t1\t1"], r"line 28: joint index '28'"),
    ],
)
def test_malformed_label_files_name_file_and_line(tmp_path, edit, message):
    _write_frame(tmp_path, "01", "000", _points(1))
    label = tmp_path / "01" / "1" / "joints_2D_GT" / "000.txt"
    label.write_text("\n".join(edit(label.read_text().split("\n"))))
    with pytest.raises(DatasetFormatError, match=message):
        TzionasDataset(tmp_path)


def test_missing_image_missing_sequence_and_empty_root(tmp_path):
    _write_label(tmp_path / "03" / "1" / "joints_2D_GT" / "015.txt", _points(2))
    with pytest.raises(DatasetFormatError, match=r"015\.txt: its image .*015\.png does not exist"):
        TzionasDataset(tmp_path)
    with pytest.raises(DatasetFormatError, match="sequence '09' has no label folder"):
        TzionasDataset(tmp_path, seqs=["09"])
    with pytest.raises(DatasetFormatError, match="no sequence folder"):
        TzionasDataset(tmp_path / "03" / "1")


def test_mapping_table_is_one_to_one():
    named = [n for n in TZIONAS_JOINTS if n is not None]
    assert len(TZIONAS_JOINTS) == 28 and len(set(named)) == len(named)
    assert all(n.startswith("r_") for n in TZIONAS_JOINTS[:14])
    assert all(n.startswith("l_") for n in TZIONAS_JOINTS[14:])
