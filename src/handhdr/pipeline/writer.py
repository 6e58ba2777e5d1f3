"""A predictions writer for long runs: atomic per run, and resumable.

Lines go to ``<file>.partial`` as they are made (flushed one by one); when the run
ends without an error the finished file replaces ``<file>`` atomically, so a reader
never sees a half-written predictions file. After an interruption the ``.partial``
stays: the next run with ``resume=True`` keeps its complete lines (a torn last line
is dropped) and only predicts what is missing; without a ``.partial``, ``resume``
keeps the lines of an earlier finished ``<file>`` (e.g. new images added to a folder).
Without ``resume`` a run starts afresh.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import TextIO

from handhdr.evaluation.predictions import DEFAULT_DECIMALS, ImagePrediction, conforms
from handhdr.io import atomic_path


def partial_path(path: str | os.PathLike[str]) -> Path:
    """Where the lines of an unfinished run are kept."""
    path = Path(path)
    return path.with_name(path.name + ".partial")


def read_complete_lines(path: Path) -> list[ImagePrediction]:
    """The valid lines of an earlier (possibly interrupted) run, up to the first bad one."""
    out: list[ImagePrediction] = []
    seen: set[str] = set()
    with path.open("r", encoding="utf-8") as stream:
        for text in stream:
            if not text.endswith("\n"):
                break  # torn by the interruption
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
                if not conforms(obj):
                    break
                prediction = ImagePrediction.from_json(obj)
            except ValueError:
                break
            if prediction.file_name not in seen:
                seen.add(prediction.file_name)
                out.append(prediction)
    return out


class ResumableWriter:
    """Context manager writing a predictions file line by line (see the module doc)."""

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
        self._stream: TextIO | None = None

    def __enter__(self) -> ResumableWriter:
        earlier: list[ImagePrediction] = []
        if self.resume:
            for source in (self.partial, self.path):
                if source.is_file():
                    earlier = read_complete_lines(source)
                    break
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._stream = self.partial.open("w", encoding="utf-8")
        for prediction in earlier:
            self._write_line(prediction)
        self.kept = len(earlier)
        self._stream.flush()
        return self

    def _write_line(self, prediction: ImagePrediction) -> None:
        assert self._stream is not None
        line = json.dumps(prediction.to_json(self.decimals), allow_nan=False, separators=(",", ":"))
        self._stream.write(line + "\n")
        self.done.add(prediction.file_name)

    def write(self, prediction: ImagePrediction) -> None:
        """Append one image's line (each file name once)."""
        if self._stream is None:
            raise RuntimeError("ResumableWriter must be used as a context manager")
        if prediction.file_name in self.done:
            raise ValueError(f"{self.path}: {prediction.file_name!r} written twice")
        self._write_line(prediction)
        self._stream.flush()

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
            with atomic_path(self.path) as tmp:
                shutil.copyfile(self.partial, tmp)
            self.partial.unlink()
        elif not self.done:  # nothing worth resuming from
            self.partial.unlink(missing_ok=True)


__all__ = ["ResumableWriter", "partial_path", "read_complete_lines"]
