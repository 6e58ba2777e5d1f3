"""Inputs of predict: names of images, folder entries and video frames; bad files."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from handhdr.io import write_image
from handhdr.pipeline.sources import frame_count, iter_frames, list_sources


def test_folder_names_are_relative_posix_paths_and_bad_files_are_frames_with_errors(tmp_path):
    (tmp_path / "b" / ".hidden").mkdir(parents=True)
    write_image(tmp_path / "b" / "x.PNG", np.zeros((4, 5, 3), np.uint8))
    write_image(tmp_path / "a.jpg", np.zeros((4, 5, 3), np.uint8))
    write_image(tmp_path / "b" / ".hidden" / "y.png", np.zeros((4, 5, 3), np.uint8))
    (tmp_path / "c.png").write_bytes(b"broken")
    (tmp_path / "readme.md").write_text("no")
    sources = list_sources(tmp_path)
    assert [s.name for s in sources] == ["a.jpg", "b/x.PNG", "c.png"]
    frames = [f for s in sources for f in iter_frames(s)]
    assert [f.image.shape if f.image is not None else None for f in frames] == [
        (4, 5, 3), (4, 5, 3), None,
    ]  # fmt: skip
    assert "c.png" in frames[2].error
    assert [f.image for f in iter_frames(sources[0], skip={"a.jpg"})] == [None]
    assert list_sources(tmp_path / "a.jpg")[0].name == "a.jpg"
    write_image(tmp_path / "back\\slash.png", np.zeros((4, 5, 3), np.uint8))
    (odd,) = iter_frames(list_sources(tmp_path / "back\\slash.png")[0])
    assert odd.image is None and "backslash" in odd.error
    kept = [s.name for s in list_sources(tmp_path, exclude=tmp_path / "b")]
    assert kept == ["a.jpg", "back\\slash.png", "c.png"]
    with pytest.raises(FileNotFoundError, match="no such file"):
        list_sources(tmp_path / "missing")


def test_video_frames_are_named_by_index_and_rgb(tmp_path):
    path = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (32, 24))
    for value in (0, 120, 250):
        frame = np.zeros((24, 32, 3), np.uint8)
        frame[..., 2] = value  # red in BGR
        writer.write(frame)
    writer.release()
    (source,) = list_sources(path)
    assert source.kind == "video" and frame_count(source) == 3
    frames = list(iter_frames(source, skip={"v.avi/1"}))
    assert [f.name for f in frames] == ["v.avi/0", "v.avi/1", "v.avi/2"]
    assert frames[1].image is None
    red, blue = frames[2].image[..., 0].mean(), frames[2].image[..., 2].mean()
    assert red > 200 and blue < 30  # RGB, not OpenCV's BGR
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    (frame,) = iter_frames(list_sources(broken)[0])
    assert frame.image is None and frame.error and frame.name == "broken.mp4"
