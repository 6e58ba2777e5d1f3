"""Write InterHand2.6M v1.0 annotation files in exactly the released format.

The test fixtures of the whole project and our synthetic generator write their
InterHand2.6M-layout datasets through this module, so that the reader
(:mod:`handhdr.datasets.interhand`) only ever meets the real format.

Layout of a v1.0 release (``{split}`` is ``train``, ``val`` or ``test``)::

    images/{split}/Capture{c}/{seq_name}/cam{camera}/image{frame_idx}.jpg
    annotations/{split}/InterHand2.6M_{split}_data.json
    annotations/{split}/InterHand2.6M_{split}_camera.json
    annotations/{split}/InterHand2.6M_{split}_joint_3d.json
    annotations/{split}/InterHand2.6M_{split}_MANO_NeuralAnnot.json   (optional)

The older per-branch layout has the same four files under
``annotations/{all,human_annot,machine_annot}/``. v1.0 has no branch folders: the
H branch is defined by the list of human-annotated annotation ids,
``aid_human_annot_{split}.txt`` (one id per line), which the authors distribute
separately; we keep it at ``annotations/{split}/aid_human_annot_{split}.txt``.

Format facts (checked against the published files):

* ``_data.json`` is COCO style. ``images[]``: ``id``, ``file_name``, ``width``,
  ``height``, ``capture``, ``subject``, ``seq_name``, ``camera`` (a string),
  ``frame_idx``. ``annotations[]``: ``id``, ``image_id``, ``bbox`` ``[x, y, w, h]``,
  ``joint_valid`` as 42 one-element lists of 0/1, ``hand_type`` (``right``,
  ``left``, ``interacting``), ``hand_type_valid`` 0/1. A joint is valid when it is
  annotated *and* inside the image; ``hand_type_valid`` is 1 for single hands and
  for interacting hands with more than 30 valid joints.
* ``_camera.json``: ``{capture: {campos|camrot|focal|princpt: {camera: value}}}``,
  ``campos`` in mm, ``camrot`` the 3x3 world-to-camera rotation.
* ``_joint_3d.json``: ``{capture: {frame_idx: {world_coord (42x3 mm), joint_valid
  (42 one-element lists of true/false), hand_type, hand_type_valid (bool)}}}``.
* ``_MANO_NeuralAnnot.json``: ``{capture: {frame_idx: {right|left: {pose (48),
  shape (10), trans (3, metres)} or null}}}``.

Every JSON key is a string. Files are written atomically (:mod:`handhdr.io`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from handhdr.camera import project, world_to_camera
from handhdr.datasets.schema import HAND_TYPES
from handhdr.io import atomic_write_json, atomic_write_text, write_image
from handhdr.joints import HAND_SLICES, INTERHAND42_PARENTS, NUM_JOINTS

SPLITS: tuple[str, str, str] = ("train", "val", "test")
ANNOTATION_KINDS: tuple[str, ...] = ("data", "camera", "joint_3d", "MANO_NeuralAnnot")
BRANCH_DIRS: dict[str, str] = {"ALL": "all", "H": "human_annot", "M": "machine_annot"}
IMAGE_SIZE: tuple[int, int] = (512, 334)  # (width, height) of the v1.0 downsized images
HAND_TYPE_VALID_MIN_JOINTS = 30  # interacting: hand_type_valid needs more valid joints
MANO_SIZES: dict[str, int] = {"pose": 48, "shape": 10, "trans": 3}


class DatasetFormatError(ValueError):
    """A dataset file is missing or does not hold what its format promises.

    The message names the file, the key or id, and what was expected.
    """


# --------------------------------------------------------------------------- records


@dataclass(eq=False)
class InterHandCamera:
    """One calibrated camera of one capture, as ``_camera.json`` stores it."""

    capture: int
    name: str  # e.g. "400262"; a string in every file
    campos: np.ndarray  # (3,) camera position, world frame, mm
    camrot: np.ndarray  # (3, 3) world-to-camera rotation: X_cam = R (X - campos)
    focal: np.ndarray  # (2,) fx, fy pixels
    princpt: np.ndarray  # (2,) cx, cy pixels
    # Not part of _camera.json: the size of this camera's images (width, height),
    # used for the images[] entries. The v1.0 images are 512x334 or 334x512.
    image_size: tuple[int, int] = IMAGE_SIZE


@dataclass(eq=False)
class ManoParams:
    """NeuralAnnot MANO fit of one hand in one frame (world frame)."""

    pose: np.ndarray  # (48,) axis-angle, global rotation first
    shape: np.ndarray  # (10,) betas
    trans: np.ndarray  # (3,) metres
    # Not in the released files: the hand model the parameters belong to ("builtin",
    # "mano"); written as an extra "hand_model" key when set (our synthetic data).
    hand_model: str | None = None


@dataclass(eq=False)
class InterHandFrame:
    """One captured frame: the 3D joints every camera of the capture sees."""

    capture: int
    frame_idx: int
    world_coord: np.ndarray  # (42, 3) mm, right hand 0-20, left hand 21-41
    joint_valid: np.ndarray  # (42,) bool: the joint is annotated in 3D
    hand_type: str
    hand_type_valid: bool
    seq_name: str
    subject: int
    # MANO fits per hand (None for a hand without a fit); None: no entry at all
    mano: dict[str, ManoParams | None] | None = None


@dataclass(eq=False)
class InterHandImage:
    """One image (a frame seen by one camera) with its single annotation."""

    image_id: int
    annot_id: int
    capture: int
    seq_name: str
    subject: int
    camera: str
    frame_idx: int
    width: int
    height: int
    bbox: np.ndarray  # (4,) x, y, w, h pixels
    joint_valid: np.ndarray  # (42,) bool: annotated and inside the image
    hand_type: str
    hand_type_valid: bool

    @property
    def file_name(self) -> str:
        """Path relative to ``images/{split}/``."""
        return image_file_name(self.capture, self.seq_name, self.camera, self.frame_idx)


# --------------------------------------------------------------------------- paths


def image_file_name(capture: int, seq_name: str, camera: str, frame_idx: int) -> str:
    """``Capture{c}/{seq_name}/cam{camera}/image{frame_idx}.jpg`` (POSIX)."""
    return f"Capture{int(capture)}/{seq_name}/cam{camera}/image{int(frame_idx)}.jpg"


def check_split(split: str) -> str:
    """Return ``split`` if it is one of the v1.0 split names, else raise."""
    if split not in SPLITS:
        raise ValueError(
            f"unknown split {split!r}; InterHand2.6M v1.0 names its splits {SPLITS} "
            "(folders and file names use 'val', not 'validation')"
        )
    return split


def annotation_dir(root: str | os.PathLike[str], split: str, branch_dir: str | None = None) -> Path:
    """``annotations/{split}`` (v1.0) or ``annotations/{branch_dir}`` (per-branch layout)."""
    check_split(split)
    if branch_dir is not None and branch_dir not in BRANCH_DIRS.values():
        raise ValueError(
            f"branch_dir must be one of {tuple(BRANCH_DIRS.values())}, got {branch_dir!r}"
        )
    return Path(root) / "annotations" / (branch_dir if branch_dir is not None else split)


def annotation_file(
    root: str | os.PathLike[str], split: str, kind: str, branch_dir: str | None = None
) -> Path:
    """Path of ``InterHand2.6M_{split}_{kind}.json``; ``kind`` in :data:`ANNOTATION_KINDS`."""
    if kind not in ANNOTATION_KINDS:
        raise ValueError(f"kind must be one of {ANNOTATION_KINDS}, got {kind!r}")
    return annotation_dir(root, split, branch_dir) / f"InterHand2.6M_{split}_{kind}.json"


def human_annot_ids_path(root: str | os.PathLike[str], split: str) -> Path:
    """Where we keep the v1.0 H-branch list ``aid_human_annot_{split}.txt``."""
    return annotation_dir(root, split) / f"aid_human_annot_{split}.txt"


# --------------------------------------------------------------------------- rules


def hand_type_valid_rule(hand_type: str, joint_valid: np.ndarray) -> bool:
    """The release's rule: single hands always, interacting with > 30 valid joints."""
    if hand_type not in HAND_TYPES:
        raise ValueError(f"hand_type must be one of {HAND_TYPES}, got {hand_type!r}")
    if hand_type != "interacting":
        return True
    return int(np.count_nonzero(joint_valid)) > HAND_TYPE_VALID_MIN_JOINTS


