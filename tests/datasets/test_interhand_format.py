import json
import re

import numpy as np
import pytest

from handhdr.datasets.interhand_format import (
    InterHandCamera,
    InterHandFrame,
    annotation_file,
    box_of_joints,
    build_image_annotations,
    hand_type_valid_rule,
    human_annot_ids_path,
    image_file_name,
    make_fixture_dataset,
    random_hand_joints,
    write_interhand_split,
)
from handhdr.io import read_image

IMAGE_KEYS = {"id", "file_name", "width", "height", "capture", "subject", "seq_name", "camera"}
IMAGE_KEYS |= {"frame_idx"}
ANNOTATION_KEYS = {"id", "image_id", "bbox", "joint_valid", "hand_type", "hand_type_valid"}


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("ih_format")
    return make_fixture_dataset(root, "test", seed=5, num_captures=2, num_cameras=3, num_frames=3)


def _load(path):
    with open(path) as handle:
        return json.load(handle)


def test_data_json_has_the_real_structure(fixture):
    data = _load(annotation_file(fixture.root, "test", "data"))
    assert set(data) == {"images", "annotations"}
    assert len(data["images"]) == len(data["annotations"]) == 2 * 3 * 3
    for image in data["images"]:
        assert set(image) == IMAGE_KEYS
        assert isinstance(image["camera"], str)
        assert all(type(image[k]) is int for k in ("id", "width", "height", "capture", "frame_idx"))
        assert image["file_name"] == (
            f"Capture{image['capture']}/{image['seq_name']}/cam{image['camera']}"
            f"/image{image['frame_idx']}.jpg"
        )
        assert (image["width"], image["height"]) in ((512, 334), (334, 512))
    for ann in data["annotations"]:
        assert set(ann) == ANNOTATION_KEYS
        assert len(ann["joint_valid"]) == 42
        assert all(type(v) is list and len(v) == 1 and v[0] in (0, 1) for v in ann["joint_valid"])
        assert all(type(v[0]) is int for v in ann["joint_valid"])
        assert ann["hand_type"] in ("right", "left", "interacting")
        assert type(ann["hand_type_valid"]) is int
        assert len(ann["bbox"]) == 4
    assert {a["image_id"] for a in data["annotations"]} == {i["id"] for i in data["images"]}


def test_camera_joint_and_mano_json_have_the_real_structure(fixture):
    cameras = _load(annotation_file(fixture.root, "test", "camera"))
    assert set(cameras) == {"0", "1"}
    for entry in cameras.values():
        assert set(entry) == {"campos", "camrot", "focal", "princpt"}
        names = set(entry["campos"])
        assert len(names) == 3 and all(set(entry[k]) == names for k in entry)
        for name in names:
            assert np.shape(entry["campos"][name]) == (3,)
            assert np.shape(entry["camrot"][name]) == (3, 3)
            assert np.shape(entry["focal"][name]) == (2,)
            assert np.shape(entry["princpt"][name]) == (2,)
    joints = _load(annotation_file(fixture.root, "test", "joint_3d"))
    assert set(joints) == {"0", "1"}
    for frames in joints.values():
        assert all(key.isdigit() for key in frames)
        for frame in frames.values():
            assert set(frame) == {"world_coord", "joint_valid", "hand_type", "hand_type_valid"}
            assert np.shape(frame["world_coord"]) == (42, 3)
            assert all(type(v) is list and type(v[0]) is bool for v in frame["joint_valid"])
            assert type(frame["hand_type_valid"]) is bool
    mano = _load(annotation_file(fixture.root, "test", "MANO_NeuralAnnot"))
    for frame in fixture.frames:
        hands = mano[str(frame.capture)][str(frame.frame_idx)]
        assert set(hands) == {"right", "left"}
        for hand in ("right", "left"):
            present = frame.hand_type in (hand, "interacting")
            assert (hands[hand] is not None) == present
            if present:
                assert {k: len(v) for k, v in hands[hand].items()} == {
                    "pose": 48,
                    "shape": 10,
                    "trans": 3,
                }


