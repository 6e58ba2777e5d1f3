import json
import shutil

import numpy as np
import pytest

from handhdr.datasets.interhand import DatasetFormatError, InterHandDataset
from handhdr.datasets.interhand_format import (
    InterHandCamera,
    InterHandFrame,
    InterHandImage,
    ManoParams,
    annotation_file,
    human_annot_ids_path,
    make_fixture_dataset,
    write_human_annot_ids,
    write_interhand_split,
)
from handhdr.datasets.masks import hdr_gt_path, mask_path, write_masks
from handhdr.io import ImageReadError, write_image


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("interhand")
    return make_fixture_dataset(root, "test", seed=3, human_fraction=0.4)


@pytest.fixture(scope="module")
def dataset(fixture):
    return InterHandDataset(fixture.root, "test")


def _expected(fixture, image):
    """Camera joints and pixels of one image computed joint by joint from the fixture."""
    frame = fixture.frame(image.capture, image.frame_idx)
    cam = fixture.camera(image.capture, image.camera)
    joints_cam = np.array([cam.camrot @ (p - cam.campos) for p in frame.world_coord])
    u = cam.focal[0] * joints_cam[:, 0] / joints_cam[:, 2] + cam.princpt[0]
    v = cam.focal[1] * joints_cam[:, 1] / joints_cam[:, 2] + cam.princpt[1]
    return frame, cam, joints_cam, np.stack([u, v], axis=1)


def test_every_sample_field_matches_the_fixture(fixture, dataset):
    assert dataset.file_names == [im.file_name for im in fixture.images]  # images[] order
    for index, image in enumerate(fixture.images):
        sample = dataset[index]
        frame, cam, joints_cam, joints_img = _expected(fixture, image)
        assert sample.file_name == image.file_name
        assert sample.image_path == fixture.root / "images" / "test" / image.file_name
        np.testing.assert_allclose(sample.joints_cam, joints_cam, atol=2e-3)
        valid = image.joint_valid & frame.joint_valid
        np.testing.assert_allclose(sample.joints_img[valid], joints_img[valid], atol=2e-3)
        np.testing.assert_array_equal(sample.joint_valid, valid)
        assert sample.joints_cam.dtype == np.float32 and sample.joints_img.dtype == np.float32
        np.testing.assert_allclose(
            sample.intrinsics,
            [[cam.focal[0], 0, cam.princpt[0]], [0, cam.focal[1], cam.princpt[1]], [0, 0, 1]],
            rtol=1e-6,
        )
        assert sample.hand_type == image.hand_type
        assert sample.hand_type_valid == image.hand_type_valid
        np.testing.assert_allclose(sample.bbox, image.bbox, rtol=1e-6)
        assert (sample.image_id, sample.capture, sample.camera, sample.frame_idx) == (
            image.image_id,
            image.capture,
            image.camera,
            image.frame_idx,
        )
        assert sample.meta["annot_id"] == image.annot_id
        assert sample.meta["seq_name"] == image.seq_name
        assert (sample.meta["width"], sample.meta["height"]) == (image.width, image.height)
        assert sample.image.shape == (image.height, image.width, 3)
        for hand in ("right", "left"):
            params = frame.mano[hand]
            got = sample.meta["mano"][hand]
            if params is None:
                assert got is None
            else:
                for name in ("pose", "shape", "trans"):
                    np.testing.assert_allclose(got[name], getattr(params, name), rtol=1e-6)
        assert sample.masks is None and sample.hdr_gt == {}


