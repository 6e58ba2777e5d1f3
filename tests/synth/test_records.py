import json

import numpy as np
import pytest

from handhdr.camera import world_to_camera
from handhdr.synth.cameras import camera_rig
from handhdr.synth.records import (
    build_record,
    existing_indices,
    joint_validity,
    part_path,
    read_part,
    write_part,
)


def _joints(cam, depth=800.0):
    rng = np.random.default_rng(0)
    joints = rng.normal(0.0, 30.0, (42, 3)) + [0.0, 0.0, depth]
    return joints


def test_validity_is_presence_times_inside_the_image():
    cam = camera_rig(0, 0, "studio", 128, 96)[0]
    joints = _joints(cam)
    joints[3] = [1e4, 0.0, 800.0]  # far right of the image
    joints[25] = [0.0, 0.0, -50.0]  # behind the camera
    valid, uv = joint_validity(joints, {"right": True, "left": True}, cam, 128, 96)
    assert not valid[3] and not valid[25]
    inside = (uv[:, 0] >= 0) & (uv[:, 0] < 128) & (uv[:, 1] >= 0) & (uv[:, 1] < 96)
    np.testing.assert_array_equal(
        valid[[i for i in range(42) if i not in (3, 25)]],
        inside[[i for i in range(42) if i not in (3, 25)]],
    )
    only_right, _ = joint_validity(joints, {"right": True}, cam, 128, 96)
    assert not only_right[21:].any()


def test_record_world_joints_round_trip_and_absent_hand():
    cam = camera_rig(0, 0, "studio", 128, 96)[3]
    joints = _joints(cam)
    record = build_record(
        index=12, capture=0, seq_name="synth_render_studio", camera=cam, width=128, height=96,
        joints_cam=joints, present={"right": True, "left": False}, hand_type="right",
        mano_world={"right": {"pose": np.zeros(48), "shape": np.zeros(10), "trans": np.ones(3),
                              "hand_model": "builtin"}},
        synth={"scene": "single"},
    )  # fmt: skip
    world = np.array(record["world_coord"])
    back = world_to_camera(world[:21], np.array(record["camera"]["camrot"]),
                           np.array(record["camera"]["campos"]))  # fmt: skip
    np.testing.assert_allclose(back, joints[:21], atol=1e-9)
    assert not np.any(world[21:]) and not any(record["annotation"]["joint_valid"][21:])
    assert record["image"]["file_name"] == f"Capture0/synth_render_studio/cam{cam.name}/image12.jpg"
    assert record["mano"]["left"] is None and record["mano"]["right"]["hand_model"] == "builtin"
    json.dumps(record)  # JSON-ready


def test_parts_are_found_and_half_written_ones_ignored(tmp_path):
    record = {k: {} for k in ("image", "annotation", "camera", "mano", "synth")}
    record.update(index=10_003, world_coord=[])
    path = write_part(tmp_path, "val", record)
    assert path == part_path(tmp_path, "val", 10_003) and path.parent.name == "0001"
    (path.parent / ".00000004.abc.tmp.json").write_text("{")  # a killed atomic write
    assert existing_indices(tmp_path, "val") == {10_003}
    assert read_part(path)["index"] == 10_003
    path.write_text('{"index": 1}')
    with pytest.raises(ValueError, match="without the key 'image'"):
        read_part(path)
