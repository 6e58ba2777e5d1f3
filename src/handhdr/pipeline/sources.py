"""What ``handhdr predict`` reads: one image, a folder (recursive) or a video.

Each frame has a name, the ``file_name`` of its predictions line:

* an image: its file name (``photo.jpg``);
* a folder: the POSIX path relative to the folder (``a/b/photo.png``), files in
  sorted order, hidden files and folders (``.name``) skipped; videos inside it are
  read frame by frame like a video given directly, under their relative path;
* a video (OpenCV): ``<video file name>/<frame index>``, index from 0
  (``clip.mp4/0``, ``clip.mp4/1``, ...).

Images go through :func:`handhdr.io.read_image` (grayscale, RGBA, 16-bit, palette,
EXIF-rotated, huge). A file that cannot be read is a :class:`Frame` with ``error`` set
and no image, so that the caller reports it and goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handhdr.io import ImageReadError, read_image
from handhdr.io.images import IMAGE_SUFFIXES

VIDEO_SUFFIXES: tuple[str, ...] = (
    ".mp4",
    ".avi",
    ".mov",
    ".mkv",
    ".webm",
    ".m4v",
    ".mpg",
    ".mpeg",
    ".wmv",
)


@dataclass
class Frame:
    """One image to predict: its name, and the image or why it could not be read."""

    name: str
    image: np.ndarray | None = None
    error: str | None = None


@dataclass(frozen=True)
class Source:
    """One input file: an image or a video, and the name it goes by."""

    path: Path
    name: str
    kind: str  # "image" or "video"


def is_video(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` has a video file suffix."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def list_sources(
    root: str | os.PathLike[str], exclude: str | os.PathLike[str] | None = None
) -> list[Source]:
    """The images and videos under ``root`` (a file or a folder), in sorted order;
    nothing under ``exclude`` (the output folder, when it lies inside ``root``)."""
    root = Path(root)
    skipped = Path(exclude).resolve() if exclude is not None else None
    if root.is_file():
        return [Source(root, root.name, "video" if is_video(root) else "image")]
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such file or folder")
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and (Path(folder) / d).resolve() != skipped
        )
        for name in sorted(files):
            suffix = Path(name).suffix.lower()
            if name.startswith(".") or suffix not in (*IMAGE_SUFFIXES, *VIDEO_SUFFIXES):
                continue
            path = Path(folder) / name
            kind = "video" if suffix in VIDEO_SUFFIXES else "image"
            found.append(Source(path, path.relative_to(root).as_posix(), kind))
    return sorted(found, key=lambda s: s.name)


def frame_count(source: Source) -> int:
    """Frames in ``source`` (1 for an image; OpenCV's estimate for a video, 0 unknown)."""
    if source.kind == "image":
        return 1
    import cv2

    capture = cv2.VideoCapture(str(source.path))
    try:
        return max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT))) if capture.isOpened() else 0
    finally:
        capture.release()


def iter_frames(source: Source, skip: frozenset[str] | set[str] = frozenset()) -> Iterator[Frame]:
    """The frames of ``source``; names in ``skip`` come out without an image (already
    done: a resumed run), and unreadable files as a frame with ``error``."""
    if "\\" in source.name:  # a legal character on POSIX, but not in a file_name
        yield Frame(source.name, error=f"{source.path}: a backslash in the name cannot be written")
        return
    if source.kind == "image":
        if source.name in skip:
            yield Frame(source.name)
            return
        try:
            yield Frame(source.name, image=read_image(source.path))
        except (ImageReadError, OSError) as exc:
            yield Frame(source.name, error=str(exc))
        return
    yield from _video_frames(source, skip)


def _video_frames(source: Source, skip: frozenset[str] | set[str]) -> Iterator[Frame]:
    import cv2

    capture = cv2.VideoCapture(str(source.path))
    try:
        if not capture.isOpened():
            yield Frame(source.name, error=f"{source.path}: OpenCV cannot open this video")
            return
        index = 0
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            name = f"{source.name}/{index}"
            if name in skip:
                yield Frame(name)
            elif bgr is None or bgr.ndim != 3 or bgr.dtype != np.uint8:
                yield Frame(name, error=f"{source.path}: frame {index} is not an 8-bit image")
            else:
                yield Frame(name, image=np.ascontiguousarray(bgr[:, :, ::-1]))
            index += 1
        if index == 0:
            yield Frame(source.name, error=f"{source.path}: no frame could be decoded")
    finally:
        capture.release()


__all__ = [
    "VIDEO_SUFFIXES",
    "Frame",
    "Source",
    "frame_count",
    "is_video",
    "iter_frames",
    "list_sources",
]