def test_ground_truth_table_equals_the_samples(fixture, dataset):
    table = dataset.ground_truth()
    assert table.file_names == dataset.file_names
    assert table.joints_cam.shape == (len(dataset), 42, 3)
    for index in range(len(dataset)):
        sample = dataset[index]
        np.testing.assert_array_equal(table.joints_cam[index], sample.joints_cam)
        np.testing.assert_array_equal(table.joints_img[index], sample.joints_img)
        np.testing.assert_array_equal(table.joint_valid[index], sample.joint_valid)
        np.testing.assert_array_equal(table.intrinsics[index], sample.intrinsics)
        assert table.hand_type[index] == sample.hand_type
    np.testing.assert_array_equal(dataset.image_ids, [im.image_id for im in fixture.images])
    assert dataset[-1].file_name == dataset.file_names[-1]
    assert dataset.index_of(fixture.images[4].file_name) == 4
    with pytest.raises(IndexError):
        dataset[len(dataset)]


def _known_point_dataset(root, split="test"):
    """One camera, one frame; the right wrist is a world point projected by hand below."""
    camera = InterHandCamera(
        capture=7,
        name="400262",
        campos=np.array([100.0, -50.0, 0.0]),
        camrot=np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
        focal=np.array([1000.0, 1100.0]),
        princpt=np.array([256.0, 167.0]),
    )
    world = np.tile([600.0, -10.0, 30.0], (42, 1)) + np.arange(42)[:, None] * [0.0, 0.5, 0.25]
    world[20] = [600.0, -10.0, 30.0]
    frame = InterHandFrame(
        7, 1234, world, np.ones(42, bool), "interacting", True, "0266_dh_pray", 3
    )
    write_interhand_split(root, split, [frame], [camera])
    return camera


def test_known_world_point_projects_as_computed_by_hand(tmp_path):
    _known_point_dataset(tmp_path, "val")
    sample = InterHandDataset(tmp_path, "val", load_images=False)[0]
    # X - campos = (500, 40, 30); rows of R pick (-z, y, x) -> camera (-30, 40, 500)
    np.testing.assert_allclose(sample.joints_cam[20], [-30.0, 40.0, 500.0], atol=1e-4)
    # u = 1000 * -30 / 500 + 256 = 196, v = 1100 * 40 / 500 + 167 = 255
    np.testing.assert_allclose(sample.joints_img[20], [196.0, 255.0], atol=1e-4)
    assert sample.file_name == "Capture7/0266_dh_pray/cam400262/image1234.jpg"
    assert "mano" not in sample.meta  # no MANO file in this split


def test_branches_in_the_v1_layout(fixture, dataset):
    human = set(fixture.human_annot_ids)
    h = InterHandDataset(fixture.root, branch="H", load_images=False)
    m = InterHandDataset(fixture.root, branch="M", load_images=False)
    assert set(h.annot_ids.tolist()) == human
    assert set(m.annot_ids.tolist()) == {im.annot_id for im in fixture.images} - human
    assert len(h) + len(m) == len(dataset) and len(h) > 0 and len(m) > 0
    assert h.file_names == [im.file_name for im in fixture.images if im.annot_id in human]


def test_branch_list_found_in_annotations_root_or_given(tmp_path):
    fx = make_fixture_dataset(tmp_path, seed=8, human_fraction=0.5, write_images=False)
    listed = human_annot_ids_path(tmp_path, "test")
    moved = tmp_path / "annotations" / listed.name
    shutil.move(listed, moved)
    h = InterHandDataset(tmp_path, branch="H", load_images=False)
    assert set(h.annot_ids.tolist()) == set(fx.human_annot_ids)
    elsewhere = tmp_path / "ids.txt"
    shutil.move(moved, elsewhere)
    with pytest.raises(DatasetFormatError, match="aid_human_annot_test.txt"):
        InterHandDataset(tmp_path, branch="M", load_images=False)
    m = InterHandDataset(tmp_path, branch="m", load_images=False, human_annot_ids=elsewhere)
    assert not set(m.annot_ids.tolist()) & set(fx.human_annot_ids)
    assert len(InterHandDataset(tmp_path, branch="ALL", load_images=False)) == len(fx.images)


