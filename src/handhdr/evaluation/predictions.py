"""The predictions file: JSON Lines, one object per image, read and written here.

Every producer writes it with :func:`write_predictions` or, line by line and
resumably, :class:`PredictionsWriter` (the demo, ``handhdr predict``, ``handhdr eval
--pipeline``), and ``handhdr eval`` reads it with
:func:`iter_predictions`. One line looks like::

    {"file_name": "Capture0/ROM01/cam400262/image0001.jpg",
     "hands": {"right": {"joints_3d": [[x, y, z], ...21], "joints_2d": [[u, v], ...21],
                         "score": 0.97},
               "left": {...}}}

``joints_3d`` are millimetres in the InterHand2.6M per-hand order, relative to the
hand's wrist unless the line says ``"joints_3d_frame": "camera"``; ``joints_2d`` are
image pixels; ``"hands": {}`` means no hand was found. The JSON Schema
``handhdr/schemas/predictions.schema.json`` is the reference; ``docs/predictions.md``
documents it for users.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Literal

import numpy as np

from handhdr.joints import HANDS, NUM_HAND_JOINTS

JointsFrame = Literal["root_relative", "camera"]
JOINTS_FRAMES: tuple[str, str] = ("root_relative", "camera")
HandKey = Literal["joints_3d", "joints_2d"]
DEFAULT_DECIMALS = 4  # written precision: 0.1 micrometre, 1e-4 pixel


class PredictionsError(ValueError):
    """A predictions file that cannot be used; names the file, the line and the key."""

    def __init__(
        self, path: str | os.PathLike[str], line: int | None, key: str | None, problem: str
    ):
        self.path = str(path)
        self.line = line
        self.key = key
        self.problem = problem
        where = self.path
        if line is not None:
            where += f", line {line}"
        if key is not None:
            where += f", key '{key}'"
        super().__init__(f"{where}: {problem}")


@functools.cache
def predictions_schema() -> dict[str, Any]:
    """The JSON Schema of one predictions line (shipped as package data)."""
    text = resources.files("handhdr").joinpath("schemas/predictions.schema.json").read_text("utf-8")
    return json.loads(text)


@functools.cache
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(predictions_schema())


def _as_points(value: Any, dims: int, what: str) -> np.ndarray:
    points = np.array(value, dtype=np.float64)
    if points.shape != (NUM_HAND_JOINTS, dims):
        raise ValueError(f"{what} must have shape ({NUM_HAND_JOINTS}, {dims}), got {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError(f"{what} holds NaN or infinite values")
    return points


@dataclass
class HandPrediction:
    """One predicted hand: joints in the InterHand2.6M per-hand order.

    ``joints_3d``: ``(21, 3)`` mm (root-relative or camera frame, as the image's line
    says); ``joints_2d``: ``(21, 2)`` image pixels; ``score``: confidence in [0, 1];
    ``box``: ``(x, y, w, h)`` pixels; ``joint_visible``: ``(21,)`` bool, whether each
    joint lies inside the hand's visible mask. At least one of the joint arrays.
    """

    joints_3d: np.ndarray | None = None
    joints_2d: np.ndarray | None = None
    score: float | None = None
    box: tuple[float, float, float, float] | None = None
    joint_visible: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.joints_3d is None and self.joints_2d is None:
            raise ValueError("a hand needs joints_3d or joints_2d")
        if self.joints_3d is not None:
            self.joints_3d = _as_points(self.joints_3d, 3, "joints_3d")
        if self.joints_2d is not None:
            self.joints_2d = _as_points(self.joints_2d, 2, "joints_2d")
        if self.score is not None:
            self.score = float(self.score)
            if not 0.0 <= self.score <= 1.0:
                raise ValueError(f"score must lie in [0, 1], got {self.score}")
        if self.box is not None:
            box = tuple(float(v) for v in self.box)
            if len(box) != 4 or not all(math.isfinite(v) for v in box) or min(box[2:]) < 0:
                raise ValueError(f"box must be finite (x, y, w, h) with w, h >= 0, got {box}")
            self.box = box  # type: ignore[assignment]
        if self.joint_visible is not None:
            visible = np.asarray(self.joint_visible, dtype=bool)
            if visible.shape != (NUM_HAND_JOINTS,):
                raise ValueError(f"joint_visible must have shape (21,), got {visible.shape}")
            self.joint_visible = visible

    def to_json(self, decimals: int | None = DEFAULT_DECIMALS) -> dict[str, Any]:
        """The hand as a JSON object, floats rounded to ``decimals`` (None: exact)."""

        def numbers(values: Any) -> Any:
            array = np.asarray(values, dtype=np.float64)
            return (array if decimals is None else np.round(array, decimals)).tolist()

        out: dict[str, Any] = {}
        if self.joints_3d is not None:
            out["joints_3d"] = numbers(self.joints_3d)
        if self.joints_2d is not None:
            out["joints_2d"] = numbers(self.joints_2d)
        if self.score is not None:
            out["score"] = numbers(self.score)
        if self.box is not None:
            out["box"] = numbers(self.box)
        if self.joint_visible is not None:
            out["joint_visible"] = self.joint_visible.tolist()
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> HandPrediction:
        """Build from a schema-valid JSON object."""
        box = obj.get("box")
        return cls(
            joints_3d=obj.get("joints_3d"),  # type: ignore[arg-type]
            joints_2d=obj.get("joints_2d"),  # type: ignore[arg-type]
            score=obj.get("score"),
            box=tuple(box) if box is not None else None,  # type: ignore[arg-type]
            joint_visible=obj.get("joint_visible"),  # type: ignore[arg-type]
        )


@dataclass
class ImagePrediction:
    """Everything predicted for one image: one line of the predictions file.

    ``hands`` maps ``"right"``/``"left"`` to a :class:`HandPrediction` (empty when no
    hand was found). ``joints_3d_frame`` says whether ``joints_3d`` are relative to each
    hand's wrist (``"root_relative"``) or in camera coordinates (``"camera"``).
    """

    file_name: str
    hands: dict[str, HandPrediction] = field(default_factory=dict)
    joints_3d_frame: JointsFrame = "root_relative"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = self.file_name
        if not isinstance(name, str) or not name or name.startswith("/") or "\\" in name:
            raise ValueError(
                f"file_name must be a relative POSIX path (forward slashes), got {name!r}"
            )
        unknown = set(self.hands) - set(HANDS)
        if unknown:
            raise ValueError(f"hands must be keyed 'right'/'left', got {sorted(unknown)}")
        for hand in self.hands.values():
            if not isinstance(hand, HandPrediction):
                raise TypeError(f"hands values must be HandPrediction, got {type(hand).__name__}")
        if self.joints_3d_frame not in JOINTS_FRAMES:
            raise ValueError(
                f"joints_3d_frame must be one of {JOINTS_FRAMES}, got {self.joints_3d_frame!r}"
            )

    def to_json(self, decimals: int | None = DEFAULT_DECIMALS) -> dict[str, Any]:
        """The line as a JSON object (right hand first, then left)."""
        out: dict[str, Any] = {"file_name": self.file_name}
        if self.joints_3d_frame != "root_relative":
            out["joints_3d_frame"] = self.joints_3d_frame
        out["hands"] = {h: self.hands[h].to_json(decimals) for h in HANDS if h in self.hands}
        if self.meta:
            out["meta"] = self.meta
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ImagePrediction:
        """Build from a schema-valid JSON object."""
        return cls(
            file_name=obj["file_name"],
            hands={h: HandPrediction.from_json(v) for h, v in obj["hands"].items()},
            joints_3d_frame=obj.get("joints_3d_frame", "root_relative"),
            meta=dict(obj.get("meta", {})),
        )


# --- reading ----------------------------------------------------------------------


def _key(path: Iterable[Any]) -> str:
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string"}.get(type(value), type(value).__name__)


def _describe(error: Any) -> tuple[str, str]:
    """(key, problem) in words for a jsonschema error, without echoing large arrays."""
    path = list(error.absolute_path)
    kind, value = error.validator, error.instance
    if kind == "required":
        missing = error.message.split("'")[1]
        return _key([*path, missing]), "is missing (required)"
    if kind in ("minItems", "maxItems"):
        expected = error.schema.get("minItems", error.validator_value)
        return _key(path), f"expected {expected} items, got {len(value)}"
    if kind == "type":
        return _key(path), f"expected {error.validator_value}, got {_json_type(value)}"
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unexpected = sorted(set(value) - set(allowed))
        return _key([*path, unexpected[0]]), f"unexpected key; allowed here: {allowed}"
    if kind == "anyOf" and path and path[-1] in HANDS:
        return _key(path), "a hand needs 'joints_3d' or 'joints_2d'"
    if kind == "pattern":
        return _key(path), f"expected a relative POSIX path (forward slashes), got {value!r}"
    return _key(path), error.message


def _check_finite(obj: dict[str, Any]) -> tuple[str, str] | None:
    """(key, problem) of the first NaN or infinite number of a schema-valid line."""
    for hand, hand_obj in obj["hands"].items():
        for name in ("joints_3d", "joints_2d", "box", "score"):
            value = hand_obj.get(name)
            if value is None:
                continue
            bad = ~np.isfinite(np.asarray(value, dtype=np.float64))
            if bad.any():
                where = [int(i) for i in np.argwhere(bad)[0]]
                return _key(["hands", hand, name, *where]), "NaN or infinite value"
    return None


_LINE_KEYS = frozenset({"file_name", "joints_3d_frame", "hands", "meta"})
_HAND_KEYS = frozenset({"joints_3d", "joints_2d", "score", "box", "joint_visible"})
_NUMBER_TYPES = frozenset({int, float})  # what json.loads makes of JSON numbers (not bool)


def _is_number(value: Any) -> bool:
    return type(value) in _NUMBER_TYPES


def _is_points(value: Any, dims: int) -> bool:
    if type(value) is not list or len(value) != NUM_HAND_JOINTS:
        return False
    for point in value:
        if type(point) is not list or len(point) != dims:
            return False
        for v in point:
            if type(v) not in _NUMBER_TYPES:
                return False
    return True


def _is_hand(hand: Any) -> bool:
    if type(hand) is not dict or not hand.keys() <= _HAND_KEYS:
        return False
    if "joints_3d" not in hand and "joints_2d" not in hand:
        return False
    if "joints_3d" in hand and not _is_points(hand["joints_3d"], 3):
        return False
    if "joints_2d" in hand and not _is_points(hand["joints_2d"], 2):
        return False
    if "score" in hand:
        score = hand["score"]
        if not _is_number(score) or score < 0 or score > 1:
            return False
    if "box" in hand:
        box = hand["box"]
        if type(box) is not list or len(box) != 4 or not all(_is_number(v) for v in box):
            return False
        if box[2] < 0 or box[3] < 0:
            return False
    if "joint_visible" in hand:
        visible = hand["joint_visible"]
        if type(visible) is not list or len(visible) != NUM_HAND_JOINTS:
            return False
        if not all(type(v) is bool for v in visible):
            return False
    return True


@functools.cache
def _file_name_pattern() -> re.Pattern[str]:
    return re.compile(predictions_schema()["properties"]["file_name"]["pattern"])


def conforms(obj: Any) -> bool:
    """Fast check that ``obj`` satisfies the schema (a full jsonschema pass costs ~6 ms).

    Equivalent to the JSON Schema validation (tested against it); the schema itself
    is only run to describe a line this check rejects.
    """
    if type(obj) is not dict or not obj.keys() <= _LINE_KEYS:
        return False
    name, hands = obj.get("file_name"), obj.get("hands")
    if type(name) is not str or not name or not _file_name_pattern().search(name):
        return False
    if "joints_3d_frame" in obj and obj["joints_3d_frame"] not in JOINTS_FRAMES:
        return False
    if "meta" in obj and type(obj["meta"]) is not dict:
        return False
    if type(hands) is not dict or not hands.keys() <= set(HANDS):
        return False
    return all(_is_hand(hand) for hand in hands.values())


def _parse_line(text: str, path: Path, line_no: int, require: Sequence[HandKey]) -> ImagePrediction:
    try:
        obj = json.loads(text, parse_constant=float)
    except json.JSONDecodeError as err:
        problem = f"malformed JSON ({err.msg}, column {err.colno})"
        raise PredictionsError(path, line_no, None, problem) from None
    if not conforms(obj):
        from jsonschema.exceptions import best_match

        error = best_match(_validator().iter_errors(obj))
        if error is not None:
            key, problem = _describe(error)
            raise PredictionsError(path, line_no, key or None, problem)
    for hand, hand_obj in obj["hands"].items():
        for key in require:
            if key not in hand_obj:
                problem = "is missing (this evaluation needs it)"
                raise PredictionsError(path, line_no, f"hands.{hand}.{key}", problem)
    try:
        return ImagePrediction.from_json(obj)
    except ValueError as err:  # the schema allows NaN and infinity; we do not
        key, problem = _check_finite(obj) or (None, str(err))
        raise PredictionsError(path, line_no, key, problem) from None


def iter_predictions(
    path: str | os.PathLike[str], require: Sequence[HandKey] = ()
) -> Iterator[ImagePrediction]:
    """Read and validate a predictions file line by line.

    Each line is checked against the JSON Schema, for finite numbers, for a file name
    not seen on an earlier line, and for every key in ``require`` (e.g. ``"joints_3d"``
    for a 3D evaluation) being present in every hand. Blank lines are skipped. Raises
    :class:`PredictionsError` naming the file, the line and the key; an empty file or a
    missing file is an error too.
    """
    path = Path(path)
    if not path.is_file():
        raise PredictionsError(path, None, None, "predictions file not found")
    seen: dict[str, int] = {}
    with path.open("r", encoding="utf-8") as stream:
        for line_no, text in enumerate(stream, start=1):
            if not text.strip():
                continue
            prediction = _parse_line(text, path, line_no, require)
            name = prediction.file_name
            if name in seen:
                problem = f"{name!r} already predicted on line {seen[name]}"
                raise PredictionsError(path, line_no, "file_name", problem)
            seen[name] = line_no
            yield prediction
    if not seen:
        raise PredictionsError(path, None, None, "the predictions file is empty (no lines)")


def read_predictions(
    path: str | os.PathLike[str], require: Sequence[HandKey] = ()
) -> list[ImagePrediction]:
    """All lines of a predictions file (see :func:`iter_predictions`)."""
    return list(iter_predictions(path, require))


# --- writing ----------------------------------------------------------------------


def _line_text(prediction: ImagePrediction, decimals: int | None) -> str:
    """One line of the file, newline included: compact JSON, no NaN."""
    obj = prediction.to_json(decimals)
    return json.dumps(obj, allow_nan=False, separators=(",", ":")) + "\n"


def write_predictions(
    path: str | os.PathLike[str],
    predictions: Iterable[ImagePrediction],
    decimals: int | None = DEFAULT_DECIMALS,
) -> int:
    """Write a whole predictions file atomically; returns the number of lines."""
    with PredictionsWriter(path, decimals=decimals) as writer:
        for prediction in predictions:
            writer.write(prediction)
        return len(writer)


def partial_path(path: str | os.PathLike[str]) -> Path:
    """Where :class:`PredictionsWriter` keeps the lines of an unfinished run: ``<file>.partial``."""
    path = Path(path)
    return path.with_name(path.name + ".partial")


class PredictionsWriter:
    """Write a predictions file: line by line, atomic per run, resumable.

    * Lines go to ``<file>.partial`` (:func:`partial_path`), each flushed as it is
      written, so an interruption loses at most the line being written.
    * When the ``with`` block ends without an error, the ``.partial`` is renamed onto
      ``<file>`` (atomic): ``<file>`` only ever holds a whole run's lines.
    * On an error (Ctrl-C included) ``<file>`` is left as it was and the ``.partial``
      stays for a resume; it is removed when it holds nothing ``<file>`` does not.
    * ``resume=True`` keeps the lines of the ``.partial`` or, without one, those of a
      finished ``<file>`` (e.g. new images added to a folder); :attr:`done` names
      their images. A last line cut short by an interruption (no newline) is dropped;
      any other invalid or repeated line is a :class:`PredictionsError` naming the file
      and line (nothing is dropped silently). Kept lines are copied byte for byte.
    * Without ``resume`` the run starts afresh (an old ``.partial`` is discarded).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        resume: bool = False,
        decimals: int | None = DEFAULT_DECIMALS,
    ) -> None:
        self.path = Path(path)
        self.partial = partial_path(self.path)
        self.resume = resume
        self.decimals = decimals
        self.done: set[str] = set()  # file names with a line (kept or new)
        self.kept = 0  # lines kept from an earlier run
        self.written = 0  # lines written by this run
        self._from_partial = False
        self._stream: BinaryIO | None = None

    def _keep_lines(self, source: Path, copy_to: BinaryIO | None) -> int:
        """Check the complete lines of ``source``, note their images and copy them to
        ``copy_to`` (None: they stay where they are); the byte length of those lines."""
        hint = "cannot resume from this file: fix or delete it"
        seen: dict[str, int] = {}
        end = 0
        with source.open("rb") as stream:
            for line_no, raw in enumerate(stream, start=1):
                if not raw.endswith(b"\n"):
                    break  # the last line, cut short by an interruption
                end += len(raw)
                if not raw.strip():
                    continue
                try:
                    name = _parse_line(raw.decode("utf-8"), source, line_no, ()).file_name
                except UnicodeDecodeError:
                    raise PredictionsError(source, line_no, None, f"not UTF-8; {hint}") from None
                except PredictionsError as err:
                    raise PredictionsError(
                        err.path, err.line, err.key, f"{err.problem}; {hint}"
                    ) from None
                if name in seen:
                    problem = f"{name!r} already on line {seen[name]}; {hint}"
                    raise PredictionsError(source, line_no, "file_name", problem)
                seen[name] = line_no
                if copy_to is not None:
                    copy_to.write(raw)
        self.done.update(seen)
        self.kept = len(seen)
        return end

    def __enter__(self) -> PredictionsWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.resume and self.partial.is_file():
            end = self._keep_lines(self.partial, None)
            with self.partial.open("r+b") as stream:
                stream.truncate(end)  # drop a line cut short
            self._from_partial = True
            self._stream = self.partial.open("ab")
            return self
        self._stream = self.partial.open("wb")
        if self.resume and self.path.is_file():
            try:
                self._keep_lines(self.path, self._stream)
            except BaseException:
                self._stream.close()
                self._stream = None
                self.partial.unlink(missing_ok=True)
                raise
            self._stream.flush()
        return self

    def write(self, prediction: ImagePrediction) -> None:
        """Append one image's line (each file name once) and flush it."""
        if self._stream is None:
            raise RuntimeError("PredictionsWriter must be used as a context manager")
        if prediction.file_name in self.done:
            raise ValueError(f"{self.path}: {prediction.file_name!r} written twice")
        self._stream.write(_line_text(prediction, self.decimals).encode("utf-8"))
        self._stream.flush()
        self.done.add(prediction.file_name)
        self.written += 1

    def __len__(self) -> int:
        return len(self.done)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stream is None:
            return
        self._stream.flush()
        os.fsync(self._stream.fileno())
        self._stream.close()
        self._stream = None
        if exc_type is None:
            os.replace(self.partial, self.path)  # atomic, like handhdr.io.atomic_path
        elif not self.written and not (self._from_partial and self.kept):
            self.partial.unlink(missing_ok=True)  # nothing that <file> does not hold
