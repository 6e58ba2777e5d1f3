"""Loading pickles from users' files without letting them run code.

A pickle names the callables that rebuild its objects; :class:`RestrictedUnpickler`
resolves only the names in an explicit allow-list and refuses every other one with
:class:`UnsafePickleError`, naming the file and the class. Pickles written by
Python 2 are read with ``encoding="latin1"`` (their byte strings become ``str``,
which numpy accepts when it rebuilds an array).
"""

from __future__ import annotations

import codecs
import copyreg
import io
import os
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle referenced a class or function outside the allow-list."""


def _numpy_global(module: str, name: str) -> Any:
    """Resolve a numpy internal that moved from ``numpy.core`` to ``numpy._core`` in numpy 2."""
    for candidate in (module.replace("numpy.core", "numpy._core"), module):
        try:
            return getattr(__import__(candidate, fromlist=[name]), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"numpy has no {module}.{name}")


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` as Python 3 protocol-2 pickles use it for ``bytes`` (latin-1 only)."""
    if codecs.lookup(encoding).name != "iso8859-1" or not isinstance(text, str):
        raise UnsafePickleError(f"_codecs.encode with {encoding!r} is not allowed")
    return text.encode("latin1")


def _numpy_globals() -> dict[tuple[str, str], Any]:
    reconstruct = _numpy_global("numpy.core.multiarray", "_reconstruct")
    scalar = _numpy_global("numpy.core.multiarray", "scalar")
    frombuffer = _numpy_global("numpy.core.numeric", "_frombuffer")
    table: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
    }
    for prefix in ("numpy.core", "numpy._core"):
        table[(f"{prefix}.multiarray", "_reconstruct")] = reconstruct
        table[(f"{prefix}.multiarray", "scalar")] = scalar
        table[(f"{prefix}.numeric", "_frombuffer")] = frombuffer
    return table


#: What it takes to rebuild numpy arrays, dtypes and scalars (numpy 1 and 2 spellings),
#: and ``bytes`` as Python 3 writes them with protocol 2.
NUMPY_GLOBALS: Mapping[tuple[str, str], Any] = _numpy_globals()


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the ``(module, name)`` pairs in ``allowed``.

    ``allowed`` maps a pair as the pickle spells it (Python 2 names such as
    ``__builtin__`` included) to the object to use; that object may be a stub class
    that only captures state. ``copy_reg._reconstructor`` (protocols 0 and 1) is
    honoured for allowed classes only.
    """

    def __init__(
        self,
        file: BinaryIO,
        allowed: Mapping[tuple[str, str], Any],
        source: str,
        encoding: str = "latin1",
        expected: str = "numpy arrays",
    ) -> None:
        super().__init__(file, encoding=encoding)
        self._allowed = dict(allowed)
        self._source = source
        self._expected = expected
        reconstructor = self._reconstructor
        self._allowed[("copy_reg", "_reconstructor")] = reconstructor
        self._allowed[("copyreg", "_reconstructor")] = reconstructor
        self._allowed.setdefault(("__builtin__", "object"), object)
        self._allowed.setdefault(("builtins", "object"), object)

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self._source}: refusing to load {module}.{name} (this file may only "
                f"contain {self._expected}; nothing else is unpickled)"
            ) from None

    def _reconstructor(self, cls: type, base: type, state: Any) -> Any:
        allowed_classes = {v for v in self._allowed.values() if isinstance(v, type)}
        if cls not in allowed_classes or base is not object:
            raise UnsafePickleError(
                f"{self._source}: refusing to reconstruct {getattr(cls, '__name__', cls)!r} "
                f"from {getattr(base, '__name__', base)!r}"
            )
        return copyreg._reconstructor(cls, base, state)  # type: ignore[attr-defined]


def restricted_loads(
    data: bytes,
    allowed: Mapping[tuple[str, str], Any],
    source: str,
    encoding: str = "latin1",
    expected: str = "numpy arrays",
) -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler`; ``source`` names it in errors."""
    try:
        return RestrictedUnpickler(io.BytesIO(data), allowed, source, encoding, expected).load()
    except UnsafePickleError as exc:
        if str(exc).startswith(f"{source}: "):
            raise
        raise UnsafePickleError(f"{source}: {exc}") from exc
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise pickle.UnpicklingError(f"{source}: not a readable pickle ({exc})") from exc


def restricted_load(
    path: str | os.PathLike[str],
    allowed: Mapping[tuple[str, str], Any],
    encoding: str = "latin1",
    expected: str = "numpy arrays",
) -> Any:
    """Unpickle the file at ``path`` with :class:`RestrictedUnpickler`."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    return restricted_loads(p.read_bytes(), allowed, str(p), encoding, expected)


def load_npy_objects(
    path: str | os.PathLike[str], allowed: Mapping[tuple[str, str], Any] = NUMPY_GLOBALS
) -> np.ndarray:
    """Read a ``.npy`` file, object arrays included, without ``allow_pickle=True``.

    Plain arrays are read by numpy; the pickled payload of an object array goes
    through :class:`RestrictedUnpickler` with ``allowed`` (numpy types by default).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    readers: dict[tuple[int, int], Callable[[BinaryIO], tuple[Any, bool, Any]]] = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }
    with p.open("rb") as f:
        try:
            version = np.lib.format.read_magic(f)
        except ValueError as exc:
            raise ValueError(f"{p}: not a .npy file ({exc})") from exc
        if version not in readers:
            raise ValueError(f"{p}: unsupported .npy format version {version}")
        shape, _, dtype = readers[version](f)
        if not dtype.hasobject:
            f.seek(0)
            return np.load(f, allow_pickle=False)
        array = restricted_loads(f.read(), allowed, str(p), encoding="latin1")
    if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
        raise ValueError(
            f"{p}: the pickled payload is not the {tuple(shape)} array the header says"
        )
    return array