def box_of_joints(
    joints_img: np.ndarray, valid: np.ndarray, width: int, height: int, margin: float = 0.1
) -> np.ndarray:
    """``[x, y, w, h]`` around the valid 2D joints, padded by ``margin`` of its size on
    each side and clipped to the image; the whole image when no joint is valid."""
    points = np.asarray(joints_img, dtype=np.float64)[np.asarray(valid, dtype=bool)]
    if points.shape[0] == 0:
        return np.array([0.0, 0.0, float(width), float(height)])
    low, high = points.min(axis=0), points.max(axis=0)
    pad = (high - low) * margin
    low = np.clip(low - pad, 0.0, [width, height])
    high = np.clip(high + pad, 0.0, [width, height])
    return np.concatenate([low, high - low])


def build_image_annotations(
    frames: Sequence[InterHandFrame],
    cameras: Sequence[InterHandCamera],
    first_id: int = 0,
) -> list[InterHandImage]:
    """One image per (frame, camera of its capture), annotated as the release does.

    Per image: ``joint_valid`` = the frame's 3D validity, in front of the camera and
    projected inside the image; ``bbox`` = :func:`box_of_joints` of those joints;
    ``hand_type`` from the frame; ``hand_type_valid`` by :func:`hand_type_valid_rule`.
    Image and annotation ids are equal and count up from ``first_id``.
    """
    by_capture: dict[int, list[InterHandCamera]] = {}
    for cam in cameras:
        by_capture.setdefault(int(cam.capture), []).append(cam)
    images: list[InterHandImage] = []
    next_id = int(first_id)
    for frame in frames:
        cams = by_capture.get(int(frame.capture))
        if not cams:
            raise ValueError(f"frame {frame.frame_idx} of capture {frame.capture}: no camera")
        what = f"capture {frame.capture} frame {frame.frame_idx}"
        world = np.array(_floats(frame.world_coord, (NUM_JOINTS, 3), f"{what} world_coord"))
        frame_valid = _validity(frame.joint_valid, what)
        for cam in cams:
            width, height = (int(v) for v in cam.image_size)
            joints_cam = world_to_camera(
                world, np.asarray(cam.camrot, np.float64), np.asarray(cam.campos, np.float64)
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                joints_img = project(
                    joints_cam,
                    np.asarray(cam.focal, np.float64),
                    np.asarray(cam.princpt, np.float64),
                )
            inside = (
                (joints_cam[:, 2] > 0)
                & (joints_img[:, 0] >= 0)
                & (joints_img[:, 0] < width)
                & (joints_img[:, 1] >= 0)
                & (joints_img[:, 1] < height)
            )
            valid = frame_valid & inside
            images.append(
                InterHandImage(
                    image_id=next_id,
                    annot_id=next_id,
                    capture=int(frame.capture),
                    seq_name=frame.seq_name,
                    subject=int(frame.subject),
                    camera=str(cam.name),
                    frame_idx=int(frame.frame_idx),
                    width=width,
                    height=height,
                    bbox=box_of_joints(joints_img, valid, width, height),
                    joint_valid=valid,
                    hand_type=frame.hand_type,
                    hand_type_valid=hand_type_valid_rule(frame.hand_type, valid),
                )
            )
            next_id += 1
    return images


# --------------------------------------------------------------------------- writing


def _floats(values: np.ndarray, shape: tuple[int, ...], what: str) -> list:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{what}: expected shape {shape}, got {array.shape}")
    return array.tolist()


def _validity(values: np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.shape != (NUM_JOINTS,):
        raise ValueError(f"{what}: joint_valid must have {NUM_JOINTS} entries, got {array.shape}")
    return array.astype(bool)


def _check_hand_type(hand_type: str, what: str) -> str:
    if hand_type not in HAND_TYPES:
        raise ValueError(f"{what}: hand_type must be one of {HAND_TYPES}, got {hand_type!r}")
    return hand_type


def data_json(images: Sequence[InterHandImage]) -> dict:
    """The ``_data.json`` object of ``images`` (one annotation per image)."""
    image_entries, annotation_entries = [], []
    for im in images:
        what = f"image {im.image_id}"
        image_entries.append(
            {
                "id": int(im.image_id),
                "file_name": im.file_name,
                "width": int(im.width),
                "height": int(im.height),
                "capture": int(im.capture),
                "subject": int(im.subject),
                "seq_name": str(im.seq_name),
                "camera": str(im.camera),
                "frame_idx": int(im.frame_idx),
            }
        )
        annotation_entries.append(
            {
                "id": int(im.annot_id),
                "image_id": int(im.image_id),
                "bbox": _floats(im.bbox, (4,), what),
                "joint_valid": [[int(v)] for v in _validity(im.joint_valid, what)],
                "hand_type": _check_hand_type(im.hand_type, what),
                "hand_type_valid": int(bool(im.hand_type_valid)),
            }
        )
    return {"images": image_entries, "annotations": annotation_entries}


def camera_json(cameras: Sequence[InterHandCamera]) -> dict:
    """The ``_camera.json`` object of ``cameras``."""
    out: dict[str, dict[str, dict[str, list]]] = {}
    for cam in cameras:
        what = f"capture {cam.capture} camera {cam.name!r}"
        entry = out.setdefault(
            str(int(cam.capture)), {"campos": {}, "camrot": {}, "focal": {}, "princpt": {}}
        )
        name = str(cam.name)
        if name in entry["campos"]:
            raise ValueError(f"{what}: given twice")
        entry["campos"][name] = _floats(cam.campos, (3,), f"{what} campos")
        entry["camrot"][name] = _floats(cam.camrot, (3, 3), f"{what} camrot")
        entry["focal"][name] = _floats(cam.focal, (2,), f"{what} focal")
        entry["princpt"][name] = _floats(cam.princpt, (2,), f"{what} princpt")
    return out


def joint_3d_json(frames: Sequence[InterHandFrame]) -> dict:
    """The ``_joint_3d.json`` object of ``frames``."""
    out: dict[str, dict[str, dict]] = {}
    for frame in frames:
        what = f"capture {frame.capture} frame {frame.frame_idx}"
        captured = out.setdefault(str(int(frame.capture)), {})
        key = str(int(frame.frame_idx))
        if key in captured:
            raise ValueError(f"{what}: given twice")
        captured[key] = {
            "world_coord": _floats(frame.world_coord, (NUM_JOINTS, 3), f"{what} world_coord"),
            "joint_valid": [[bool(v)] for v in _validity(frame.joint_valid, what)],
            "hand_type": _check_hand_type(frame.hand_type, what),
            "hand_type_valid": bool(frame.hand_type_valid),
        }
    return out


def mano_json(frames: Sequence[InterHandFrame]) -> dict:
    """The ``_MANO_NeuralAnnot.json`` object (frames whose ``mano`` is None are left out)."""
    out: dict[str, dict[str, dict]] = {}
    for frame in frames:
        if frame.mano is None:
            continue
        what = f"capture {frame.capture} frame {frame.frame_idx}"
        hands: dict[str, dict | None] = {}
        for hand in ("right", "left"):
            params = frame.mano.get(hand)
            hands[hand] = (
                None
                if params is None
                else {
                    name: _floats(getattr(params, name), (size,), f"{what} {hand} {name}")
                    for name, size in MANO_SIZES.items()
                }
            )
            if params is not None and params.hand_model is not None:
                hands[hand]["hand_model"] = str(params.hand_model)
        out.setdefault(str(int(frame.capture)), {})[str(int(frame.frame_idx))] = hands
    return out


def _check_references(
    images: Sequence[InterHandImage],
    frames: Sequence[InterHandFrame],
    cameras: Sequence[InterHandCamera],
) -> None:
    frame_keys = {(int(f.capture), int(f.frame_idx)) for f in frames}
    camera_keys = {(int(c.capture), str(c.name)) for c in cameras}
    image_ids: set[int] = set()
    annot_ids: set[int] = set()
    for im in images:
        if (int(im.capture), int(im.frame_idx)) not in frame_keys:
            raise ValueError(
                f"image {im.image_id}: no frame {im.frame_idx} of capture {im.capture} to write"
            )
        if (int(im.capture), str(im.camera)) not in camera_keys:
            raise ValueError(
                f"image {im.image_id}: no camera {im.camera!r} of capture {im.capture}"
            )
        if int(im.image_id) in image_ids or int(im.annot_id) in annot_ids:
            raise ValueError(
                f"image {im.image_id}: image id or annotation id {im.annot_id} repeated"
            )
        image_ids.add(int(im.image_id))
        annot_ids.add(int(im.annot_id))


def write_interhand_split(
    root: str | os.PathLike[str],
    split: str,
    frames: Sequence[InterHandFrame],
    cameras: Sequence[InterHandCamera],
    images: Sequence[InterHandImage] | None = None,
    *,
    branch_dir: str | None = None,
    write_mano: bool | None = None,
) -> dict[str, Path]:
    """Write the annotation files of one split; return their paths by kind.

    ``images`` defaults to :func:`build_image_annotations` of every frame and camera.
    ``branch_dir`` (``all``, ``human_annot`` or ``machine_annot``) writes the older
    per-branch layout instead of ``annotations/{split}/``. ``write_mano`` defaults to
    "some frame has MANO parameters". Images themselves are not written.
    """
    check_split(split)
    if images is None:
        images = build_image_annotations(frames, cameras)
    _check_references(images, frames, cameras)
    if write_mano is None:
        write_mano = any(frame.mano is not None for frame in frames)
    contents = {
        "data": data_json(images),
        "camera": camera_json(cameras),
        "joint_3d": joint_3d_json(frames),
    }
    if write_mano:
        contents["MANO_NeuralAnnot"] = mano_json(frames)
    paths: dict[str, Path] = {}
    for kind, obj in contents.items():
        path = annotation_file(root, split, kind, branch_dir)
        atomic_write_json(path, obj, indent=None)
        paths[kind] = path
    return paths


def write_human_annot_ids(
    root: str | os.PathLike[str], split: str, annot_ids: Iterable[int]
) -> Path:
    """Write the v1.0 H-branch definition ``aid_human_annot_{split}.txt`` (one id a line)."""
    path = human_annot_ids_path(root, split)
    atomic_write_text(path, "".join(f"{int(aid)}\n" for aid in annot_ids))
    return path


# --------------------------------------------------------------------------- fixtures

# Right hand in its own frame (mm): wrist at the origin, palm in the x-y plane,
# fingers along +y, palm facing -z. Per finger: base joint (thumb CMC, other MCPs)
# offset from the wrist, and the lengths of the three bones from the base to the tip.
_FINGER_BASES = np.array(
    [
        [22.0, 25.0, -5.0],
        [22.0, 88.0, 0.0],
        [4.0, 92.0, 0.0],
        [-13.0, 87.0, 0.0],
        [-28.0, 78.0, 0.0],
    ]
)
_FINGER_DIRS = np.array(
    [[0.75, 0.66, -0.1], [0.12, 1.0, 0.0], [0.0, 1.0, 0.0], [-0.1, 1.0, 0.0], [-0.22, 1.0, 0.0]]
)
_BONE_LENGTHS = np.array(
    [
        [38.0, 32.0, 27.0],
        [40.0, 24.0, 20.0],
        [45.0, 28.0, 22.0],
        [42.0, 26.0, 21.0],
        [32.0, 20.0, 18.0],
    ]
)
_PALM_NORMAL = np.array([0.0, 0.0, -1.0])
_SEQUENCE_NAMES = {
    "right": "0007_thumbup_normal",
    "left": "0051_thumbup_normal_left",
    "interacting": "0266_dh_pray",
}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def random_hand_joints(rng: np.random.Generator, side: str, scale: float = 1.0) -> np.ndarray:
    """``(21, 3)`` joints of a plausible hand (InterHand2.6M order, wrist at the origin,
    local frame, mm) with random finger curls; the left hand mirrors the right."""
    joints = np.zeros((21, 3))
    for finger in range(5):
        base_dir = _unit(_FINGER_DIRS[finger])
        lateral_curl = rng.uniform(0.0, 0.35) if finger == 0 else rng.uniform(0.0, 1.1)
        point = _FINGER_BASES[finger] * scale
        chain = [point]
        angle = 0.0
        for bone in range(3):
            angle += lateral_curl * (0.6 + 0.4 * bone)
            direction = np.cos(angle) * base_dir + np.sin(angle) * _PALM_NORMAL
            point = point + _BONE_LENGTHS[finger, bone] * scale * direction
            chain.append(point)
        # InterHand2.6M order per finger: tip first, base last
        joints[4 * finger : 4 * finger + 4] = np.array(chain[::-1])
    if side == "left":
        joints[:, 0] = -joints[:, 0]
    return joints


def _look_at(campos: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    z_axis = _unit(target - campos)
    down = _unit(np.array([0.0, 1.0, 0.0]) + rng.normal(0.0, 0.15, 3))
    if abs(float(down @ z_axis)) > 0.95:
        down = np.array([1.0, 0.0, 0.0])
    x_axis = _unit(np.cross(down, z_axis))
    y_axis = np.cross(z_axis, x_axis)
    return np.stack([x_axis, y_axis, z_axis])


def _random_cameras(
    rng: np.random.Generator,
    capture: int,
    count: int,
    centre: np.ndarray,
    image_size: tuple[int, int] | None,
) -> list[InterHandCamera]:
    cameras = []
    names = rng.choice(np.arange(100, 600), size=count, replace=False)
    for k in range(count):
        if image_size is None:
            size = IMAGE_SIZE if rng.random() < 0.5 else IMAGE_SIZE[::-1]
        else:
            size = (int(image_size[0]), int(image_size[1]))
        direction = _unit(rng.normal(size=3) * np.array([1.0, 0.6, 1.0]) + [0.0, 0.0, -0.8])
        campos = centre + rng.uniform(850.0, 1150.0) * direction
        pixel_scale = max(size) / IMAGE_SIZE[0]
        fx = rng.uniform(1150.0, 1350.0) * pixel_scale
        cameras.append(
            InterHandCamera(
                capture=capture,
                name=str(400000 + int(names[k])),
                campos=campos,
                camrot=_look_at(campos, centre, rng),
                focal=np.array([fx, fx * rng.uniform(0.995, 1.005)]),
                princpt=np.array(size, dtype=np.float64) / 2
                + rng.normal(0.0, 4.0, 2) * pixel_scale,
                image_size=size,
            )
        )
    return cameras


def _random_frame(
    rng: np.random.Generator,
    capture: int,
    frame_idx: int,
    subject: int,
    hand_type: str,
    centre: np.ndarray,
    invalid_joint_rate: float,
    with_mano: bool,
) -> InterHandFrame:
    world = np.zeros((42, 3))
    valid = np.zeros(42, dtype=bool)
    mano: dict[str, ManoParams | None] = {}
    scale = rng.uniform(0.9, 1.1)
    for side, offset in (("right", 45.0), ("left", -45.0)):
        present = hand_type in (side, "interacting")
        if present:
            position = centre + rng.normal(0.0, 15.0, 3)
            if hand_type == "interacting":
                position[0] += offset
        else:  # the other hand, away from the action and not annotated
            position = centre + np.array([offset * 8.0, 250.0, 0.0])
        local = random_hand_joints(rng, side, scale) - [0.0, 60.0, 0.0]  # centre on the palm
        world[HAND_SLICES[side]] = local @ _random_rotation(rng).T + position
        if present:
            valid[HAND_SLICES[side]] = rng.random(21) >= invalid_joint_rate
        mano[side] = (
            ManoParams(
                pose=rng.normal(0.0, 0.3, 48),
                shape=rng.normal(0.0, 1.0, 10),
                trans=world[HAND_SLICES[side]][-1] / 1000.0,
            )
            if present
            else None
        )
    return InterHandFrame(
        capture=capture,
        frame_idx=frame_idx,
        world_coord=world,
        joint_valid=valid,
        hand_type=hand_type,
        hand_type_valid=hand_type_valid_rule(hand_type, valid),
        seq_name=_SEQUENCE_NAMES[hand_type],
        subject=subject,
        mano=mano if with_mano else None,
    )


def draw_fixture_image(
    image: InterHandImage, frame: InterHandFrame, camera: InterHandCamera
) -> np.ndarray:
    """A small stand-in photo: a smooth background with the valid skeleton drawn on it."""
    import cv2

    rng = np.random.default_rng([int(image.image_id), int(image.frame_idx)])
    h, w = int(image.height), int(image.width)
    corners = rng.integers(40, 200, size=(2, 2, 3)).astype(np.uint8)
    canvas = cv2.resize(corners, (w, h), interpolation=cv2.INTER_LINEAR)
    joints_cam = world_to_camera(
        np.asarray(frame.world_coord, np.float64),
        np.asarray(camera.camrot),
        np.asarray(camera.campos),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = project(joints_cam, np.asarray(camera.focal), np.asarray(camera.princpt))
    valid = np.asarray(image.joint_valid, dtype=bool)
    for child, parent in enumerate(INTERHAND42_PARENTS):
        if parent >= 0 and valid[child] and valid[parent]:
            colour = (230, 180, 150) if child < 21 else (150, 180, 230)
            a = tuple(int(round(v)) for v in uv[child])
            b = tuple(int(round(v)) for v in uv[parent])
            cv2.line(canvas, a, b, colour, 3, cv2.LINE_AA)
    return canvas


@dataclass
class InterHandFixture:
    """What :func:`make_fixture_dataset` wrote, for tests to compare against.

    ``paths`` maps each written annotation file by kind (``data``, ``camera``,
    ``joint_3d``, ``MANO_NeuralAnnot``, ``human_annot_ids``); in the per-branch
    layout the keys are ``{branch_dir}/{kind}``, e.g. ``human_annot/data``.
    """

    root: Path
    split: str
    frames: list[InterHandFrame]
    cameras: list[InterHandCamera]
    images: list[InterHandImage]
    human_annot_ids: list[int] | None = None
    paths: dict[str, Path] = field(default_factory=dict)

    def frame(self, capture: int, frame_idx: int) -> InterHandFrame:
        """The frame of ``(capture, frame_idx)``."""
        return next(f for f in self.frames if f.capture == capture and f.frame_idx == frame_idx)

    def camera(self, capture: int, name: str) -> InterHandCamera:
        """The camera ``name`` of ``capture``."""
        return next(c for c in self.cameras if c.capture == capture and c.name == name)


def make_fixture_dataset(
    root: str | os.PathLike[str],
    split: str = "test",
    seed: int = 0,
    *,
    num_captures: int = 2,
    num_cameras: int = 3,
    num_frames: int = 3,
    image_size: tuple[int, int] | None = None,
    hand_types: Sequence[str] = ("right", "left", "interacting"),
    invalid_joint_rate: float = 0.1,
    write_images: bool = True,
    with_mano: bool = True,
    layout: Literal["v1", "per_branch"] = "v1",
    human_fraction: float | None = None,
) -> InterHandFixture:
    """Write a small random but physically sensible InterHand2.6M dataset, real format.

    ``num_captures`` captures, each with ``num_cameras`` cameras on a dome about 1 m
    around the hands (looking at them) and ``num_frames`` frames whose hand types
    cycle through ``hand_types``; single-hand frames carry the other hand away from
    the cameras' focus and unannotated; ``invalid_joint_rate`` of the joints are not
    annotated (wrists included, so the root rule gets exercised). Images are JPEGs
    of ``image_size`` (width, height), by default the real 512x334 or 334x512.
    ``human_fraction`` marks that share of the annotations as human-annotated (H):
    written as ``aid_human_annot_{split}.txt`` (``layout="v1"``) or as the three
    folders ``all``/``human_annot``/``machine_annot`` (``layout="per_branch"``,
    where H and M are disjoint). MANO parameters are random, not fitted to the joints.
    """
    check_split(split)
    if layout not in ("v1", "per_branch"):
        raise ValueError(f"layout must be 'v1' or 'per_branch', got {layout!r}")
    for hand_type in hand_types:
        _check_hand_type(hand_type, "make_fixture_dataset")
    rng = np.random.default_rng(seed)
    root = Path(root)
    frames: list[InterHandFrame] = []
    cameras: list[InterHandCamera] = []
    for capture in range(num_captures):
        centre = np.array([rng.uniform(-80, 80), rng.uniform(-120, 0), rng.uniform(900, 1100)])
        cameras.extend(_random_cameras(rng, capture, num_cameras, centre, image_size))
        first_frame = int(rng.integers(1000, 60000))
        for k in range(num_frames):
            frames.append(
                _random_frame(
                    rng,
                    capture=capture,
                    frame_idx=first_frame + 6 * k,
                    subject=capture // 2,
                    hand_type=hand_types[k % len(hand_types)],
                    centre=centre,
                    invalid_joint_rate=invalid_joint_rate,
                    with_mano=with_mano,
                )
            )
    images = build_image_annotations(frames, cameras, first_id=int(rng.integers(0, 10_000)))
    human_ids: list[int] | None = None
    if human_fraction is not None:
        chosen = rng.random(len(images)) < human_fraction
        human_ids = [im.annot_id for im, h in zip(images, chosen, strict=True) if h]
    paths: dict[str, Path] = {}
    if layout == "v1":
        paths = write_interhand_split(root, split, frames, cameras, images)
        if human_ids is not None:
            paths["human_annot_ids"] = write_human_annot_ids(root, split, human_ids)
    else:
        human = set(human_ids or [])
        branches = {
            "all": images,
            "human_annot": [im for im in images if im.annot_id in human],
            "machine_annot": [im for im in images if im.annot_id not in human],
        }
        for branch_dir, subset in branches.items():
            written = write_interhand_split(
                root, split, frames, cameras, subset, branch_dir=branch_dir
            )
            paths.update({f"{branch_dir}/{kind}": p for kind, p in written.items()})
    if write_images:
        frame_of = {(f.capture, f.frame_idx): f for f in frames}
        camera_of = {(c.capture, c.name): c for c in cameras}
        for im in images:
            picture = draw_fixture_image(
                im, frame_of[(im.capture, im.frame_idx)], camera_of[(im.capture, im.camera)]
            )
            write_image(root / "images" / split / im.file_name, picture, jpeg_quality=80)
    return InterHandFixture(root, split, frames, cameras, images, human_ids, paths)