def test_values_round_trip_through_the_files(fixture):
    joints = _load(annotation_file(fixture.root, "test", "joint_3d"))
    cameras = _load(annotation_file(fixture.root, "test", "camera"))
    for frame in fixture.frames:
        entry = joints[str(frame.capture)][str(frame.frame_idx)]
        np.testing.assert_array_equal(entry["world_coord"], frame.world_coord)
        assert [v[0] for v in entry["joint_valid"]] == frame.joint_valid.tolist()
        assert entry["hand_type"] == frame.hand_type
    for cam in fixture.cameras:
        entry = cameras[str(cam.capture)]
        np.testing.assert_array_equal(entry["camrot"][cam.name], cam.camrot)
        np.testing.assert_array_equal(entry["campos"][cam.name], cam.campos)


def test_image_annotations_follow_the_release_rules(fixture):
    for image in fixture.images:
        frame = fixture.frame(image.capture, image.frame_idx)
        cam = fixture.camera(image.capture, image.camera)
        # independent projection, one joint at a time
        uv, z = [], []
        for point in frame.world_coord:
            x, y, depth = cam.camrot @ (point - cam.campos)
            uv.append(
                [
                    cam.focal[0] * x / depth + cam.princpt[0],
                    cam.focal[1] * y / depth + cam.princpt[1],
                ]
            )
            z.append(depth)
        uv, z = np.array(uv), np.array(z)
        inside = (z > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < image.width)
        inside &= (uv[:, 1] >= 0) & (uv[:, 1] < image.height)
        np.testing.assert_array_equal(image.joint_valid, frame.joint_valid & inside)
        x, y, w, h = image.bbox
        points = uv[image.joint_valid]
        assert (points[:, 0] >= x - 1e-9).all() and (points[:, 0] <= x + w + 1e-9).all()
        assert (points[:, 1] >= y - 1e-9).all() and (points[:, 1] <= y + h + 1e-9).all()
        assert x >= 0 and y >= 0 and x + w <= image.width and y + h <= image.height
        assert image.hand_type == frame.hand_type
        assert image.file_name == image_file_name(
            image.capture, image.seq_name, image.camera, image.frame_idx
        )


def test_hand_type_valid_rule_threshold():
    valid = np.zeros(42, bool)
    valid[:30] = True
    assert not hand_type_valid_rule("interacting", valid)
    valid[30] = True
    assert hand_type_valid_rule("interacting", valid)
    assert hand_type_valid_rule("right", np.zeros(42, bool))
    with pytest.raises(ValueError, match="hand_type"):
        hand_type_valid_rule("both", valid)


def test_box_of_joints_pads_and_clips():
    joints = np.array([[10.0, 20.0], [110.0, 70.0], [500.0, 500.0]])
    valid = np.array([True, True, False])
    np.testing.assert_allclose(box_of_joints(joints, valid, 512, 334), [0.0, 15.0, 120.0, 60.0])
    np.testing.assert_allclose(box_of_joints(joints, np.zeros(3, bool), 512, 334), [0, 0, 512, 334])


