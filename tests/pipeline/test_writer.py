"""The resumable predictions writer: atomic per run, keeps complete lines on resume."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.evaluation.predictions import HandPrediction, ImagePrediction, read_predictions
from handhdr.pipeline.writer import ResumableWriter, partial_path, read_complete_lines


def _line(name: str) -> ImagePrediction:
    hand = HandPrediction(joints_3d=np.ones((21, 3)), joints_2d=np.zeros((21, 2)), score=0.5)
    return ImagePrediction(name, {"right": hand})


def test_the_file_appears_only_when_the_run_ends(tmp_path):
    path = tmp_path / "p.jsonl"
    with ResumableWriter(path) as writer:
        writer.write(_line("a.png"))
        assert not path.exists() and partial_path(path).exists()
        with pytest.raises(ValueError, match="written twice"):
            writer.write(_line("a.png"))
    assert [p.file_name for p in read_predictions(path)] == ["a.png"]
    assert not partial_path(path).exists()


def test_an_error_keeps_the_partial_and_resume_continues_from_it(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"file_name": "old.png", "hands": {}}\n')
    with pytest.raises(RuntimeError), ResumableWriter(path) as writer:
        writer.write(_line("a.png"))
        writer.write(_line("b.png"))
        raise RuntimeError("killed")
    assert path.read_text() == '{"file_name": "old.png", "hands": {}}\n'  # untouched
    with partial_path(path).open("a") as stream:
        stream.write('{"file_name": "c.png", "ha')  # torn by the interruption
    assert [p.file_name for p in read_complete_lines(partial_path(path))] == ["a.png", "b.png"]
    with ResumableWriter(path, resume=True) as writer:
        assert writer.done == {"a.png", "b.png"} and writer.kept == 2
        writer.write(_line("c.png"))
    assert [p.file_name for p in read_predictions(path)] == ["a.png", "b.png", "c.png"]
    # resuming from a finished file keeps its lines; without resume a run starts afresh
    with ResumableWriter(path, resume=True) as writer:
        writer.write(_line("d.png"))
    assert len(read_predictions(path)) == 4
    with ResumableWriter(path) as writer:
        writer.write(_line("e.png"))
    assert [p.file_name for p in read_predictions(path)] == ["e.png"]


def test_an_error_before_any_line_leaves_no_partial(tmp_path):
    path = tmp_path / "p.jsonl"
    with pytest.raises(KeyError), ResumableWriter(path):
        raise KeyError("nothing done")
    assert not partial_path(path).exists() and not path.exists()
