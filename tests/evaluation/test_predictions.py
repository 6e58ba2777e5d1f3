"""The predictions file: schema, reader, writers (atomic, resumable), errors for bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from handhdr.evaluation.predictions import (
    HandPrediction,
    ImagePrediction,
    PredictionsError,
    PredictionsWriter,
    conforms,
    iter_predictions,
    partial_path,
    predictions_schema,
    read_predictions,
    write_predictions,
)


def _hand(offset: float = 0.0, score: float | None = 0.9) -> HandPrediction:
    joints_3d = np.arange(63, dtype=np.float64).reshape(21, 3) * 1.25 + offset
    joints_2d = np.arange(42, dtype=np.float64).reshape(21, 2) * 0.5 + offset
    return HandPrediction(joints_3d=joints_3d, joints_2d=joints_2d, score=score)


def _line(file_name: str = "Capture0/ROM01/cam400262/image0001.jpg") -> dict:
    return ImagePrediction(file_name, {"right": _hand(), "left": _hand(100.0)}).to_json()


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_round_trip_keeps_every_field(tmp_path):
    visible = np.arange(21) % 2 == 0
    images = [
        ImagePrediction(
            "Capture0/ROM01/cam1/image0001.jpg",
            {
                "right": HandPrediction(
                    joints_3d=np.full((21, 3), 1.5),
                    joints_2d=np.full((21, 2), 7.25),
                    score=0.5,
                    box=(1.0, 2.0, 30.0, 40.0),
                    joint_visible=visible,
                )
            },
            joints_3d_frame="camera",
            meta={"model": "lite"},
        ),
        ImagePrediction("Capture0/ROM01/cam1/image0002.jpg", {}),
        ImagePrediction("a/b.png", {"left": HandPrediction(joints_2d=np.ones((21, 2)))}),
    ]
    path = tmp_path / "predictions.jsonl"
    assert write_predictions(path, images) == 3
    back = read_predictions(path)
    assert [p.file_name for p in back] == [p.file_name for p in images]
    right = back[0].hands["right"]
    assert np.array_equal(right.joints_3d, np.full((21, 3), 1.5))
    assert np.array_equal(right.joints_2d, np.full((21, 2), 7.25))
    assert right.score == 0.5 and right.box == (1.0, 2.0, 30.0, 40.0)
    assert np.array_equal(right.joint_visible, visible)
    assert back[0].joints_3d_frame == "camera" and back[0].meta == {"model": "lite"}
    assert back[1].hands == {} and back[1].joints_3d_frame == "root_relative"
    assert back[2].hands["left"].joints_3d is None


def test_written_lines_validate_against_the_json_schema(tmp_path):
    path = tmp_path / "p.jsonl"
    write_predictions(path, [ImagePrediction("x/1.jpg", {"right": _hand(), "left": _hand(3.0)})])
    validator = jsonschema.Draft202012Validator(predictions_schema())
    for text in path.read_text().splitlines():
        assert list(validator.iter_errors(json.loads(text))) == []


def test_writer_rounds_to_the_given_decimals(tmp_path):
    hand = HandPrediction(joints_3d=np.full((21, 3), 1.234567891))
    path = tmp_path / "p.jsonl"
    write_predictions(path, [ImagePrediction("a.jpg", {"right": hand})], decimals=3)
    assert json.loads(path.read_text())["hands"]["right"]["joints_3d"][0] == [1.235] * 3
    write_predictions(path, [ImagePrediction("a.jpg", {"right": hand})], decimals=None)
    assert json.loads(path.read_text())["hands"]["right"]["joints_3d"][0] == [1.234567891] * 3


def test_hand_prediction_rejects_bad_arrays():
    with pytest.raises(ValueError, match="joints_3d must have shape"):
        HandPrediction(joints_3d=np.zeros((20, 3)))
    with pytest.raises(ValueError, match="NaN"):
        HandPrediction(joints_2d=np.full((21, 2), np.nan))
    with pytest.raises(ValueError, match="joints_3d or joints_2d"):
        HandPrediction(score=0.5)
    with pytest.raises(ValueError, match="score"):
        HandPrediction(joints_2d=np.zeros((21, 2)), score=1.5)
    with pytest.raises(ValueError, match="relative POSIX path"):
        ImagePrediction("C:\\images\\a.jpg", {})
    with pytest.raises(ValueError, match="right'/'left"):
        ImagePrediction("a.jpg", {"Right": HandPrediction(joints_2d=np.zeros((21, 2)))})


# --- schema -----------------------------------------------------------------------


def _mutations(line: dict) -> list[dict]:
    """Variants of a valid line: each breaks (or keeps) one rule of the schema."""
    out: list[dict] = []

    def variant(change) -> None:
        obj = copy.deepcopy(line)
        change(obj)
        out.append(obj)

    variant(lambda o: o.pop("file_name"))
    variant(lambda o: o.pop("hands"))
    variant(lambda o: o.update(file_name=""))
    variant(lambda o: o.update(file_name="/abs/a.jpg"))
    variant(lambda o: o.update(file_name="dir\\a.jpg"))
    variant(lambda o: o.update(file_name=3))
    variant(lambda o: o.update(joints_3d_frame="camera"))
    variant(lambda o: o.update(joints_3d_frame="world"))
    variant(lambda o: o.update(meta={"anything": [1, 2]}))
    variant(lambda o: o.update(meta=[1]))
    variant(lambda o: o.update(extra=1))
    variant(lambda o: o.update(hands={}))
    variant(lambda o: o.update(hands=[]))
    variant(lambda o: o["hands"].update(Right=o["hands"]["right"]))
    variant(lambda o: o["hands"].pop("left"))
    variant(lambda o: o["hands"]["right"].pop("joints_3d"))
    variant(lambda o: o["hands"]["right"].pop("joints_2d"))
    variant(lambda o: [o["hands"]["right"].pop(k) for k in ("joints_3d", "joints_2d")])
    variant(lambda o: o["hands"]["right"]["joints_3d"].pop())
    variant(lambda o: o["hands"]["right"]["joints_3d"].append([0, 0, 0]))
    variant(lambda o: o["hands"]["right"]["joints_3d"][4].pop())
    variant(lambda o: o["hands"]["right"]["joints_3d"][4].append(1.0))
    variant(lambda o: o["hands"]["right"]["joints_2d"][0].append(1.0))
    variant(lambda o: o["hands"]["right"]["joints_3d"].__setitem__(2, [1, 2, 3]))  # ints: valid
    variant(lambda o: o["hands"]["right"]["joints_3d"][2].__setitem__(0, True))
    variant(lambda o: o["hands"]["right"]["joints_3d"][2].__setitem__(0, "1.0"))
    variant(lambda o: o["hands"]["right"]["joints_3d"][2].__setitem__(0, None))
    variant(lambda o: o["hands"]["right"]["joints_2d"].__setitem__(2, {"u": 1, "v": 2}))
    variant(lambda o: o["hands"]["right"].update(score=1))
    variant(lambda o: o["hands"]["right"].update(score=0))
    variant(lambda o: o["hands"]["right"].update(score=1.01))
    variant(lambda o: o["hands"]["right"].update(score=-0.1))
    variant(lambda o: o["hands"]["right"].update(score="high"))
    variant(lambda o: o["hands"]["right"].update(score=False))
    variant(lambda o: o["hands"]["right"].update(box=[1, 2, 3, 4]))
    variant(lambda o: o["hands"]["right"].update(box=[1, 2, -3, 4]))
    variant(lambda o: o["hands"]["right"].update(box=[-1.5, -2, 3, 0]))
    variant(lambda o: o["hands"]["right"].update(box=[1, 2, 3]))
    variant(lambda o: o["hands"]["right"].update(joint_visible=[True] * 21))
    variant(lambda o: o["hands"]["right"].update(joint_visible=[1] * 21))
    variant(lambda o: o["hands"]["right"].update(joint_visible=[True] * 20))
    variant(lambda o: o["hands"]["right"].update(confidence=0.5))
    variant(lambda o: o["hands"].update(right=[]))
    return out


def test_good_and_bad_lines_against_the_schema():
    validator = jsonschema.Draft202012Validator(predictions_schema())
    good = _line()
    assert validator.is_valid(good)
    assert validator.is_valid({"file_name": "a.jpg", "hands": {}})
    bad_examples = [
        {"file_name": "a.jpg"},
        {"file_name": "a.jpg", "hands": {"right": {"score": 0.4}}},
        {"file_name": "a.jpg", "hands": {"right": {"joints_3d": [[0, 0, 0]] * 20}}},
        {"file_name": "/a.jpg", "hands": {}},
        {"file_name": "a.jpg", "hands": {}, "joints_3d_frame": "world"},
    ]
    for example in bad_examples:
        assert not validator.is_valid(example)


def test_fast_check_agrees_with_the_json_schema():
    validator = jsonschema.Draft202012Validator(predictions_schema())
    variants = _mutations(_line())
    outcomes = [(conforms(v), validator.is_valid(v)) for v in variants]
    disagree = [json.dumps(v)[:120] for v, (a, b) in zip(variants, outcomes, strict=True) if a != b]
    assert disagree == []
    assert {full for _, full in outcomes} == {True, False}  # both kinds are exercised


# --- bad input: errors name the file, the line and the key ------------------------


def _error(path: Path, **kwargs) -> PredictionsError:
    with pytest.raises(PredictionsError) as info:
        list(iter_predictions(path, **kwargs))
    assert str(path) in str(info.value)
    return info.value


def test_malformed_json_names_the_line(tmp_path):
    good = json.dumps(_line("a.jpg"))
    path = _write_lines(tmp_path / "p.jsonl", [good, '{"file_name": "b.jpg", "hands": {'])
    err = _error(path)
    assert err.line == 2 and "malformed JSON" in str(err)


def test_wrong_joint_count_names_the_key(tmp_path):
    line = _line("a.jpg")
    line["hands"]["left"]["joints_3d"] = line["hands"]["left"]["joints_3d"][:20]
    path = _write_lines(tmp_path / "p.jsonl", [json.dumps(_line("b.jpg")), json.dumps(line)])
    err = _error(path)
    assert (err.line, err.key) == (2, "hands.left.joints_3d")
    assert "expected 21 items, got 20" in str(err)
    assert "line 2, key 'hands.left.joints_3d'" in str(err)


def test_wrong_point_size_names_the_point(tmp_path):
    line = _line("a.jpg")
    line["hands"]["right"]["joints_2d"][7] = [1.0, 2.0, 3.0]
    err = _error(_write_lines(tmp_path / "p.jsonl", [json.dumps(line)]))
    assert (err.line, err.key) == (1, "hands.right.joints_2d[7]")


def test_nan_names_the_joint(tmp_path):
    text = json.dumps(_line("a.jpg"))
    line = json.loads(text)
    line["hands"]["left"]["joints_3d"][3][1] = float("nan")
    path = _write_lines(tmp_path / "p.jsonl", [text.replace("a.jpg", "b.jpg"), json.dumps(line)])
    assert "NaN" in path.read_text()  # Python's json writes the bare NaN token
    err = _error(path)
    assert (err.line, err.key) == (2, "hands.left.joints_3d[3][1]")
    assert "NaN or infinite" in str(err)


def test_infinite_score_is_rejected(tmp_path):
    text = json.dumps(_line("a.jpg")).replace('"score": 0.9', '"score": Infinity', 1)
    err = _error(_write_lines(tmp_path / "p.jsonl", [text]))
    assert err.key == "hands.right.score"


def test_duplicate_file_name_names_both_lines(tmp_path):
    lines = [json.dumps(_line(n)) for n in ("a.jpg", "b.jpg", "a.jpg")]
    err = _error(_write_lines(tmp_path / "p.jsonl", lines))
    assert (err.line, err.key) == (3, "file_name") and "line 1" in str(err)


def test_missing_required_key_and_unknown_hand(tmp_path):
    err = _error(_write_lines(tmp_path / "p.jsonl", ['{"file_name": "a.jpg"}']))
    assert err.key == "hands" and "missing" in str(err)
    line = {"file_name": "a.jpg", "hands": {"Right": _line()["hands"]["right"]}}
    err = _error(_write_lines(tmp_path / "q.jsonl", [json.dumps(line)]))
    assert err.key == "hands.Right" and "unexpected key" in str(err)


def test_required_joints_for_an_evaluation(tmp_path):
    line = _line("a.jpg")
    del line["hands"]["left"]["joints_3d"]
    path = _write_lines(tmp_path / "p.jsonl", [json.dumps(line)])
    assert len(read_predictions(path)) == 1  # fine as a file
    err = _error(path, require=("joints_3d",))
    assert (err.line, err.key) == (1, "hands.left.joints_3d")


def test_empty_and_missing_files(tmp_path):
    err = _error(_write_lines(tmp_path / "p.jsonl", ["", "  "]))
    assert "empty" in str(err)
    assert "not found" in str(_error(tmp_path / "nothing.jsonl"))


def test_blank_lines_are_skipped_but_counted(tmp_path):
    lines = ["", json.dumps(_line("a.jpg")), "", json.dumps(_line("a.jpg"))]
    err = _error(_write_lines(tmp_path / "p.jsonl", lines))
    assert err.line == 4  # line numbers are those of the file, blank lines included


# --- the resumable writer ---------------------------------------------------------


def _names(path: Path) -> list[str]:
    return [p.file_name for p in read_predictions(path)]


def test_writer_file_appears_only_when_the_run_ends(tmp_path):
    path = tmp_path / "p.jsonl"
    with PredictionsWriter(path) as writer:
        writer.write(ImagePrediction("a.png", {"right": _hand()}))
        assert not path.exists() and len(writer) == 1
        assert json.loads(partial_path(path).read_text())["file_name"] == "a.png"  # flushed
        with pytest.raises(ValueError, match="written twice"):
            writer.write(ImagePrediction("a.png", {}))
    assert _names(path) == ["a.png"] and not partial_path(path).exists()
    expected = ImagePrediction("a.png", {"right": _hand()}).to_json()
    assert read_predictions(path)[0].to_json() == expected


def test_writer_error_keeps_the_partial_and_resume_continues_after_a_cut_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"file_name": "old.png", "hands": {}}\n')
    with pytest.raises(RuntimeError), PredictionsWriter(path) as writer:
        writer.write(ImagePrediction("a.png", {"right": _hand()}))
        writer.write(ImagePrediction("b.png", {}))
        raise RuntimeError("killed")
    assert path.read_text() == '{"file_name": "old.png", "hands": {}}\n'  # untouched
    kept = partial_path(path).read_bytes()
    with partial_path(path).open("a") as stream:
        stream.write('{"file_name": "c.png", "ha')  # cut short by the interruption
    with PredictionsWriter(path, resume=True) as writer:
        assert writer.done == {"a.png", "b.png"} and writer.kept == 2
        assert partial_path(path).read_bytes() == kept  # the cut line is gone
        writer.write(ImagePrediction("c.png", {}))
    assert _names(path) == ["a.png", "b.png", "c.png"]
    assert path.read_bytes().startswith(kept)  # kept lines byte for byte


def test_writer_from_a_finished_file_or_afresh(tmp_path):
    path = tmp_path / "p.jsonl"
    write_predictions(path, [ImagePrediction("a.png", {}), ImagePrediction("b.png", {})])
    with pytest.raises(KeyError), PredictionsWriter(path, resume=True) as writer:
        assert writer.done == {"a.png", "b.png"}
        raise KeyError("stopped before a new line")
    assert not partial_path(path).exists()  # it held nothing the finished file lacks
    with PredictionsWriter(path, resume=True) as writer:
        writer.write(ImagePrediction("c.png", {}))
    assert _names(path) == ["a.png", "b.png", "c.png"]
    with PredictionsWriter(path) as writer:  # no resume: afresh
        assert not writer.done
        writer.write(ImagePrediction("d.png", {}))
    assert _names(path) == ["d.png"]


def test_writer_refuses_a_broken_or_repeated_line(tmp_path):
    path = tmp_path / "p.jsonl"
    good = '{"file_name": "a.jpg", "hands": {}}'
    for lines, match in (
        ([good, "not json", good.replace("a.jpg", "b.jpg")], "line 2: malformed JSON"),
        ([good, '{"file_name": "b.jpg"}'], "line 2, key 'hands': is missing"),
        ([good, good], "line 2, key 'file_name': 'a.jpg' already on line 1"),
    ):
        partial = _write_lines(partial_path(path), lines)
        before = partial.read_bytes()
        with pytest.raises(PredictionsError, match=match) as info:
            PredictionsWriter(path, resume=True).__enter__()
        assert "fix or delete it" in str(info.value) and str(partial) in str(info.value)
        assert partial.read_bytes() == before  # nothing dropped
        partial.unlink()
    _write_lines(path, [good, "not json"])  # a finished file: no half-made .partial left
    with pytest.raises(PredictionsError, match="line 2"):
        PredictionsWriter(path, resume=True).__enter__()
    assert not partial_path(path).exists()


def test_writer_error_before_any_line_leaves_no_partial(tmp_path):
    path = tmp_path / "p.jsonl"
    with pytest.raises(KeyError), PredictionsWriter(path):
        raise KeyError("nothing done")
    assert not partial_path(path).exists() and not path.exists()