def test_branches_in_the_per_branch_layout(tmp_path):
    fx = make_fixture_dataset(tmp_path, seed=6, human_fraction=0.5, layout="per_branch")
    every = InterHandDataset(tmp_path)  # default ALL reads annotations/all/
    assert every.files.data == annotation_file(tmp_path, "test", "data", "all")
    assert every.file_names == [im.file_name for im in fx.images]
    h = InterHandDataset(tmp_path, branch="H", load_images=False)
    m = InterHandDataset(tmp_path, branch="M", load_images=False)
    assert h.files.data.parent.name == "human_annot"
    assert set(h.annot_ids.tolist()) == set(fx.human_annot_ids)
    assert sorted(h.file_names + m.file_names) == sorted(every.file_names)
    assert "mano" in h[0].meta


def test_missing_branch_definition_is_an_error_only_for_h_and_m(tmp_path):
    make_fixture_dataset(tmp_path, seed=1, write_images=False)
    assert len(InterHandDataset(tmp_path, load_images=False)) == 18
    for branch in ("H", "M"):
        with pytest.raises(DatasetFormatError, match=f"branch {branch}.*human_annot"):
            InterHandDataset(tmp_path, branch=branch)
    with pytest.raises(ValueError, match="unknown branch"):
        InterHandDataset(tmp_path, branch="X")
    with pytest.raises(ValueError, match="not 'validation'"):
        InterHandDataset(tmp_path, split="validation")
    with pytest.raises(ValueError, match="unknown subset"):
        InterHandDataset(tmp_path, subset="XX")


def _crafted_subsets(root):
    """Seven images with hand-picked validity: 3 SH, 4 IH of which 2 are Inter."""
    camera = InterHandCamera(
        0, "400001", np.zeros(3), np.eye(3), np.array([900.0, 900.0]), np.array([256.0, 167.0])
    )
    frames, images = [], []
    full = np.ones(42, bool)
    inter_all = full.copy()
    no_left_root = full.copy()
    no_left_root[41] = False  # 41 raw valid, 21 after the root rule
    just_31 = full.copy()
    just_31[21:32] = False  # right 21 + left 10 (wrist kept) = 31 -> Inter
    just_30 = full.copy()
    just_30[21:33] = False  # 30 -> not Inter
    right_only = np.arange(42) < 21
    left_only = ~right_only
    cases = [
        ("right", right_only),
        ("left", left_only),
        ("right", right_only),
        ("interacting", inter_all),
        ("interacting", no_left_root),
        ("interacting", just_31),
        ("interacting", just_30),
    ]
    for k, (hand_type, valid) in enumerate(cases):
        world = np.tile([0.0, 0.0, 800.0], (42, 1)) + np.arange(42)[:, None] * [1.0, 1.0, 0.0]
        frames.append(InterHandFrame(0, 100 + k, world, full, hand_type, True, "seq", 0))
        images.append(
            InterHandImage(
                k,
                50 + k,
                0,
                "seq",
                0,
                "400001",
                100 + k,
                512,
                334,
                np.array([10.0, 10.0, 50.0, 50.0]),
                valid,
                hand_type,
                True,
            )  # fmt: skip
        )
    write_interhand_split(root, "test", frames, [camera], images)


def test_subsets_on_a_crafted_fixture(tmp_path):
    _crafted_subsets(tmp_path)
    counts = {
        subset: InterHandDataset(tmp_path, subset=subset, load_images=False).annot_ids.tolist()
        for subset in ("ALL", "SH", "IH", "Inter")
    }
    assert counts["ALL"] == list(range(50, 57))
    assert counts["SH"] == [50, 51, 52]
    assert counts["IH"] == [53, 54, 55, 56]
    assert counts["Inter"] == [53, 55]  # the root rule drops 54, 56 has only 30 joints
    raw = InterHandDataset(tmp_path, subset="IH", load_images=False)
    assert raw.joint_valid[1].sum() == 41  # the reader keeps the raw validity


