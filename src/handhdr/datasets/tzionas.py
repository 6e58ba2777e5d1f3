"""Tzionas et al. "Hands in Action" (IJCV 2016) dataset: 2D joints of two hands.

Layout (as distributed; the HDR authors' demo ships one frame of it)::

    {seq}/1/rgb/{NNN}.png             640x480 RGB frames
    {seq}/1/joints_2D_GT/{NNN}.txt    28 lines "idx x y" (tab-separated), integer pixels

Only some frames are annotated (every 5th one in the public copies), so the label
files drive the sample list; a label file whose image is missing is an error.
A joint at ``0 0`` is not annotated; like public loaders of this data we treat any
coordinate ``<= 0`` as not annotated.

What is verified and what is not (each file has 28 points, two hands of 14):

* verified: the file format (HDR repository, ``demo/Tzionas_dataset-02-1-joints_2D_GT-100.txt``);
  the intrinsics f = 525, c = (319.5, 239.5) used with this data by public
  evaluation code; no wrist is annotated.
* UNVERIFIED, inferred from the geometry of that demo frame and from a public
  14-joint loader whose skeleton links (0-1-2, 3-4-5, 6-7-8, 9-10-11, 12-13) match:
  per hand, four fingers of three points each, from the finger farthest from the
  thumb (pinky) to the index, then two thumb points. The first point of each finger
  triple lies on a straight row across the palm, so we read the triples as MCP,
  PIP, DIP (``finger_1, _2, _3``; no fingertips) and the thumb pair as MCP, IP
  (``thumb_2, thumb_3``).
* UNVERIFIED: which hand comes first. In the demo frame points 0-13 are on the left
  of the image with fingers pointing right, as a subject's right hand appears to a
  camera facing them; we map 0-13 to the right hand and 14-27 to the left.

Every one of these choices lives in :data:`TZIONAS_JOINTS`; fix it there.

There is no 3D ground truth: ``joints_cam`` is NaN, so a 3D metric computed on this
dataset by mistake fails loudly instead of scoring against zeros. ``joints_img`` is
0 and ``joint_valid`` False wherever a joint is not annotated or not mapped.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np

from handhdr.camera import intrinsics_matrix
from handhdr.datasets.interhand_format import DatasetFormatError
from handhdr.datasets.schema import GroundTruthTable, Sample
from handhdr.io import read_image
from handhdr.joints import HAND_SLICES, INTERHAND42_NAMES, NUM_JOINTS

NUM_TZIONAS_JOINTS = 28
IMAGE_SIZE = (640, 480)  # width, height
FOCAL = (525.0, 525.0)
PRINCIPAL_POINT = (319.5, 239.5)


def _hand(prefix: str) -> tuple[str, ...]:
    fingers = tuple(
        f"{prefix}_{f}_{k}" for f in ("pinky", "ring", "middle", "index") for k in (1, 2, 3)
    )
    return fingers + (f"{prefix}_thumb_2", f"{prefix}_thumb_3")


#: Our 42-joint name (``handhdr.joints.INTERHAND42_NAMES``) of each of the 28 Tzionas
#: points, in file order; ``None`` would leave a point unmapped. See the module
#: docstring for what is verified.
TZIONAS_JOINTS: tuple[str | None, ...] = _hand("r") + _hand("l")

_TARGET = np.array([INTERHAND42_NAMES.index(n) if n else -1 for n in TZIONAS_JOINTS], np.int64)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def read_joints_file(path: str | os.PathLike[str]) -> np.ndarray:
    """The 28 points of one label file as ``(28, 2)`` float32 pixels, in index order."""
    p = Path(path)
    try:
        text = p.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetFormatError(f"{p}: cannot read the joint file ({exc})") from exc
    points = np.full((NUM_TZIONAS_JOINTS, 2), np.nan, np.float32)
    seen: dict[int, int] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{p}, line {line_no}"
        if len(fields) != 3:
            raise DatasetFormatError(f"{where}: expected 'idx x y', got {line.strip()!r}")
        if not fields[0].isdigit() or int(fields[0]) >= NUM_TZIONAS_JOINTS:
            raise DatasetFormatError(
                f"{where}: joint index {fields[0]!r} is not an integer in 0..27"
            )
        idx = int(fields[0])
        if idx in seen:
            raise DatasetFormatError(f"{where}: joint {idx} already given on line {seen[idx]}")
        if not (_NUMBER.match(fields[1]) and _NUMBER.match(fields[2])):
            raise DatasetFormatError(f"{where}: x and y must be numbers, got {fields[1:]}")
        x, y = float(fields[1]), float(fields[2])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise DatasetFormatError(f"{where}: x and y must be finite")
        seen[idx] = line_no
        points[idx] = (x, y)
    if len(seen) != NUM_TZIONAS_JOINTS:
        missing = sorted(set(range(NUM_TZIONAS_JOINTS)) - set(seen))
        raise DatasetFormatError(
            f"{p}: expected {NUM_TZIONAS_JOINTS} joints (indices 0..27), got {len(seen)}; "
            f"missing {missing}"
        )
    return points


def to_interhand42(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(28, 2)`` Tzionas points -> ``(42, 2)`` joints and ``(42,)`` validity."""
    joints = np.zeros((NUM_JOINTS, 2), np.float32)
    valid = np.zeros(NUM_JOINTS, bool)
    annotated = (points[:, 0] > 0) & (points[:, 1] > 0)
    keep = (_TARGET >= 0) & annotated
    joints[_TARGET[keep]] = points[keep]
    valid[_TARGET[keep]] = True
    return joints, valid


