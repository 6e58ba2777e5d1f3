"""Write one generated sample in a dataset layout, record last.

* ``interhand`` (default): the InterHand2.6M v1.0 layout -- the image (JPEG quality
  95) at ``images/{split}/{file_name}``, the packed masks at ``masks/{split}/...png``
  and the per-hand de-occlusion/removal ground truth at ``hdr_gt/{split}/..._{hand}.png``
  (:mod:`handhdr.datasets.masks`); the annotation JSON files come from the records
  when the split is finalised (:mod:`handhdr.synth.finalize`).
* ``aih_render``: the published AIH_Render layout (:mod:`handhdr.datasets.aih`), one
  entry per hand with a non-empty amodal mask (that hand is the entry's target):
  the image, the target's ground truth (JPEG), its amodal mask (0/1) and the visible
  labels (0 background, 1 right, 2 left), under ``machine_annot/{split}/``.

The record goes to ``synth/{split}/parts/`` after every image file is in place, so
an interrupted sample is simply made again on resume.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import numpy as np

from handhdr.datasets.aih import (
    RENDER_IMAGE_DIR,
    RENDER_LABEL_DIR,
    RENDER_VISIBLE_CODE,
    SIDE_LETTER,
)
from handhdr.datasets.masks import hdr_gt_path, mask_path, write_masks
from handhdr.datasets.schema import MASK_NAMES
from handhdr.io import write_image
from handhdr.synth.records import SynthSample, write_part

JPEG_QUALITY = 95
AIH_ANNOT = "machine_annot"  # our labels are computed, like the authors' machine branch


def aih_name(index: int) -> str:
    """File name of sample ``index`` in the AIH_Render layout."""
    return f"{index:08d}.jpg"


def write_interhand_files(root: Path, split: str, sample: SynthSample) -> None:
    """Image, masks and hdr_gt of one sample in the InterHand2.6M layout."""
    name = sample.file_name
    write_image(Path(root) / "images" / split / name, sample.image, jpeg_quality=JPEG_QUALITY)
    write_masks(mask_path(root, split, name), sample.masks)
    for hand, picture in sample.hdr_gt.items():
        write_image(hdr_gt_path(root, split, name, hand), picture)


def visible_labels(masks: np.ndarray) -> np.ndarray:
    """``rl_visible``: 0 background, 1 right visible, 2 left visible (uint8)."""
    labels = np.zeros(masks.shape[1:], np.uint8)
    for hand in ("right", "left"):
        labels[masks[MASK_NAMES.index(f"{hand}_visible")]] = RENDER_VISIBLE_CODE[hand]
    return labels


def write_aih_render_files(root: Path, split: str, sample: SynthSample) -> None:
    """One AIH_Render entry per hand that has ground truth (its target)."""
    name = aih_name(sample.index)
    stem = str(PurePosixPath(name).with_suffix(".png"))
    labels = visible_labels(sample.masks)
    for hand, picture in sample.hdr_gt.items():
        s = SIDE_LETTER[hand]

        def folder(template: str, hand_letter: str = s, **fields: str) -> Path:
            return Path(root) / template.format(
                annot=AIH_ANNOT, phase=split, s=hand_letter, **fields
            )

        amodal = sample.masks[MASK_NAMES.index(f"{hand}_amodal")].astype(np.uint8)
        write_image(folder(RENDER_IMAGE_DIR, kind="IH") / name, sample.image, JPEG_QUALITY)
        write_image(folder(RENDER_IMAGE_DIR, kind="DR_gt") / name, picture, JPEG_QUALITY)
        write_image(folder(RENDER_LABEL_DIR, label=f"{s}_amodal") / stem, amodal)
        write_image(folder(RENDER_LABEL_DIR, label="rl_visible") / stem, labels)


def write_sample(root: Path, split: str, layout: str, sample: SynthSample) -> None:
    """All files of one sample in ``layout`` (``interhand`` or ``aih_render``), record last."""
    if layout == "interhand":
        write_interhand_files(root, split, sample)
    elif layout == "aih_render":
        write_aih_render_files(root, split, sample)
    else:
        raise ValueError(f"unknown layout {layout!r}; expected 'interhand' or 'aih_render'")
    write_part(root, split, sample.record)
