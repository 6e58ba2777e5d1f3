"""InterHand2.6M v1.0 reader: real annotation files in, :class:`Sample` out.

Layouts (see :mod:`handhdr.datasets.interhand_format` for the file formats):

* v1.0: ``annotations/{split}/InterHand2.6M_{split}_*.json``. Branch ``ALL`` is every
  annotation. ``H`` keeps the annotation ids listed in ``aid_human_annot_{split}.txt``
  (looked for in ``annotations/{split}/``, then ``annotations/``, or passed as
  ``human_annot_ids``), ``M`` keeps the others. The published test counts (H 121,573
  + M 727,587 = ALL 849,160) show H and M are disjoint there, so this reproduces
  them; in train (H 528,482 + M 909,037 > ALL 1,361,062) about 76k frames are in
  both, and with only the H list those count as H, so our train M is smaller.
* older per-branch layout: ``annotations/{all,human_annot,machine_annot}/...``; a
  branch reads its own folder. Used when the v1.0 folder is absent (ALL) or when a
  branch folder exists (H, M).

Validity: ``Sample.joint_valid`` is ``_data.json``'s per-image ``joint_valid``
(annotated *and* inside the image: what the official evaluation uses) AND
``_joint_3d.json``'s per-frame ``joint_valid``; in the real release the first
implies the second, so the AND only guards against inconsistent files. The root
rule (a hand's joints count only when its wrist is valid) is *not* applied here:
:func:`handhdr.datasets.subsets.root_validated` applies it where it matters
(IH26M-Inter, the metrics). Coordinates of joints that ``_joint_3d.json`` marks
invalid carry no meaning; non-finite ones are replaced by 0 so arrays stay finite.

Memory: each JSON file is parsed once with an ``object_hook`` that turns every
record into a compact tuple/array as soon as it is decoded, so the nested lists of
the raw JSON never exist all at once; afterwards only numpy arrays (and the list of
file names) are kept. Joints in camera coordinates are computed on demand.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from handhdr.camera import intrinsics_matrix, project, world_to_camera
from handhdr.datasets.interhand_format import (
    BRANCH_DIRS,
    MANO_SIZES,
    DatasetFormatError,
    annotation_file,
    check_split,
)
from handhdr.datasets.masks import hdr_gt_path, mask_path, read_masks
from handhdr.datasets.schema import HAND_TYPES, GroundTruthTable, Sample
from handhdr.datasets.subsets import SUBSETS, subset_mask
from handhdr.io import ImageReadError, read_image
from handhdr.joints import NUM_JOINTS

__all__ = ["BRANCHES", "DatasetFormatError", "InterHandDataset", "resolve_annotations"]

log = logging.getLogger(__name__)

BRANCHES: tuple[str, str, str] = ("ALL", "H", "M")
_CHUNK = 8192  # rows per vectorised step in ground_truth(): bounds the float64 temporaries
_MANO_LENGTH = sum(MANO_SIZES.values())


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class AnnotationFiles:
    """Which files define one split and branch."""

    data: Path
    camera: Path
    joint_3d: Path
    mano: Path | None  # None when the optional MANO file is absent
    human_annot_ids: Path | None  # v1.0 H/M: the list of H annotation ids
    keep_human: bool | None  # True: keep listed ids (H); False: drop them (M); None: all


def _find_human_ids(root: Path, split: str, given: Path | None) -> Path | None:
    if given is not None:
        if not Path(given).is_file():
            raise DatasetFormatError(f"{given}: human-annotation id list not found")
        return Path(given)
    name = f"aid_human_annot_{split}.txt"
    for candidate in (root / "annotations" / split / name, root / "annotations" / name):
        if candidate.is_file():
            return candidate
    return None


def resolve_annotations(
    root: str | os.PathLike[str],
    split: str,
    branch: str = "ALL",
    human_annot_ids: str | os.PathLike[str] | None = None,
) -> AnnotationFiles:
    """Find the annotation files of ``split`` and ``branch`` in either layout."""
    root = Path(root)
    check_split(split)
    branch = branch.upper()
    if branch not in BRANCHES:
        raise ValueError(f"unknown branch {branch!r}; expected one of {BRANCHES}")

    def files(branch_dir: str | None, ids: Path | None, keep: bool | None) -> AnnotationFiles:
        mano = annotation_file(root, split, "MANO_NeuralAnnot", branch_dir)
        return AnnotationFiles(
            data=annotation_file(root, split, "data", branch_dir),
            camera=annotation_file(root, split, "camera", branch_dir),
            joint_3d=annotation_file(root, split, "joint_3d", branch_dir),
            mano=mano if mano.is_file() else None,
            human_annot_ids=ids,
            keep_human=keep,
        )

    v1_data = annotation_file(root, split, "data")
    branch_data = annotation_file(root, split, "data", BRANCH_DIRS[branch])
    if branch == "ALL":
        if v1_data.is_file():
            return files(None, None, None)
        if branch_data.is_file():
            return files(BRANCH_DIRS["ALL"], None, None)
        raise DatasetFormatError(
            f"{v1_data}: file not found (nor {branch_data} of the older per-branch layout); "
            f"is {root} an InterHand2.6M root with annotations/ and images/?"
        )
    if branch_data.is_file():
        return files(BRANCH_DIRS[branch], None, None)
    ids = _find_human_ids(root, split, Path(human_annot_ids) if human_annot_ids else None)
    if v1_data.is_file() and ids is not None:
        return files(None, ids, branch == "H")
    raise DatasetFormatError(
        f"branch {branch} of split {split!r} is not defined under {root}: expected either "
        f"{branch_data} (per-branch layout) or {v1_data} together with "
        f"aid_human_annot_{split}.txt in {v1_data.parent} or {root / 'annotations'} (v1.0)"
    )


# --------------------------------------------------------------------------- parsing


class _Bad(NamedTuple):
    """A record the object hook could not convert; reported with its keys later."""

    reason: str


class _ImageEntry(NamedTuple):
    id: int
    file_name: str
    width: int
    height: int
    capture: int
    subject: int
    seq_name: str
    camera: str
    frame_idx: int


class _AnnotationEntry(NamedTuple):
    id: int
    image_id: int
    bbox: tuple[float, float, float, float]
    joint_valid: bytes  # 42 bytes of 0/1
    hand_type: int  # index into HAND_TYPES
    hand_type_valid: bool


class _FrameEntry(NamedTuple):
    world: np.ndarray  # (42, 3) float32
    valid: bytes


def _is_int(value: Any) -> bool:
    return type(value) is int


def _validity_bytes(value: Any) -> bytes | str:
    """42 nested ``[v]`` (or flat) 0/1/bool values -> 42 bytes, or a reason string."""
    if not isinstance(value, list) or len(value) != NUM_JOINTS:
        got = f"{len(value)} entries" if isinstance(value, list) else type(value).__name__
        return f"'joint_valid' must be a list of {NUM_JOINTS} [0/1] entries, got {got}"
    try:
        flat = [v for (v,) in value]  # the released form: one-element lists
    except (TypeError, ValueError):
        flat = value  # a flat list, or something malformed that the check below finds
    try:
        zero_one = set(flat) <= {0, 1}  # True/False and 0.0/1.0 compare equal to 0/1
    except TypeError:  # unhashable entries such as [1, 0]
        zero_one = False
    if not zero_one:
        bad = next(v for v in flat if type(v) not in (int, bool, float) or v not in (0, 1))
        return f"'joint_valid' entries must be 0/1 (or [0]/[1]), got {bad!r}"
    try:
        return bytes(flat)
    except TypeError:  # floats
        return bytes(1 if v else 0 for v in flat)


def _load_json(path: Path, hook: Callable[[dict], Any] | None = None) -> Any:
    if not path.is_file():
        raise DatasetFormatError(f"{path}: file not found")
    try:
        with path.open("r", encoding="utf-8") as handle:
            return json.load(handle, object_hook=hook)
    except json.JSONDecodeError as exc:
        raise DatasetFormatError(
            f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except UnicodeDecodeError as exc:
        raise DatasetFormatError(f"{path}: not UTF-8 text ({exc.reason})") from None


def _data_hook(path: Path) -> Callable[[dict], Any]:
    strings: dict[str, str] = {}  # one copy of each repeated string (seq_name, camera)

    def image(obj: dict) -> _ImageEntry:
        where = f"{path}: images[] entry id={obj.get('id')!r}"
        for key in ("id", "width", "height", "capture", "subject", "frame_idx"):
            if not _is_int(obj.get(key)):
                raise DatasetFormatError(
                    f"{where}: {key!r} must be an integer, got {obj.get(key)!r}"
                )
        for key in ("file_name", "seq_name"):
            if not isinstance(obj.get(key), str):
                raise DatasetFormatError(f"{where}: {key!r} must be a string, got {obj.get(key)!r}")
        camera = obj.get("camera")
        if not isinstance(camera, str | int) or isinstance(camera, bool):
            raise DatasetFormatError(f"{where}: 'camera' must be a string, got {camera!r}")
        camera = str(camera)
        return _ImageEntry(
            obj["id"],
            obj["file_name"],
            obj["width"],
            obj["height"],
            obj["capture"],
            obj["subject"],
            strings.setdefault(obj["seq_name"], obj["seq_name"]),
            strings.setdefault(camera, camera),
            obj["frame_idx"],
        )

    def annotation(obj: dict) -> _AnnotationEntry:
        where = f"{path}: annotations[] entry id={obj.get('id')!r}"
        for key in ("id", "image_id"):
            if not _is_int(obj.get(key)):
                raise DatasetFormatError(
                    f"{where}: {key!r} must be an integer, got {obj.get(key)!r}"
                )
        bbox = obj.get("bbox")
        if (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(type(v) in (int, float) and math.isfinite(v) for v in bbox)
        ):
            raise DatasetFormatError(
                f"{where}: 'bbox' must be 4 finite numbers [x, y, w, h], got {bbox!r}"
            )
        valid = _validity_bytes(obj.get("joint_valid"))
        if isinstance(valid, str):
            raise DatasetFormatError(f"{where}: {valid}")
        hand_type = obj.get("hand_type")
        if hand_type not in HAND_TYPES:
            raise DatasetFormatError(
                f"{where}: 'hand_type' must be one of {HAND_TYPES}, got {hand_type!r}"
            )
        htv = obj.get("hand_type_valid")
        if type(htv) not in (int, bool, float) or htv not in (0, 1):
            raise DatasetFormatError(f"{where}: 'hand_type_valid' must be 0 or 1, got {htv!r}")
        return _AnnotationEntry(
            obj["id"], obj["image_id"], tuple(float(v) for v in bbox), valid,
            HAND_TYPES.index(hand_type), bool(htv),
        )  # fmt: skip

    def hook(obj: dict) -> Any:
        if "file_name" in obj:
            return image(obj)
        if "image_id" in obj:
            return annotation(obj)
        return obj

    return hook


def _frame_hook(obj: dict) -> Any:
    if "world_coord" not in obj:
        return obj
    try:
        world = np.array(obj["world_coord"], dtype=np.float64)
    except (ValueError, TypeError):
        return _Bad("'world_coord' must be a 42x3 list of numbers")
    if world.shape != (NUM_JOINTS, 3):
        return _Bad(f"'world_coord' must be {NUM_JOINTS}x3, got shape {world.shape}")
    valid = _validity_bytes(obj.get("joint_valid"))
    if isinstance(valid, str):
        return _Bad(valid)
    return _FrameEntry(world.astype(np.float32), valid)


def _mano_hook(obj: dict) -> Any:
    if "pose" not in obj:
        return obj
    parts = []
    for name, size in MANO_SIZES.items():
        try:
            values = np.array(obj.get(name), dtype=np.float64)
        except (ValueError, TypeError):
            return _Bad(f"{name!r} must be {size} numbers")
        if values.shape != (size,):
            return _Bad(f"{name!r} must be {size} numbers, got shape {values.shape}")
        if not np.isfinite(values).all():
            return _Bad(f"{name!r} has non-finite values")
        parts.append(values)
    return np.concatenate(parts).astype(np.float32)


def _int_key(key: str, path: Path, what: str) -> int:
    if not key.isdigit():
        raise DatasetFormatError(f"{path}: {what} key {key!r} is not a non-negative integer")
    return int(key)


def _frame_key(capture: np.ndarray | int, frame_idx: np.ndarray | int) -> np.ndarray:
    return (np.asarray(capture, dtype=np.int64) << 32) | np.asarray(frame_idx, dtype=np.int64)


def _walk_captures(obj: Any, path: Path) -> list[tuple[int, int, Any]]:
    """``{capture: {frame: value}}`` -> [(capture, frame_idx, value)]."""
    if not isinstance(obj, dict):
        raise DatasetFormatError(f"{path}: expected an object keyed by capture id")
    rows = []
    for cap_key, frames in obj.items():
        capture = _int_key(cap_key, path, "capture")
        if not isinstance(frames, dict):
            raise DatasetFormatError(
                f"{path}: capture {cap_key!r}: expected an object keyed by frame"
            )
        for frame_key, value in frames.items():
            rows.append((capture, _int_key(frame_key, path, f"capture {cap_key!r} frame"), value))
    return rows


class _FrameTable(NamedTuple):
    keys: np.ndarray  # (F,) int64 sorted
    world: np.ndarray  # (F, 42, 3) float32
    valid: np.ndarray  # (F, 42) bool


def _read_joint_3d(path: Path) -> _FrameTable:
    rows = _walk_captures(_load_json(path, _frame_hook), path)
    for capture, frame, value in rows:
        where = f"{path}: capture '{capture}' frame '{frame}'"
        if isinstance(value, _Bad):
            raise DatasetFormatError(f"{where}: {value.reason}")
        if not isinstance(value, _FrameEntry):
            raise DatasetFormatError(
                f"{where}: expected an object with 'world_coord' and 'joint_valid'"
            )
    keys = _frame_key([r[0] for r in rows], [r[1] for r in rows])
    order = np.argsort(keys, kind="stable")
    world = (
        np.stack([rows[i][2].world for i in order]) if rows else np.zeros((0, 42, 3), np.float32)
    )
    valid = np.frombuffer(b"".join(rows[i][2].valid for i in order), np.uint8).reshape(-1, 42)
    del rows
    valid = valid.astype(bool)
    bad = ~np.isfinite(world).all(axis=-1)
    if (bad & valid).any():
        f, j = np.argwhere(bad & valid)[0]
        key = int(keys[order][f])
        raise DatasetFormatError(
            f"{path}: capture '{key >> 32}' frame '{key & 0xFFFFFFFF}': world_coord of joint {j} "
            "is not finite but joint_valid marks it valid"
        )
    world[bad] = 0.0
    return _FrameTable(keys[order], world, valid)


class _CameraTable(NamedTuple):
    rotation: np.ndarray  # (C, 3, 3) float64
    campos: np.ndarray  # (C, 3)
    focal: np.ndarray  # (C, 2)
    princpt: np.ndarray  # (C, 2)
    intrinsics: np.ndarray  # (C, 3, 3) float32


_CAMERA_FIELDS = {"campos": (3,), "camrot": (3, 3), "focal": (2,), "princpt": (2,)}


def _read_cameras(path: Path, wanted: list[tuple[int, str]]) -> _CameraTable:
    """The parameters of the ``wanted`` (capture, camera) pairs, in that order."""
    raw = _load_json(path)
    if not isinstance(raw, dict):
        raise DatasetFormatError(f"{path}: expected an object keyed by capture id")
    values: dict[str, list[np.ndarray]] = {name: [] for name in _CAMERA_FIELDS}
    for capture, camera in wanted:
        entry = raw.get(str(capture))
        if not isinstance(entry, dict):
            raise DatasetFormatError(
                f"{path}: no capture '{capture}' (an image of it needs its cameras)"
            )
        for name, shape in _CAMERA_FIELDS.items():
            table = entry.get(name)
            if not isinstance(table, dict):
                raise DatasetFormatError(f"{path}: capture '{capture}': no {name!r} object")
            if camera not in table:
                raise DatasetFormatError(
                    f"{path}: capture '{capture}' has no {name!r} entry for camera '{camera}'"
                )
            try:
                value = np.array(table[camera], dtype=np.float64)
            except (ValueError, TypeError):
                value = np.zeros(0)
            if value.shape != shape or not np.isfinite(value).all():
                raise DatasetFormatError(
                    f"{path}: capture '{capture}' {name!r} of camera '{camera}' must be "
                    f"{'x'.join(map(str, shape))} finite numbers, got {table[camera]!r}"
                )
            values[name].append(value)
    del raw
    count = len(wanted)
    rotation = np.array(values["camrot"]).reshape(count, 3, 3)
    campos = np.array(values["campos"]).reshape(count, 3)
    focal = np.array(values["focal"]).reshape(count, 2)
    princpt = np.array(values["princpt"]).reshape(count, 2)
    intrinsics = np.array(
        [intrinsics_matrix(f, c) for f, c in zip(focal, princpt, strict=True)], np.float32
    ).reshape(count, 3, 3)
    return _CameraTable(rotation, campos, focal, princpt, intrinsics)


class _ManoTable(NamedTuple):
    keys: np.ndarray  # (M,) int64 sorted
    params: np.ndarray  # (M, 2, 61) float32: right, left; pose 48 | shape 10 | trans 3
    present: np.ndarray  # (M, 2) bool


def _read_mano(path: Path) -> _ManoTable:
    rows = _walk_captures(_load_json(path, _mano_hook), path)
    params = np.zeros((len(rows), 2, _MANO_LENGTH), np.float32)
    present = np.zeros((len(rows), 2), bool)
    for i, (capture, frame, value) in enumerate(rows):
        where = f"{path}: capture '{capture}' frame '{frame}'"
        if not isinstance(value, dict):
            raise DatasetFormatError(f"{where}: expected an object with 'right' and 'left'")
        for h, hand in enumerate(("right", "left")):
            entry = value.get(hand)
            if isinstance(entry, _Bad):
                raise DatasetFormatError(f"{where} {hand}: {entry.reason}")
            if entry is None:
                continue
            if not isinstance(entry, np.ndarray):
                raise DatasetFormatError(
                    f"{where}: {hand!r} must be null or {{pose, shape, trans}}"
                )
            params[i, h] = entry
            present[i, h] = True
    keys = _frame_key([r[0] for r in rows], [r[1] for r in rows])
    order = np.argsort(keys, kind="stable")
    return _ManoTable(keys[order], params[order], present[order])


def _read_id_list(path: Path) -> np.ndarray:
    ids = []
    with path.open("r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text:
                continue
            if not text.lstrip("-").isdigit():
                raise DatasetFormatError(
                    f"{path}: line {number}: expected an annotation id, got {text!r}"
                )
            ids.append(int(text))
    return np.unique(np.array(ids, dtype=np.int64))


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``keys`` in ``sorted_keys`` and whether each was found."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), np.int64), np.zeros(len(keys), bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return pos, sorted_keys[pos] == keys


# --------------------------------------------------------------------------- dataset


class InterHandDataset:
    """InterHand2.6M v1.0 (or the older per-branch layout) as :class:`Sample` objects.

    ``split``: ``train``, ``val`` or ``test``. ``branch``: ``ALL``, ``H`` or ``M``.
    ``subset``: ``ALL``, ``SH``, ``IH`` or ``Inter`` (:mod:`handhdr.datasets.subsets`).
    ``load_images``/``load_masks``/``load_hdr_gt`` choose what ``__getitem__`` reads
    from disk; masks and hdr_gt are optional files (absent: ``None``/``{}``).
    Rows follow the order of ``images[]`` in ``_data.json``.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "test",
        branch: str = "ALL",
        subset: str = "ALL",
        load_images: bool = True,
        load_masks: bool = True,
        load_hdr_gt: bool = True,
        human_annot_ids: str | os.PathLike[str] | None = None,
    ) -> None:
        if subset not in SUBSETS:
            raise ValueError(f"unknown subset {subset!r}; expected one of {SUBSETS}")
        self.root = Path(root)
        self.split = check_split(split)
        self.branch = branch.upper()
        self.subset = subset
        self.load_images = load_images
        self.load_masks = load_masks
        self.load_hdr_gt = load_hdr_gt
        self.files = resolve_annotations(self.root, split, branch, human_annot_ids)
        self._load()

    # ----------------------------------------------------------------- loading

    def _load(self) -> None:
        files = self.files
        raw = _load_json(files.data, _data_hook(files.data))
        images, annotations = self._entries(raw, files.data)
        del raw
        n = len(images)
        image_ids = np.fromiter((e.id for e in images), np.int64, n)
        self.file_names: list[str] = [e.file_name for e in images]
        self._width = np.fromiter((e.width for e in images), np.int32, n)
        self._height = np.fromiter((e.height for e in images), np.int32, n)
        self._capture = np.fromiter((e.capture for e in images), np.int64, n)
        self._subject = np.fromiter((e.subject for e in images), np.int32, n)
        self._frame_idx = np.fromiter((e.frame_idx for e in images), np.int64, n)
        self._seq_names, seq_code = self._categories([e.seq_name for e in images])
        self._seq_code = seq_code
        cameras, cam_row = self._categories([(e.capture, e.camera) for e in images])
        self._camera_names = [c[1] for c in cameras]
        self._cam_row = cam_row
        del images

        ann_row = self._join_annotations(image_ids, annotations, files.data)
        m = len(annotations)
        order = np.empty(m, np.int64)
        order[ann_row] = np.arange(m)  # annotation index of each image row
        self._image_id = image_ids
        self._annot_id = np.fromiter((annotations[i].id for i in order), np.int64, m)
        self._bbox = np.array([annotations[i].bbox for i in order], np.float32).reshape(m, 4)
        valid = np.frombuffer(b"".join(annotations[i].joint_valid for i in order), np.uint8)
        valid_2d = valid.reshape(m, NUM_JOINTS).astype(bool)
        self._hand_type = np.fromiter((annotations[i].hand_type for i in order), np.uint8, m)
        self._hand_type_valid = np.fromiter(
            (annotations[i].hand_type_valid for i in order), bool, m
        )
        del annotations, order

        self._cameras = _read_cameras(files.camera, cameras)
        frames = _read_joint_3d(files.joint_3d)
        frame_row, found = _lookup(frames.keys, _frame_key(self._capture, self._frame_idx))
        if not found.all():
            i = int(np.flatnonzero(~found)[0])
            raise DatasetFormatError(
                f"{files.joint_3d}: no entry for capture '{self._capture[i]}' frame "
                f"'{self._frame_idx[i]}' (needed by image id {image_ids[i]}, {self.file_names[i]})"
            )
        self._world = frames.world
        self._frame_row = frame_row
        self._joint_valid = valid_2d & frames.valid[frame_row]
        del frames

        keep = self._branch_rows(files) & subset_mask(
            self.subset, self.hand_types, self._joint_valid
        )
        if not keep.all():
            self._select(keep)
        self._mano = _read_mano(files.mano) if files.mano is not None else None

    @staticmethod
    def _entries(raw: Any, path: Path) -> tuple[list[_ImageEntry], list[_AnnotationEntry]]:
        if not isinstance(raw, dict):
            raise DatasetFormatError(
                f"{path}: expected a COCO object with 'images' and 'annotations'"
            )
        out = []
        for key, kind in (("images", _ImageEntry), ("annotations", _AnnotationEntry)):
            entries = raw.get(key)
            if not isinstance(entries, list):
                raise DatasetFormatError(
                    f"{path}: {key!r} must be a list, got {type(entries).__name__}"
                )
            for index, entry in enumerate(entries):
                if not isinstance(entry, kind):
                    need = "'file_name'" if kind is _ImageEntry else "'image_id'"
                    raise DatasetFormatError(
                        f"{path}: {key}[{index}] is not an {key[:-1]} object with {need}"
                    )
            out.append(entries)
        return out[0], out[1]

    @staticmethod
    def _categories(values: list) -> tuple[list, np.ndarray]:
        table: dict = {}
        codes = np.fromiter(
            (table.setdefault(v, len(table)) for v in values), np.int32, len(values)
        )
        return list(table), codes

    @staticmethod
    def _join_annotations(
        image_ids: np.ndarray, annotations: list[_AnnotationEntry], path: Path
    ) -> np.ndarray:
        """Image row of each annotation; exactly one annotation per image."""
        order = np.argsort(image_ids, kind="stable")
        sorted_ids = image_ids[order]
        repeated = sorted_ids[1:] == sorted_ids[:-1]
        if repeated.any():
            raise DatasetFormatError(
                f"{path}: image id {sorted_ids[1:][repeated][0]} appears twice in images[]"
            )
        wanted = np.fromiter((a.image_id for a in annotations), np.int64, len(annotations))
        pos, found = _lookup(sorted_ids, wanted)
        if not found.all():
            a = annotations[int(np.flatnonzero(~found)[0])]
            raise DatasetFormatError(
                f"{path}: annotation id {a.id} refers to image_id {a.image_id}, "
                "which no images[] entry has"
            )
        rows = order[pos]
        counts = np.bincount(rows, minlength=len(image_ids))
        if (counts != 1).any():
            i = int(np.flatnonzero(counts != 1)[0])
            problem = "has no annotation" if counts[i] == 0 else f"has {counts[i]} annotations"
            raise DatasetFormatError(
                f"{path}: image id {image_ids[i]} {problem} "
                "(InterHand2.6M has exactly one per image)"
            )
        return rows

    def _branch_rows(self, files: AnnotationFiles) -> np.ndarray:
        everything = np.ones(len(self._annot_id), bool)
        if files.human_annot_ids is None:
            return everything
        human = _read_id_list(files.human_annot_ids)
        listed = np.isin(self._annot_id, human)
        if not listed.any():
            raise DatasetFormatError(
                f"{files.human_annot_ids}: none of its {len(human)} annotation ids is in "
                f"{files.data} (a list for another split or frame rate?)"
            )
        unknown = len(human) - int(np.isin(human, self._annot_id).sum())
        if unknown:
            log.warning(
                "%s: %d listed ids are not in %s", files.human_annot_ids, unknown, files.data
            )
        return listed if files.keep_human else ~listed

    def _select(self, keep: np.ndarray) -> None:
        for name in (
            "_width", "_height", "_capture", "_subject", "_frame_idx", "_seq_code", "_cam_row",
            "_image_id", "_annot_id", "_bbox", "_hand_type", "_hand_type_valid",
            "_frame_row", "_joint_valid",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name)[keep])
        self.file_names = [name for name, k in zip(self.file_names, keep, strict=True) if k]

    # ----------------------------------------------------------------- arrays

    def __len__(self) -> int:
        return len(self.file_names)

    @property
    def hand_types(self) -> np.ndarray:
        """``(N,)`` str: ``right``, ``left`` or ``interacting`` per row."""
        return np.array(HAND_TYPES)[self._hand_type]

    @property
    def image_ids(self) -> np.ndarray:
        """``(N,)`` int64 image ids."""
        return self._image_id

    @property
    def annot_ids(self) -> np.ndarray:
        """``(N,)`` int64 annotation ids."""
        return self._annot_id

    @property
    def hand_type_valid(self) -> np.ndarray:
        """``(N,)`` bool ``hand_type_valid`` of each row."""
        return self._hand_type_valid

    @property
    def joint_valid(self) -> np.ndarray:
        """``(N, 42)`` bool validity (see the module docstring)."""
        return self._joint_valid

    @property
    def bboxes(self) -> np.ndarray:
        """``(N, 4)`` float32 annotation boxes ``[x, y, w, h]``."""
        return self._bbox

    @property
    def captures(self) -> np.ndarray:
        """``(N,)`` int64 capture id of each row."""
        return self._capture

    @property
    def frame_indices(self) -> np.ndarray:
        """``(N,)`` int64 ``frame_idx`` of each row."""
        return self._frame_idx

    @property
    def image_sizes(self) -> np.ndarray:
        """``(N, 2)`` int32 ``(width, height)`` of each row's image."""
        return np.stack([self._width, self._height], axis=1)

    def camera_parameters(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World-to-camera rotation ``(n, 3, 3)``, camera position ``(n, 3)`` mm (both
        float64; ``X_cam = R (X_world - campos)``) and intrinsics ``(n, 3, 3)`` of ``rows``."""
        cams = self._cam_row[np.asarray(rows, dtype=np.int64)]
        table = self._cameras
        return table.rotation[cams], table.campos[cams], table.intrinsics[cams]

    def index_of(self, file_name: str) -> int:
        """Row of ``file_name`` (relative to ``images/{split}/``)."""
        try:
            return self.file_names.index(file_name)
        except ValueError:
            raise KeyError(
                f"{file_name!r} is not in {self.split} ({self.branch}, {self.subset})"
            ) from None

    def camera_joints(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Joints of ``rows`` in camera coordinates ``(n, 42, 3)`` mm and their
        projections ``(n, 42, 2)`` px, both float32 (computed in float64)."""
        rows = np.asarray(rows, dtype=np.int64)
        cams = self._cam_row[rows]
        world = self._world[self._frame_row[rows]].astype(np.float64)
        joints_cam = world_to_camera(
            world, self._cameras.rotation[cams], self._cameras.campos[cams]
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            joints_img = project(joints_cam, self._cameras.focal[cams], self._cameras.princpt[cams])
        return joints_cam.astype(np.float32), joints_img.astype(np.float32)

    def ground_truth(self) -> GroundTruthTable:
        """Every row's annotations as arrays, for evaluation; no image is read."""
        n = len(self)
        joints_cam = np.empty((n, NUM_JOINTS, 3), np.float32)
        joints_img = np.empty((n, NUM_JOINTS, 2), np.float32)
        for start in range(0, n, _CHUNK):
            rows = np.arange(start, min(start + _CHUNK, n))
            joints_cam[rows], joints_img[rows] = self.camera_joints(rows)
        return GroundTruthTable(
            file_names=list(self.file_names),
            joints_cam=joints_cam,
            joints_img=joints_img,
            joint_valid=self._joint_valid.copy(),
            hand_type=self.hand_types,
            intrinsics=self._cameras.intrinsics[self._cam_row],
        )

    # ----------------------------------------------------------------- samples

    def mano(self, index: int) -> dict[str, dict[str, np.ndarray] | None] | None:
        """NeuralAnnot MANO parameters of a row per hand (None: no fit); None when the
        split has no MANO file. Frames missing from the file get None for both hands."""
        if self._mano is None:
            return None
        i = self._row(index)
        out: dict[str, dict[str, np.ndarray] | None] = {"right": None, "left": None}
        pos, found = _lookup(
            self._mano.keys, _frame_key(self._capture[i], self._frame_idx[i])[None]
        )
        if not found[0]:
            return out
        for h, hand in enumerate(("right", "left")):
            if self._mano.present[pos[0], h]:
                flat = self._mano.params[pos[0], h]
                bounds = np.cumsum([0, *MANO_SIZES.values()])
                out[hand] = {
                    name: flat[bounds[k] : bounds[k + 1]].copy()
                    for k, name in enumerate(MANO_SIZES)
                }
        return out

    def _row(self, index: int) -> int:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} samples")
        return int(index) % n

    def image_path(self, index: int) -> Path:
        """Absolute path of a row's image."""
        return self.root / "images" / self.split / self.file_names[self._row(index)]

    def __getitem__(self, index: int) -> Sample:
        i = self._row(index)
        file_name = self.file_names[i]
        size = (int(self._height[i]), int(self._width[i]))
        joints_cam, joints_img = self.camera_joints(np.array([i]))
        sample = Sample(
            file_name=file_name,
            image_path=self.image_path(i),
            hand_type=HAND_TYPES[self._hand_type[i]],
            joints_cam=joints_cam[0],
            joints_img=joints_img[0],
            joint_valid=self._joint_valid[i].copy(),
            intrinsics=self._cameras.intrinsics[self._cam_row[i]].copy(),
            hand_type_valid=bool(self._hand_type_valid[i]),
            bbox=self._bbox[i].copy(),
            image_id=int(self._image_id[i]),
            capture=int(self._capture[i]),
            camera=self._camera_names[self._cam_row[i]],
            frame_idx=int(self._frame_idx[i]),
            meta={
                "annot_id": int(self._annot_id[i]),
                "seq_name": self._seq_names[self._seq_code[i]],
                "subject": int(self._subject[i]),
                "width": size[1],
                "height": size[0],
            },
        )
        mano = self.mano(i)
        if mano is not None:
            sample.meta["mano"] = mano
        if self.load_images:
            sample.image = read_image(sample.image_path)
            if sample.image.shape[:2] != size:
                raise DatasetFormatError(
                    f"{sample.image_path}: image is "
                    f"{sample.image.shape[1]}x{sample.image.shape[0]}, but {self.files.data} "
                    f"says {size[1]}x{size[0]} (image id {sample.image_id})"
                )
        if self.load_masks:
            path = mask_path(self.root, self.split, file_name)
            if path.is_file():
                try:
                    sample.masks = read_masks(path, shape=size)
                except ValueError as exc:
                    raise DatasetFormatError(str(exc)) from exc
        if self.load_hdr_gt:
            for hand in ("right", "left"):
                path = hdr_gt_path(self.root, self.split, file_name, hand)
                if not path.is_file():
                    continue
                try:
                    picture = read_image(path)
                except ImageReadError as exc:
                    raise DatasetFormatError(str(exc)) from exc
                if picture.shape[:2] != size:
                    raise DatasetFormatError(
                        f"{path}: ground truth is {picture.shape[1]}x{picture.shape[0]}, "
                        f"the image is {size[1]}x{size[0]}"
                    )
                sample.hdr_gt[hand] = picture
        return sample