def _hand_type(valid: np.ndarray) -> tuple[str, bool]:
    right, left = (bool(valid[HAND_SLICES[h]].any()) for h in ("right", "left"))
    if right and left:
        return "interacting", True
    if right or left:
        return ("right" if right else "left"), True
    return "interacting", False


class TzionasDataset:
    """The Tzionas dataset as :class:`Sample` objects (2D joints only).

    ``root`` holds the sequence folders (``01``, ``02``, ...); ``seqs`` picks some
    (default: every folder with ``1/joints_2D_GT``). ``file_name`` is the image's
    POSIX path relative to ``root``, e.g. ``02/1/rgb/100.png``. The label files are
    parsed once, here; images are read in ``__getitem__`` when ``load_images``.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        seqs: list[str] | None = None,
        load_images: bool = True,
    ) -> None:
        self.root = Path(root)
        self.load_images = load_images
        if not self.root.is_dir():
            raise DatasetFormatError(f"{self.root}: no such Tzionas dataset folder")
        if seqs is None:
            seqs = sorted(
                d.name for d in self.root.iterdir() if (d / "1" / "joints_2D_GT").is_dir()
            )
            if not seqs:
                raise DatasetFormatError(
                    f"{self.root}: no sequence folder with 1/joints_2D_GT/ (expected "
                    "{seq}/1/joints_2D_GT/{NNN}.txt and {seq}/1/rgb/{NNN}.png)"
                )
        self.seqs = list(seqs)
        self.file_names: list[str] = []
        joints, valid = [], []
        for seq in self.seqs:
            label_dir = self.root / seq / "1" / "joints_2D_GT"
            if not label_dir.is_dir():
                raise DatasetFormatError(f"{label_dir}: sequence {seq!r} has no label folder")
            for label in self._label_files(label_dir):
                image = self.root / seq / "1" / "rgb" / f"{label.stem}.png"
                if not image.is_file():
                    raise DatasetFormatError(f"{label}: its image {image} does not exist")
                j, v = to_interhand42(read_joints_file(label))
                self.file_names.append(f"{seq}/1/rgb/{label.stem}.png")
                joints.append(j)
                valid.append(v)
        self._joints_img = np.stack(joints) if joints else np.zeros((0, NUM_JOINTS, 2), np.float32)
        self._joint_valid = np.stack(valid) if valid else np.zeros((0, NUM_JOINTS), bool)
        self.intrinsics = intrinsics_matrix(np.array(FOCAL), np.array(PRINCIPAL_POINT))

    @staticmethod
    def _label_files(label_dir: Path) -> list[Path]:
        files = [p for p in label_dir.iterdir() if p.suffix == ".txt"]
        for p in files:
            if not p.stem.isdigit():
                raise DatasetFormatError(f"{p}: label files must be named NNN.txt (frame number)")
        return sorted(files, key=lambda p: int(p.stem))

    def __len__(self) -> int:
        return len(self.file_names)

    def ground_truth(self) -> GroundTruthTable:
        """All labels as arrays, for 2D evaluation; no image is read."""
        n = len(self)
        return GroundTruthTable(
            file_names=list(self.file_names),
            joints_cam=np.full((n, NUM_JOINTS, 3), np.nan, np.float32),
            joints_img=self._joints_img.copy(),
            joint_valid=self._joint_valid.copy(),
            hand_type=np.array([_hand_type(v)[0] for v in self._joint_valid], dtype=str),
            intrinsics=np.repeat(self.intrinsics[None], n, axis=0),
        )

    def __getitem__(self, index: int) -> Sample:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} samples")
        i = int(index) % n
        hand_type, hand_type_valid = _hand_type(self._joint_valid[i])
        sample = Sample(
            file_name=self.file_names[i],
            image_path=self.root / self.file_names[i],
            hand_type=hand_type,
            joints_cam=np.full((NUM_JOINTS, 3), np.nan, np.float32),
            joints_img=self._joints_img[i].copy(),
            joint_valid=self._joint_valid[i].copy(),
            intrinsics=self.intrinsics.copy(),
            hand_type_valid=hand_type_valid,
            frame_idx=int(Path(self.file_names[i]).stem),
            meta={"seq": self.file_names[i].split("/", 1)[0], "has_3d": False},
        )
        if self.load_images:
            sample.image = read_image(sample.image_path)
        return sample