def test_masks_and_hdr_gt_are_optional_and_decoded(tmp_path):
    fx = make_fixture_dataset(tmp_path, seed=2, num_captures=1, num_cameras=2, num_frames=2)
    first, second = fx.images[0], fx.images[1]
    rng = np.random.default_rng(0)
    masks = rng.random((4, first.height, first.width)) < 0.3
    write_masks(mask_path(tmp_path, "test", first.file_name), masks)
    gt_right = rng.integers(0, 256, (first.height, first.width, 3), dtype=np.uint8)
    write_image(hdr_gt_path(tmp_path, "test", first.file_name, "right"), gt_right)
    ds = InterHandDataset(tmp_path, load_images=False)
    sample = ds[0]
    np.testing.assert_array_equal(sample.masks, masks)
    np.testing.assert_array_equal(sample.hdr_gt["right"], gt_right)
    assert "left" not in sample.hdr_gt and sample.image is None
    assert ds[1].masks is None and ds[1].hdr_gt == {}
    skipped = InterHandDataset(tmp_path, load_images=False, load_masks=False, load_hdr_gt=False)
    assert skipped[0].masks is None and skipped[0].hdr_gt == {}

    bad_mask = mask_path(tmp_path, "test", second.file_name)
    bad_mask.parent.mkdir(parents=True, exist_ok=True)
    bad_mask.write_bytes(b"not a png")
    with pytest.raises(DatasetFormatError, match=str(bad_mask)):
        ds[1]
    write_masks(bad_mask, np.zeros((4, 10, 10), bool))
    with pytest.raises(DatasetFormatError, match="mask is"):
        ds[1]
    bad_mask.unlink()
    bad_gt = hdr_gt_path(tmp_path, "test", second.file_name, "left")
    bad_gt.parent.mkdir(parents=True, exist_ok=True)
    bad_gt.write_bytes(b"\x89PNG broken")
    with pytest.raises(DatasetFormatError, match=str(bad_gt)):
        ds[1]


def test_image_problems_name_the_file(tmp_path):
    fx = make_fixture_dataset(tmp_path, seed=4, num_captures=1, num_cameras=1, num_frames=2)
    path = tmp_path / "images" / "test" / fx.images[0].file_name
    write_image(path, np.zeros((20, 30, 3), np.uint8))
    ds = InterHandDataset(tmp_path)
    with pytest.raises(DatasetFormatError, match=f"{path}: image is 30x20"):
        ds[0]
    (tmp_path / "images" / "test" / fx.images[1].file_name).unlink()
    with pytest.raises(ImageReadError, match="no such image"):
        ds[1]


def test_mano_file_and_frames_are_optional(tmp_path):
    fx = make_fixture_dataset(tmp_path, seed=5, num_captures=1, num_cameras=1, write_images=False)
    path = annotation_file(tmp_path, "test", "MANO_NeuralAnnot")
    mano = json.loads(path.read_text())
    frame = fx.frames[0]
    del mano[str(frame.capture)][str(frame.frame_idx)]
    path.write_text(json.dumps(mano))
    ds = InterHandDataset(tmp_path, load_images=False)
    assert ds[0].meta["mano"] == {"right": None, "left": None}
    assert ds[2].meta["mano"]["right"] is not None  # the interacting frame keeps its fit
    path.unlink()
    assert "mano" not in InterHandDataset(tmp_path, load_images=False)[0].meta


def test_non_finite_coordinates_of_invalid_joints_are_zeroed(tmp_path):
    fx = make_fixture_dataset(tmp_path, seed=5, num_captures=1, num_cameras=1, write_images=False)
    path = annotation_file(tmp_path, "test", "joint_3d")
    joints = json.loads(path.read_text())
    frame = fx.frames[0]  # a right-hand frame: the left hand is not annotated
    joints[str(frame.capture)][str(frame.frame_idx)]["world_coord"][30] = [float("nan")] * 3
    path.write_text(json.dumps(joints))
    sample = InterHandDataset(tmp_path, load_images=False)[0]
    assert np.isfinite(sample.joints_cam).all() and not sample.joint_valid[30]


