"""Readers for the published AIH (Amodal InterHand) dataset of the HDR authors.

Both readers return :class:`~handhdr.datasets.schema.Sample` objects with an image,
the four masks and the de-occlusion/removal ground truth of the *target* hand. AIH
has no joint annotations in these layouts: ``joint_valid`` is all False,
``joints_img`` 0, ``joints_cam`` NaN and ``intrinsics`` NaN (no camera is known).

Facts below come from the authors' repository (``MengHao666/HDR``: ``README.md``,
``explore_AIH.py``, ``utils/data_utils.py``); what those files do not settle is
marked UNVERIFIED, and every layout detail lives in the constants of this module.

**AIH_Syn** (root = the ``AIH_syn`` folder). Single-hand crops cut from
InterHand2.6M single-hand frames, composed on the fly::

    filtered_list/{annot}_{phase}_sh_{right|left}_filtered.txt   crop ids, one per line
    {annot}/{phase}/images/{r_images|l_images}/{id}.jpg           256x256 crops
    {annot}/{phase}/labels/in_r_images/r_amodal/{id}.png          amodal mask, 0/1
    {annot}/{phase}/labels/in_l_images/l_amodal/{id}.png
    syn_cfgs/all_{annot}_{phase}_syn_cfgs.npy                     list of dicts (pickled)

Each composition dict has ``loop_side`` (the target's side), ``loop_side_idx`` and
``another_side_idx`` (positions in the two filtered lists), ``r_aug_list`` and
``l_aug_list`` (``[[tx, ty], scale, rotation_degrees, colour]``; the 4-element form
is UNVERIFIED, inferred from how the reference unpacks them) and
``occlusion_rate``. The reference composes in a frame where the target is a right
hand: a left target and its right distractor are both mirrored first. Each crop is
then warped by its parameters (box ``[255 tx, 255 ty, 255, 255]``, centre + 127.5,
size x scale, rotated, to 256x256, bilinear, black outside), the target ("r") and
the distractor ("l") are composed with the distractor on top,
``I = I_d * M_da + I_t * (1 - M_da)``, and the ground truth is the warped target
image. We do exactly this, then mirror a left target's result back, so that the
sample's sides are the hands' true sides. Visible masks follow from the paste
order: target visible = ``M_ta * (1 - M_da)``, distractor visible = ``M_da``. The
colour factor of the lists is not applied: the reference replaces it by a random
jitter when training and by 1 otherwise, and jitter belongs to training augmentation.

**AIH_Render** (root = the ``AIH_render`` folder). Rendered two-hand images::

    {annot}/{phase}/images/{r_images|l_images}/IH/{name}.jpg      the image
    {annot}/{phase}/images/{r_images|l_images}/DR_gt/{name}.jpg   target hand alone
    {annot}/{phase}/labels/in_r_images/{r_amodal,rl_visible}/{stem}.png
    {annot}/{phase}/labels/in_l_images/{l_amodal,rl_visible}/{stem}.png

``r_images`` have the right hand as target, ``l_images`` the left (the reference
mirrors those to train on right hands only; we keep them as they are).
``rl_visible`` is 0 background, 1 right visible, 2 left visible. Only the target's
amodal mask is published: the distractor's amodal mask is set to its visible mask
(true outside the target, where it matters for removal) and named in
``meta["unknown_masks"]`` so that training can ignore it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from handhdr.datasets.interhand_format import DatasetFormatError
from handhdr.datasets.schema import MASK_NAMES, Sample
from handhdr.io import read_image
from handhdr.io.restricted_pickle import NUMPY_GLOBALS, load_npy_objects
from handhdr.joints import NUM_JOINTS

HANDS = ("right", "left")
SIDE_LETTER = {"right": "r", "left": "l"}
ANNOTS = ("machine_annot", "human_annot")

# --- AIH_Syn layout (explore_AIH.py) ------------------------------------------------
SYN_SIZE = 256  # crops and composed samples are 256x256 (the reference warps to 256)
SYN_BOX = 255.0  # the reference's crop box is [0, 0, 255, 255] whatever the crop size
SYN_INDEX_FILE = "filtered_list/{annot}_{phase}_sh_{side}_filtered.txt"
SYN_CFG_FILE = "syn_cfgs/all_{annot}_{phase}_syn_cfgs.npy"
SYN_IMAGE = "{annot}/{phase}/images/{s}_images/{id}.jpg"
SYN_AMODAL = "{annot}/{phase}/labels/in_{s}_images/{s}_amodal/{id}.png"
SYN_CFG_KEYS = (
    "loop_side",
    "loop_side_idx",
    "another_side_idx",
    "r_aug_list",
    "l_aug_list",
    "occlusion_rate",
)

# --- AIH_Render layout (explore_AIH.py) ---------------------------------------------
RENDER_IMAGE_DIR = "{annot}/{phase}/images/{s}_images/{kind}"  # kind: IH or DR_gt
RENDER_LABEL_DIR = "{annot}/{phase}/labels/in_{s}_images/{label}"  # {s}_amodal, rl_visible
RENDER_VISIBLE_CODE = {"right": 1, "left": 2}  # rl_visible: 0 background, 1 right, 2 left


@dataclass(frozen=True)
class SynAugment:
    """One crop's placement in an AIH_Syn composition (the reference's aug list)."""

    translation: tuple[float, float]  # fractions of the 255-pixel box
    scale: float
    rotation: float  # degrees

    def matrix(self, size: int = SYN_SIZE) -> np.ndarray:
        """2x3 affine from the source crop to the ``size`` x ``size`` output."""
        cx = SYN_BOX * self.translation[0] + 0.5 * SYN_BOX
        cy = SYN_BOX * self.translation[1] + 0.5 * SYN_BOX
        k = size / (SYN_BOX * self.scale)
        c, s = math.cos(math.radians(self.rotation)), math.sin(math.radians(self.rotation))
        linear = k * np.array([[c, s], [-s, c]])  # scale times the inverse rotation
        shift = np.array([size / 2, size / 2]) - linear @ np.array([cx, cy])
        return np.hstack([linear, shift[:, None]])


def warp_crop(array: np.ndarray, augment: SynAugment, size: int = SYN_SIZE) -> np.ndarray:
    """Warp an image or a 0/1 uint8 mask as the reference does (bilinear, black outside)."""
    return cv2.warpAffine(
        array,
        augment.matrix(size),
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


def compose_syn(
    target: np.ndarray,
    target_amodal: np.ndarray,
    distractor: np.ndarray,
    distractor_amodal: np.ndarray,
    target_augment: SynAugment,
    distractor_augment: SynAugment,
) -> dict[str, np.ndarray]:
    """Paste the warped distractor over the warped target.

    Returns ``image``, ``target_gt`` (the warped target: the ground truth),
    ``target_amodal``, ``target_visible``, ``distractor_amodal``, ``distractor_visible``.
    """
    t_img = warp_crop(target, target_augment)
    d_img = warp_crop(distractor, distractor_augment)
    t_mask = warp_crop(target_amodal.astype(np.uint8), target_augment).astype(bool)
    d_mask = warp_crop(distractor_amodal.astype(np.uint8), distractor_augment).astype(bool)
    return {
        "image": np.where(d_mask[:, :, None], d_img, t_img),
        "target_gt": t_img,
        "target_amodal": t_mask,
        "target_visible": t_mask & ~d_mask,
        "distractor_amodal": d_mask,
        "distractor_visible": d_mask.copy(),
    }


def read_label_png(path: Path, max_value: int | None = None) -> np.ndarray:
    """A single-channel label PNG as uint8 (its stored values); errors name the file."""
    try:
        with Image.open(path) as image:
            array = np.asarray(image)
    except FileNotFoundError:
        raise DatasetFormatError(f"{path}: label file not found") from None
    except (OSError, UnidentifiedImageError) as exc:
        raise DatasetFormatError(f"{path}: not a readable label image ({exc})") from exc
    if array.ndim == 3:
        if not (array == array[:, :, :1]).all():
            raise DatasetFormatError(f"{path}: expected a single-channel label image")
        array = array[:, :, 0]
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
        raise DatasetFormatError(f"{path}: expected integer labels, got {array.dtype}")
    if max_value is not None and array.size and int(array.max()) > max_value:
        raise DatasetFormatError(
            f"{path}: label value {int(array.max())} found, expected 0..{max_value}"
        )
    return array.astype(np.uint8)


def _no_joints_sample(file_name: str, image_path: Path, meta: dict[str, Any]) -> Sample:
    return Sample(
        file_name=file_name,
        image_path=image_path,
        hand_type="interacting",
        joints_cam=np.full((NUM_JOINTS, 3), np.nan, np.float32),
        joints_img=np.zeros((NUM_JOINTS, 2), np.float32),
        joint_valid=np.zeros(NUM_JOINTS, bool),
        intrinsics=np.full((3, 3), np.nan, np.float32),
        meta=meta,
    )


def _stack_masks(per_hand: dict[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """{hand: (amodal, visible)} -> (4, H, W) bool in MASK_NAMES order."""
    by_name = {
        f"{h}_{kind}": m[i]
        for h, m in per_hand.items()
        for i, kind in enumerate(("amodal", "visible"))
    }
    return np.stack([by_name[name] for name in MASK_NAMES]).astype(bool)


def _phase_annots(root: Path, phase: str, annots: list[str] | None, exists: Any) -> list[str]:
    chosen = list(ANNOTS) if annots is None else list(annots)
    for annot in chosen:
        if annot not in ANNOTS:
            raise ValueError(f"unknown annotation branch {annot!r}; expected one of {ANNOTS}")
    present = [a for a in chosen if exists(a)]
    if annots is not None and len(present) != len(chosen):
        missing = sorted(set(chosen) - set(present))
        raise DatasetFormatError(f"{root}: no {phase} data for {missing}")
    if not present:
        raise DatasetFormatError(f"{root}: no {phase} data for {chosen}")
    return present


# ------------------------------------------------------------------------ AIH_Syn


def _read_id_list(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DatasetFormatError(f"{path}: filtered id list not found")
    try:
        values = np.loadtxt(path, ndmin=1, dtype=np.float64)
    except ValueError as exc:
        raise DatasetFormatError(f"{path}: expected one crop id per line ({exc})") from exc
    if values.ndim != 1 or not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        raise DatasetFormatError(f"{path}: expected one integer crop id per line")
    return values.astype(np.int64)


def _read_augment(value: Any, where: str) -> SynAugment:
    try:
        translation, scale, rotation = value[0], value[1], value[2]
        augment = SynAugment(
            (float(translation[0]), float(translation[1])), float(scale), float(rotation)
        )
    except (TypeError, IndexError, ValueError) as exc:
        raise DatasetFormatError(
            f"{where}: expected [[tx, ty], scale, rotation, colour], got {value!r}"
        ) from exc
    if not (
        augment.scale > 0 and all(map(math.isfinite, (*augment.translation, augment.rotation)))
    ):
        raise DatasetFormatError(f"{where}: invalid augmentation {value!r}")
    return augment


@dataclass(frozen=True)
class _SynEntry:
    annot: str
    index: int  # position in its composition list
    target: str  # "right" or "left"
    target_id: int
    distractor_id: int
    target_augment: SynAugment
    distractor_augment: SynAugment
    occlusion_rate: float


class AIHSynDataset:
    """AIH_Syn compositions as :class:`Sample` objects, composed when read.

    ``root`` is the ``AIH_syn`` folder, ``phase`` ``train``/``val``/``test``,
    ``annots`` the branches to read (default: those with a composition list for the
    phase). ``file_name`` is ``{annot}/{phase}/composed/{k:07d}`` (k = position in
    the composition list; there is no such file) and ``image_path`` the target crop.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        phase: str = "train",
        annots: list[str] | None = None,
        load_images: bool = True,
    ) -> None:
        self.root = Path(root)
        self.phase = phase
        self.load_images = load_images

        def has_cfg(annot: str) -> bool:
            return (self.root / SYN_CFG_FILE.format(annot=annot, phase=phase)).is_file()

        self.annots = _phase_annots(self.root, phase, annots, has_cfg)
        self._entries: list[_SynEntry] = []
        for annot in self.annots:
            ids = {
                side: _read_id_list(
                    self.root / SYN_INDEX_FILE.format(annot=annot, phase=phase, side=side)
                )
                for side in HANDS
            }
            self._entries.extend(self._read_cfgs(annot, ids))

    def _read_cfgs(self, annot: str, ids: dict[str, np.ndarray]) -> list[_SynEntry]:
        path = self.root / SYN_CFG_FILE.format(annot=annot, phase=self.phase)
        array = load_npy_objects(path, NUMPY_GLOBALS)
        entries = []
        for k, cfg in enumerate(array.reshape(-1).tolist()):
            where = f"{path}, entry {k}"
            if not isinstance(cfg, dict) or any(key not in cfg for key in SYN_CFG_KEYS):
                raise DatasetFormatError(f"{where}: expected a dict with keys {SYN_CFG_KEYS}")
            target = str(cfg["loop_side"])
            if target not in HANDS:
                raise DatasetFormatError(
                    f"{where}: loop_side must be right or left, not {target!r}"
                )
            other = "left" if target == "right" else "right"
            positions = {}
            for key, side in (("loop_side_idx", target), ("another_side_idx", other)):
                pos = cfg[key]
                if not isinstance(pos, (int, np.integer)) or not 0 <= int(pos) < len(ids[side]):
                    raise DatasetFormatError(
                        f"{where}: {key} = {pos!r} is not a position in the {side} id list "
                        f"({len(ids[side])} ids)"
                    )
                positions[side] = int(ids[side][int(pos)])
            try:
                occlusion_rate = float(cfg["occlusion_rate"])
            except (TypeError, ValueError) as exc:
                raise DatasetFormatError(f"{where}: occlusion_rate is not a number") from exc
            entries.append(
                _SynEntry(
                    annot=annot,
                    index=k,
                    target=target,
                    target_id=positions[target],
                    distractor_id=positions[other],
                    # the reference frame's "r" is the target and "l" the distractor
                    target_augment=_read_augment(cfg["r_aug_list"], f"{where}, r_aug_list"),
                    distractor_augment=_read_augment(cfg["l_aug_list"], f"{where}, l_aug_list"),
                    occlusion_rate=occlusion_rate,
                )
            )
        return entries

    def __len__(self) -> int:
        return len(self._entries)

    def _crop(self, annot: str, side: str, crop_id: int) -> tuple[Path, Path]:
        s = SIDE_LETTER[side]
        fields = {"annot": annot, "phase": self.phase, "s": s, "id": crop_id}
        return self.root / SYN_IMAGE.format(**fields), self.root / SYN_AMODAL.format(**fields)

    def __getitem__(self, index: int) -> Sample:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} samples")
        e = self._entries[int(index) % n]
        distractor = "left" if e.target == "right" else "right"
        t_image, t_mask = self._crop(e.annot, e.target, e.target_id)
        d_image, d_mask = self._crop(e.annot, distractor, e.distractor_id)
        sample = _no_joints_sample(
            f"{e.annot}/{self.phase}/composed/{e.index:07d}",
            t_image,
            {
                "dataset": "AIH_syn",
                "annot": e.annot,
                "phase": self.phase,
                "target": e.target,
                "target_image": PurePosixPath(t_image.relative_to(self.root)).as_posix(),
                "distractor_image": PurePosixPath(d_image.relative_to(self.root)).as_posix(),
                "occlusion_rate": e.occlusion_rate,
            },
        )
        if not self.load_images:
            return sample
        crops = []
        for image_path, mask_path in ((t_image, t_mask), (d_image, d_mask)):
            image, mask = read_image(image_path), read_label_png(mask_path) > 0
            if image.shape[:2] != mask.shape:
                raise DatasetFormatError(
                    f"{mask_path}: mask is {mask.shape[1]}x{mask.shape[0]}, its image "
                    f"{image_path} is {image.shape[1]}x{image.shape[0]}"
                )
            if e.target == "left":  # the reference composes with the target as a right hand
                image, mask = image[:, ::-1], mask[:, ::-1]
            crops.extend([np.ascontiguousarray(image), np.ascontiguousarray(mask)])
        out = compose_syn(*crops, e.target_augment, e.distractor_augment)
        if e.target == "left":  # back to the hands' true sides
            out = {key: np.ascontiguousarray(value[:, ::-1]) for key, value in out.items()}
        sample.image = out["image"]
        sample.masks = _stack_masks(
            {
                e.target: (out["target_amodal"], out["target_visible"]),
                distractor: (out["distractor_amodal"], out["distractor_visible"]),
            }
        )
        sample.hdr_gt = {e.target: out["target_gt"]}
        area = out["target_amodal"].sum()
        sample.meta["occlusion_rate_composed"] = (
            float((out["target_amodal"] & out["distractor_amodal"]).sum() / area) if area else 0.0
        )
        return sample