def test_fixture_is_physically_sensible(fixture):
    for cam in fixture.cameras:
        np.testing.assert_allclose(cam.camrot @ cam.camrot.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(cam.camrot) == pytest.approx(1.0)
    for image in fixture.images:
        frame = fixture.frame(image.capture, image.frame_idx)
        cam = fixture.camera(image.capture, image.camera)
        for hand, wrist in (("right", 20), ("left", 41)):
            if frame.hand_type in (hand, "interacting"):
                depth = (cam.camrot @ (frame.world_coord[wrist] - cam.campos))[2]
                assert 600 < depth < 1500  # in front of the camera, about a metre away
            else:
                assert not frame.joint_valid[wrist - 20 : wrist + 1].any()
        picture = read_image(fixture.root / "images" / "test" / image.file_name)
        assert picture.shape == (image.height, image.width, 3)
    assert [f.hand_type for f in fixture.frames[:3]] == ["right", "left", "interacting"]
    # bone lengths of a generated hand are those of an adult hand
    hand = random_hand_joints(np.random.default_rng(0), "right")
    assert 60 < np.linalg.norm(hand[11] - hand[20]) < 110  # wrist to middle MCP


def test_left_hand_mirrors_the_right():
    right = random_hand_joints(np.random.default_rng(1), "right")
    left = random_hand_joints(np.random.default_rng(1), "left")
    np.testing.assert_allclose(left, right * [-1.0, 1.0, 1.0])


def test_fixture_is_deterministic_and_seeded(tmp_path):
    a = make_fixture_dataset(tmp_path / "a", "val", seed=9, write_images=False)
    b = make_fixture_dataset(tmp_path / "b", "val", seed=9, write_images=False)
    c = make_fixture_dataset(tmp_path / "c", "val", seed=10, write_images=False)
    for kind in ("data", "camera", "joint_3d", "MANO_NeuralAnnot"):
        assert a.paths[kind].read_bytes() == b.paths[kind].read_bytes()
        assert a.paths[kind].read_bytes() != c.paths[kind].read_bytes()
    assert a.paths["data"].name == "InterHand2.6M_val_data.json"
    assert not (tmp_path / "a" / "images").exists()


def test_given_image_size_and_no_mano(tmp_path):
    fx = make_fixture_dataset(tmp_path, seed=2, image_size=(96, 64), with_mano=False)
    assert {(im.width, im.height) for im in fx.images} == {(96, 64)}
    assert "MANO_NeuralAnnot" not in fx.paths
    assert not annotation_file(tmp_path, "test", "MANO_NeuralAnnot").exists()
    picture = read_image(tmp_path / "images" / "test" / fx.images[0].file_name)
    assert picture.shape == (64, 96, 3)


def test_branch_definitions_in_both_layouts(tmp_path):
    v1 = make_fixture_dataset(tmp_path / "v1", seed=4, human_fraction=0.5, write_images=False)
    lines = human_annot_ids_path(tmp_path / "v1", "test").read_text().splitlines()
    assert all(re.fullmatch(r"\d+", line) for line in lines)
    assert [int(x) for x in lines] == v1.human_annot_ids
    assert 0 < len(lines) < len(v1.images)

    per = make_fixture_dataset(tmp_path / "pb", seed=4, human_fraction=0.5, layout="per_branch")
    ids = {}
    for branch in ("all", "human_annot", "machine_annot"):
        data = _load(annotation_file(tmp_path / "pb", "test", "data", branch))
        ids[branch] = {a["id"] for a in data["annotations"]}
    assert ids["human_annot"] == set(per.human_annot_ids)
    assert ids["human_annot"] | ids["machine_annot"] == ids["all"]
    assert not ids["human_annot"] & ids["machine_annot"]
    assert not (tmp_path / "pb" / "annotations" / "test").exists()


def _camera(capture=0, name="400001"):
    return InterHandCamera(
        capture, name, np.zeros(3), np.eye(3), np.array([1000.0, 1000.0]), np.array([256.0, 167.0])
    )


def _frame(capture=0, frame_idx=10, world=None):
    world = np.tile([0.0, 0.0, 1000.0], (42, 1)) if world is None else world
    return InterHandFrame(capture, frame_idx, world, np.ones(42, bool), "interacting", True, "s", 0)


def test_writer_rejects_inconsistent_input(tmp_path):
    frames, cameras = [_frame()], [_camera()]
    images = build_image_annotations(frames, cameras)
    with pytest.raises(ValueError, match="no camera '400002'"):
        images[0].camera = "400002"
        write_interhand_split(tmp_path, "test", frames, cameras, images)
    with pytest.raises(ValueError, match="given twice"):
        write_interhand_split(tmp_path, "test", [_frame(), _frame()], cameras)
    with pytest.raises(ValueError, match=r"world_coord: expected shape \(42, 3\)"):
        write_interhand_split(tmp_path, "test", [_frame(world=np.zeros((41, 3)))], cameras)
    with pytest.raises(ValueError, match="'val', not 'validation'"):
        write_interhand_split(tmp_path, "validation", frames, cameras)
    with pytest.raises(ValueError, match="no frame 11"):
        other = build_image_annotations([_frame(frame_idx=11)], cameras)
        write_interhand_split(tmp_path, "test", frames, cameras, other)
    assert not (tmp_path / "annotations").exists()  # nothing was half-written