# ------------------------------------------------------------------ bad annotation files


def _edit(path, change):
    obj = json.loads(path.read_text())
    change(obj)
    path.write_text(json.dumps(obj))


def _first_frame(obj):
    capture = next(iter(obj))
    frame = next(iter(obj[capture]))
    return obj[capture][frame]


def _drop_first_frame(obj):
    capture = next(iter(obj))
    del obj[capture][next(iter(obj[capture]))]


def _camera_field(field, value=None, delete=False):
    def change(obj):
        table = obj["0"][field]
        name = next(iter(table))
        if delete:
            del table[name]
        else:
            table[name] = value

    return change


BAD_CASES = {
    "missing data": ("data", None, r"InterHand2.6M_test_data.json: file not found \(nor .*all"),
    "missing camera file": ("camera", None, r"InterHand2.6M_test_camera.json: file not found"),
    "missing joint_3d": ("joint_3d", None, r"InterHand2.6M_test_joint_3d.json: file not found"),
    "malformed": ("data", "truncate", r"_data.json: malformed JSON at line 1"),
    "orphan annotation": (
        "data",
        lambda o: o["annotations"][0].update(image_id=999999),
        r"_data.json: annotation id \d+ refers to image_id 999999",
    ),
    "image without annotation": (
        "data",
        lambda o: o["annotations"].pop(),
        r"_data.json: image id \d+ has no annotation",
    ),
    "two annotations": (
        "data",
        lambda o: o["annotations"].append(dict(o["annotations"][0], id=777)),
        r"_data.json: image id \d+ has 2 annotations",
    ),
    "duplicate image id": (
        "data",
        lambda o: o["images"][1].update(id=o["images"][0]["id"]),
        r"_data.json: image id \d+ appears twice",
    ),
    "short joint_valid": (
        "data",
        lambda o: o["annotations"][0]["joint_valid"].pop(),
        r"_data.json: annotations\[\] entry id=\d+: 'joint_valid' must be a list of 42",
    ),
    "bad joint_valid value": (
        "data",
        lambda o: o["annotations"][0]["joint_valid"].__setitem__(0, [2]),
        r"'joint_valid' entries must be 0/1.*got 2",
    ),
    "bad bbox": (
        "data",
        lambda o: o["annotations"][0].update(bbox=[1.0, 2.0, 3.0]),
        r"_data.json: annotations\[\] entry id=\d+: 'bbox' must be 4 finite numbers",
    ),
    "bad hand type": (
        "data",
        lambda o: o["annotations"][0].update(hand_type="both"),
        r"'hand_type' must be one of",
    ),
    "image lacks frame_idx": (
        "data",
        lambda o: o["images"][0].pop("frame_idx"),
        r"_data.json: images\[\] entry id=\d+: 'frame_idx' must be an integer, got None",
    ),
    "no images list": ("data", lambda o: o.pop("images"), r"_data.json: 'images' must be a list"),
    "missing capture": (
        "camera",
        lambda o: o.pop("0"),
        r"_camera.json: no capture '0'",
    ),
    "missing camera entry": (
        "camera",
        _camera_field("focal", delete=True),
        r"_camera.json: capture '0' has no 'focal' entry for camera '4\d+'",
    ),
    "short campos": (
        "camera",
        _camera_field("campos", [1.0, 2.0]),
        r"_camera.json: capture '0' 'campos' of camera '4\d+' must be 3 finite numbers",
    ),
    "missing frame": (
        "joint_3d",
        _drop_first_frame,
        r"_joint_3d.json: no entry for capture '0' frame '\d+' \(needed by image id \d+",
    ),
    "nan joint": (
        "joint_3d",
        lambda o: _first_frame(o)["world_coord"][20].__setitem__(0, float("nan")),
        r"_joint_3d.json: capture '0' frame '\d+': world_coord of joint 20 is not finite",
    ),
    "short world_coord": (
        "joint_3d",
        lambda o: _first_frame(o)["world_coord"].pop(),
        r"_joint_3d.json: capture '0' frame '\d+': 'world_coord' must be 42x3, got shape \(41, 3\)",
    ),
    "ragged world_coord": (
        "joint_3d",
        lambda o: _first_frame(o)["world_coord"][3].pop(),
        r"_joint_3d.json: capture '0' frame '\d+': 'world_coord' must be a 42x3 list",
    ),
    "bad capture key": (
        "joint_3d",
        lambda o: o.update(cap=o.pop("0")),
        r"_joint_3d.json: capture key 'cap' is not a non-negative integer",
    ),
    "short mano pose": (
        "MANO_NeuralAnnot",
        lambda o: _first_frame(o)["right"]["pose"].pop(),
        r"_MANO_NeuralAnnot.json: capture '0' frame '\d+' right: 'pose' must be 48 numbers",
    ),
    "mano hand not an object": (
        "MANO_NeuralAnnot",
        lambda o: _first_frame(o).update(left=[1, 2]),
        r"_MANO_NeuralAnnot.json: capture '0' frame '\d+': 'left' must be null",
    ),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    root = tmp_path_factory.mktemp("pristine")
    make_fixture_dataset(root, seed=11, num_captures=1, num_cameras=2, write_images=False)
    return root


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_annotation_files_name_the_file_and_key(case, pristine, tmp_path):
    kind, change, message = BAD_CASES[case]
    shutil.copytree(pristine, tmp_path, dirs_exist_ok=True)
    path = annotation_file(tmp_path, "test", kind)
    if change is None:
        path.unlink()
    elif change == "truncate":
        path.write_text(path.read_text()[:-40])
    else:
        _edit(path, change)
    with pytest.raises(DatasetFormatError, match=message):
        InterHandDataset(tmp_path, load_images=False)


def test_bad_branch_lists_name_the_file(pristine, tmp_path):
    shutil.copytree(pristine, tmp_path, dirs_exist_ok=True)
    path = human_annot_ids_path(tmp_path, "test")
    path.write_text("12\nabc\n")
    with pytest.raises(DatasetFormatError, match=r"aid_human_annot_test.txt: line 2: .*'abc'"):
        InterHandDataset(tmp_path, branch="H")
    write_human_annot_ids(tmp_path, "test", [10**9])
    with pytest.raises(DatasetFormatError, match=r"aid_human_annot_test.txt: none of its 1"):
        InterHandDataset(tmp_path, branch="H")


def test_mano_params_round_trip_exactly_as_float32(tmp_path):
    # an extra per-hand key (our synthetic data's "hand_model") is tolerated
    camera = InterHandCamera(0, "1", np.zeros(3), np.eye(3), np.ones(2) * 500, np.array([50.0, 40]))
    pose, shape, trans = np.linspace(-1, 1, 48), np.linspace(0, 2, 10), np.array([0.1, -0.2, 1.0])
    frame = InterHandFrame(
        0, 5, np.tile([0.0, 0.0, 900.0], (42, 1)), np.ones(42, bool), "left", True, "s", 0,
        mano={"right": None, "left": ManoParams(pose, shape, trans, hand_model="builtin")},
    )  # fmt: skip
    write_interhand_split(tmp_path, "train", [frame], [camera])
    got = InterHandDataset(tmp_path, "train", load_images=False)[0].meta["mano"]
    assert got["right"] is None
    np.testing.assert_array_equal(got["left"]["pose"], pose.astype(np.float32))
    np.testing.assert_array_equal(got["left"]["shape"], shape.astype(np.float32))
    np.testing.assert_array_equal(got["left"]["trans"], trans.astype(np.float32))