# --------------------------------------------------------------------- AIH_Render


class AIHRenderDataset:
    """AIH_Render images as :class:`Sample` objects.

    ``root`` is the ``AIH_render`` folder, ``phase`` ``train``/``val``, ``annots``
    the branches (default: those with the phase), ``targets`` which image folders
    to read (``right`` = ``r_images``, ``left`` = ``l_images``). ``file_name`` is the
    image's POSIX path relative to ``root``.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        phase: str = "train",
        annots: list[str] | None = None,
        targets: tuple[str, ...] = HANDS,
        load_images: bool = True,
    ) -> None:
        self.root = Path(root)
        self.phase = phase
        self.load_images = load_images
        for target in targets:
            if target not in HANDS:
                raise ValueError(f"targets must be 'right' and/or 'left', got {target!r}")

        def has_phase(annot: str) -> bool:
            return (self.root / annot / phase / "images").is_dir()

        self.annots = _phase_annots(self.root, phase, annots, has_phase)
        self._entries: list[tuple[str, str, str]] = []  # (annot, target, image name)
        for annot in self.annots:
            for target in targets:
                self._entries.extend((annot, target, name) for name in self._names(annot, target))

    def _dir(self, template: str, annot: str, target: str, **fields: str) -> Path:
        s = SIDE_LETTER[target]
        return self.root / template.format(annot=annot, phase=self.phase, s=s, **fields)

    def _names(self, annot: str, target: str) -> list[str]:
        image_dir = self._dir(RENDER_IMAGE_DIR, annot, target, kind="IH")
        if not image_dir.is_dir():
            raise DatasetFormatError(f"{image_dir}: image folder not found")
        names = sorted(p.name for p in image_dir.iterdir() if p.suffix.lower() == ".jpg")
        s = SIDE_LETTER[target]
        expected = {
            self._dir(RENDER_IMAGE_DIR, annot, target, kind="DR_gt"): names,
            self._dir(RENDER_LABEL_DIR, annot, target, label=f"{s}_amodal"): [
                str(PurePosixPath(n).with_suffix(".png")) for n in names
            ],
            self._dir(RENDER_LABEL_DIR, annot, target, label="rl_visible"): [
                str(PurePosixPath(n).with_suffix(".png")) for n in names
            ],
        }
        for folder, wanted in expected.items():
            present = set(os.listdir(folder)) if folder.is_dir() else set()
            missing = [w for w in wanted if w not in present]
            if missing:
                raise DatasetFormatError(
                    f"{folder / missing[0]}: missing ({len(missing)} files of {image_dir} "
                    "have no counterpart here)"
                )
        return names

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> Sample:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} samples")
        annot, target, name = self._entries[int(index) % n]
        distractor = "left" if target == "right" else "right"
        s = SIDE_LETTER[target]
        image_path = self._dir(RENDER_IMAGE_DIR, annot, target, kind="IH") / name
        stem = str(PurePosixPath(name).with_suffix(".png"))
        sample = _no_joints_sample(
            PurePosixPath(image_path.relative_to(self.root)).as_posix(),
            image_path,
            {
                "dataset": "AIH_render",
                "annot": annot,
                "phase": self.phase,
                "target": target,
                "unknown_masks": [f"{distractor}_amodal"],
            },
        )
        if not self.load_images:
            return sample
        image = read_image(image_path)
        gt_path = self._dir(RENDER_IMAGE_DIR, annot, target, kind="DR_gt") / name
        gt = read_image(gt_path)
        amodal_path = self._dir(RENDER_LABEL_DIR, annot, target, label=f"{s}_amodal") / stem
        visible_path = self._dir(RENDER_LABEL_DIR, annot, target, label="rl_visible") / stem
        amodal = read_label_png(amodal_path) > 0
        visible = read_label_png(visible_path, max_value=2)
        for path, shape in (
            (gt_path, gt.shape[:2]),
            (amodal_path, amodal.shape),
            (visible_path, visible.shape),
        ):
            if shape != image.shape[:2]:
                raise DatasetFormatError(
                    f"{path}: is {shape[1]}x{shape[0]}, the image {image_path} is "
                    f"{image.shape[1]}x{image.shape[0]}"
                )
        d_visible = visible == RENDER_VISIBLE_CODE[distractor]
        sample.image = image
        sample.masks = _stack_masks(
            {
                target: (amodal, visible == RENDER_VISIBLE_CODE[target]),
                distractor: (d_visible, d_visible),  # amodal unknown: see module docstring
            }
        )
        sample.hdr_gt = {target: gt}
        return sample
