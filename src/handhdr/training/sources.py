"""Training data sources: one dataset folder -> a reader of :class:`Sample` objects.

Kinds (``data.sources[i].kind``, or ``KIND:DIR`` on the command line):

* ``interhand``: the InterHand2.6M v1.0 layout (``annotations/{split}/...``),
  including our synthetic datasets, with ``masks/`` and ``hdr_gt/`` beside it;
* ``aih_syn``: the published AIH_Syn folder (``syn_cfgs/``, ``filtered_list/``);
* ``aih_render``: the published AIH_Render folder (``{annot}/{phase}/images/...``);
* ``auto``: decided from the folder's layout.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from handhdr.datasets.schema import Sample

KINDS: tuple[str, ...] = ("interhand", "aih_syn", "aih_render")
_AIH_ANNOTS = ("machine_annot", "human_annot")


def detect_kind(root: str | os.PathLike[str]) -> str:
    """The kind of dataset folder ``root`` is, from its layout."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: dataset folder not found")
    if (root / "annotations").is_dir():
        return "interhand"
    if (root / "syn_cfgs").is_dir() or (root / "filtered_list").is_dir():
        return "aih_syn"
    if any(
        (root / annot / phase / "images").is_dir()
        for annot in _AIH_ANNOTS
        for phase in ("train", "val", "test")
    ):
        return "aih_render"
    raise ValueError(
        f"{root}: cannot tell the dataset layout (expected annotations/ for the "
        "InterHand2.6M layout, syn_cfgs/ for AIH_Syn, or {machine,human}_annot/{phase}/"
        "images/ for AIH_Render); name the kind with KIND:DIR"
    )


def has_split(root: str | os.PathLike[str], kind: str, split: str) -> bool:
    """Whether ``root`` holds ``split`` (e.g. a ``val`` split for validation)."""
    root = Path(root)
    if kind == "auto":
        kind = detect_kind(root)
    if kind == "interhand":
        from handhdr.datasets.interhand import resolve_annotations
        from handhdr.datasets.interhand_format import DatasetFormatError

        try:
            return resolve_annotations(root, split).data.is_file()
        except DatasetFormatError:
            return False
    if kind == "aih_syn":
        return any((root / "syn_cfgs").glob(f"all_*_{split}_syn_cfgs.npy"))
    if kind == "aih_render":
        return any((root / annot / split / "images").is_dir() for annot in _AIH_ANNOTS)
    raise ValueError(f"unknown dataset kind {kind!r}; expected one of {KINDS} or 'auto'")


def open_source(
    root: str | os.PathLike[str],
    kind: str = "auto",
    split: str = "train",
    load_hdr_gt: bool = False,
) -> Sequence[Sample]:
    """A reader (``len()`` and ``[i]`` -> :class:`Sample` with image and masks) of
    ``split`` of the dataset at ``root``."""
    if kind == "auto":
        kind = detect_kind(root)
    if kind == "interhand":
        from handhdr.datasets.interhand import InterHandDataset

        return InterHandDataset(
            root, split=split, load_images=True, load_masks=True, load_hdr_gt=load_hdr_gt
        )
    if kind == "aih_syn":
        from handhdr.datasets.aih import AIHSynDataset

        return AIHSynDataset(root, phase=split)
    if kind == "aih_render":
        from handhdr.datasets.aih import AIHRenderDataset

        return AIHRenderDataset(root, phase=split)
    raise ValueError(f"unknown dataset kind {kind!r}; expected one of {KINDS} or 'auto'")
