"""Official MANO model files (``MANO_RIGHT`` / ``MANO_LEFT``, ``.pkl`` or ``.npz``).

MANO cannot be shipped (its licence needs registration); a user who has it points
handhdr at the files and gets a :class:`~handhdr.hand.model_data.HandModelData`
that the same forward function and renderer use as the built-in hand.

The official ``.pkl`` files are Python 2 pickles of a dict: ``v_template`` (778, 3),
``f`` (1538, 3), ``J_regressor`` (16, 778, a ``scipy.sparse`` CSC matrix),
``weights`` (778, 16), ``posedirs`` (778, 3, 135), ``shapedirs`` (778, 3, 10, a
``chumpy`` ``Ch`` object), ``kintree_table`` (2, 16), ``J`` (16, 3),
``hands_components`` (45, 45), ``hands_coeffs`` (1554, 45), ``hands_mean`` (45,),
``bs_style`` ``"lbs"``, ``bs_type`` ``"lrotmin"``. They are read through a
restricted unpickler: numpy arrays are rebuilt, ``chumpy.ch.Ch`` and the sparse
matrix are replaced by stubs that only keep their arrays, and anything else is
refused. Neither chumpy nor scipy is imported.

Left-hand ``shapedirs`` fix (DESIGN.md section 3; smplx issue #48): the official
left model ships the right model's ``shapedirs`` unmirrored, so the same betas give
a different hand shape; ``shapedirs[:, 0, :] *= -1`` mirrors them. It is applied
exactly once:

* loading a ``.pkl`` always applies it to a left model (the official files are raw);
* :func:`convert_mano_pkl` writes the ``.npz`` with the fix already applied and the
  flag ``left_shapedirs_fixed = True``; loading such a ``.npz`` does not apply it again;
* a ``.npz`` without that flag (e.g. one written by another tool from the official
  ``.pkl``) is treated as raw official data, so the fix is applied to a left model.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from handhdr.hand.model_data import NUM_BODY_JOINTS, HandModelData
from handhdr.io.atomic import atomic_path
from handhdr.io.restricted_pickle import NUMPY_GLOBALS, restricted_load
from handhdr.joints import MANO_PARENTS

NUM_MANO_VERTICES = 778

#: Fingertip vertices of the official MANO mesh, thumb, index, middle, ring, pinky:
#: the set ``smplx`` ships as ``vertex_ids["mano"]`` (also used by HaMeR and HOT3D).
#: InterHand2.6M's own MANO code uses a neighbouring set, :data:`INTERHAND_TIP_VERTEX_IDS`;
#: the two lie within a few millimetres of each other on the fingertip.
MANO_TIP_VERTEX_IDS: tuple[int, int, int, int, int] = (744, 320, 443, 554, 671)
INTERHAND_TIP_VERTEX_IDS: tuple[int, int, int, int, int] = (745, 317, 444, 556, 673)

#: Arrays every MANO file must have, and the ones we keep when converting.
REQUIRED_KEYS: tuple[str, ...] = (
    "v_template",
    "f",
    "J_regressor",
    "weights",
    "posedirs",
    "shapedirs",
    "kintree_table",
    "hands_mean",
)
OPTIONAL_KEYS: tuple[str, ...] = ("J", "hands_components", "hands_coeffs")
TEXT_KEYS: tuple[str, ...] = ("bs_style", "bs_type")
FIX_FLAG = "left_shapedirs_fixed"


class ManoFileError(ValueError):
    """A MANO file is missing a field or holds one of the wrong shape or type."""


class _ChumpyArray:
    """Stands in for ``chumpy.ch.Ch``: keeps the pickled state; the array is ``x``."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise TypeError(f"chumpy.ch.Ch state must be a dict, got {type(state).__name__}")
        self.state = state

    def to_array(self, source: str, key: str) -> np.ndarray:
        state = getattr(self, "state", {})
        if "x" not in state:
            raise ManoFileError(f"{source}: {key} is a chumpy object without an 'x' array")
        return np.asarray(state["x"])


class _CscMatrix:
    """Stands in for ``scipy.sparse`` CSC matrices: keeps data/indices/indptr/shape."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise TypeError(f"csc_matrix state must be a dict, got {type(state).__name__}")
        self.state = state

    def to_array(self, source: str, key: str) -> np.ndarray:
        state = getattr(self, "state", {})
        shape = state.get("_shape", state.get("shape"))
        try:
            data = np.asarray(state["data"], dtype=np.float64)
            rows = np.asarray(state["indices"], dtype=np.int64)
            indptr = np.asarray(state["indptr"], dtype=np.int64)
            n_rows, n_cols = (int(v) for v in shape)
        except (KeyError, TypeError, ValueError) as exc:
            raise ManoFileError(
                f"{source}: {key} is not a valid CSC sparse matrix ({exc})"
            ) from exc
        if (
            indptr.shape != (n_cols + 1,)
            or indptr[-1] != data.size
            or rows.shape != data.shape
            or np.any(np.diff(indptr) < 0)
            or (rows.size and (rows.min() < 0 or rows.max() >= n_rows))
        ):
            raise ManoFileError(f"{source}: {key} has inconsistent CSC index arrays")
        dense = np.zeros((n_rows, n_cols), dtype=np.float64)
        cols = np.repeat(np.arange(n_cols), np.diff(indptr))
        np.add.at(dense, (rows, cols), data)
        return dense


def _mano_globals() -> dict[tuple[str, str], Any]:
    table = dict(NUMPY_GLOBALS)
    table[("chumpy.ch", "Ch")] = _ChumpyArray
    for module in ("scipy.sparse.csc", "scipy.sparse._csc"):
        table[(module, "csc_matrix")] = _CscMatrix
    for module in ("__builtin__", "builtins"):  # chumpy keeps a set of dirty variables
        table[(module, "set")] = set
    return table


def read_mano_pkl(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The official ``.pkl`` as a dict of numpy arrays (and the ``bs_*`` strings), raw."""
    p = Path(path)
    raw = restricted_load(
        p, _mano_globals(), expected="numpy arrays, chumpy.ch.Ch and scipy CSC matrices"
    )
    if not isinstance(raw, dict):
        raise ManoFileError(
            f"{p}: expected a pickled dict of MANO arrays, got {type(raw).__name__}"
        )
    model: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, (_ChumpyArray, _CscMatrix)):
            value = value.to_array(str(p), key)
        model[str(key)] = value
    return model


def read_mano_npz(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A MANO ``.npz`` (ours or the same keys from another tool) as a dict, no pickle."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    try:
        with np.load(p, allow_pickle=False) as data:
            model = {key: data[key] for key in data.files}
    except ValueError as exc:
        raise ManoFileError(f"{p}: not a MANO .npz of plain arrays ({exc})") from exc
    return model


def _numeric(model: dict[str, Any], key: str, source: str, shape: tuple[int | None, ...]) -> Any:
    if key not in model:
        raise ManoFileError(f"{source}: missing the MANO field {key!r}")
    value = np.asarray(model[key])
    if value.dtype.kind not in "biuf":
        raise ManoFileError(f"{source}: {key} must be numeric, got dtype {value.dtype}")
    if value.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(value.shape, shape, strict=True)
    ):
        expected = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise ManoFileError(f"{source}: {key} has shape {value.shape}, expected {expected}")
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        raise ManoFileError(f"{source}: {key} contains NaN or infinite values")
    return value


def _side_from_name(path: Path) -> str | None:
    match = re.search(r"(right|left)", path.stem, flags=re.IGNORECASE)
    return match.group(1).lower() if match else None


def _resolve_side(path: Path, model: dict[str, Any], side: str | None) -> str:
    stored = str(model["side"]) if "side" in model else None
    named = _side_from_name(path)
    if side is not None and side not in ("right", "left"):
        raise ValueError(f"side must be 'right' or 'left', got {side!r}")
    known = {s for s in (stored, side) if s is not None}
    if len(known) > 1:
        raise ManoFileError(f"{path}: the file says side={stored!r} but side={side!r} was asked")
    if known:
        return known.pop()
    if named is None:
        raise ManoFileError(
            f"{path}: cannot tell the hand side from the file name (expected MANO_RIGHT or "
            "MANO_LEFT); pass side='right' or side='left'"
        )
    return named


def _parents(kintree: np.ndarray, source: str) -> np.ndarray:
    """MANO's ``kintree_table`` row 0 (parent ids, root = -1 or 2**32 - 1) as int64."""
    parent_ids = kintree[0].astype(np.int64)
    joint_ids = kintree[1].astype(np.int64)
    if not np.array_equal(np.sort(joint_ids), np.arange(NUM_BODY_JOINTS)):
        raise ManoFileError(f"{source}: kintree_table row 1 must list joints 0..15")
    parents = np.empty(NUM_BODY_JOINTS, dtype=np.int64)
    parents[joint_ids] = np.where(parent_ids >= NUM_BODY_JOINTS, -1, parent_ids)
    if tuple(parents.tolist()) != MANO_PARENTS:
        raise ManoFileError(
            f"{source}: kintree_table parents {parents.tolist()} are not MANO's "
            f"{list(MANO_PARENTS)} (wrist, index, middle, pinky, ring, thumb)"
        )
    return parents


def _fix_left_shapedirs(shapedirs: np.ndarray) -> np.ndarray:
    fixed = np.array(shapedirs, copy=True)
    fixed[:, 0, :] *= -1
    return fixed


def _model_data(
    model: dict[str, Any],
    source: str,
    side: str,
    apply_left_fix: bool,
    tip_vertex_ids: tuple[int, ...],
) -> HandModelData:
    v = NUM_MANO_VERTICES
    v_template = _numeric(model, "v_template", source, (v, 3))
    shapedirs = _numeric(model, "shapedirs", source, (v, 3, None))
    if side == "left" and apply_left_fix:
        shapedirs = _fix_left_shapedirs(shapedirs)
    faces = _numeric(model, "f", source, (None, 3))
    tips = np.asarray(tip_vertex_ids, dtype=np.int64)
    if tips.shape != (5,) or tips.min() < 0 or tips.max() >= v:
        raise ValueError(f"tip_vertex_ids must be 5 vertex ids below {v}, got {tip_vertex_ids}")
    data = HandModelData(
        name="mano",
        side=side,
        v_template=v_template.astype(np.float32),
        faces=faces.astype(np.int64),
        j_regressor=_numeric(model, "J_regressor", source, (NUM_BODY_JOINTS, v)).astype(np.float32),
        skinning_weights=_numeric(model, "weights", source, (v, NUM_BODY_JOINTS)).astype(
            np.float32
        ),
        shapedirs=shapedirs.astype(np.float32),
        posedirs=_numeric(model, "posedirs", source, (v, 3, 9 * (NUM_BODY_JOINTS - 1))).astype(
            np.float32
        ),
        parents=_parents(_numeric(model, "kintree_table", source, (2, NUM_BODY_JOINTS)), source),
        tip_vertex_ids=tips,
        hands_mean=_numeric(model, "hands_mean", source, (3 * (NUM_BODY_JOINTS - 1),)).astype(
            np.float32
        ),
    )
    if faces.min() < 0 or faces.max() >= v:
        raise ManoFileError(f"{source}: f holds vertex ids outside 0..{v - 1}")
    data.validate()
    return data


def load_mano(
    path: str | os.PathLike[str],
    side: str | None = None,
    tip_vertex_ids: tuple[int, ...] = MANO_TIP_VERTEX_IDS,
) -> HandModelData:
    """Load an official MANO model (``.pkl`` or ``.npz``) as :class:`HandModelData`.

    ``side`` is taken from the file (our ``.npz`` stores it) or its name
    (``MANO_RIGHT`` / ``MANO_LEFT``); pass it when neither says. The left-hand
    ``shapedirs`` fix is applied exactly once (see the module docstring).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".pkl":
        model = read_mano_pkl(p)
        already_fixed = False
    elif suffix == ".npz":
        model = read_mano_npz(p)
        already_fixed = bool(np.asarray(model.get(FIX_FLAG, False)))
    else:
        raise ManoFileError(f"{p}: expected a MANO .pkl or .npz file")
    resolved = _resolve_side(p, model, side)
    return _model_data(model, str(p), resolved, not already_fixed, tip_vertex_ids)


def convert_mano_pkl(
    pkl: str | os.PathLike[str],
    npz: str | os.PathLike[str],
    side: str | None = None,
) -> dict[str, Any]:
    """Convert an official MANO ``.pkl`` to a pickle-free ``.npz``, atomically.

    The ``.npz`` keeps the pickle's keys as dense arrays, plus ``side`` and
    ``left_shapedirs_fixed`` (the left fix is baked in). Returns a short summary.
    """
    src, dst = Path(pkl), Path(npz)
    model = read_mano_pkl(src)
    resolved = _resolve_side(src, model, side)
    _model_data(model, str(src), resolved, True, MANO_TIP_VERTEX_IDS)  # validates every field
    arrays: dict[str, np.ndarray] = {}
    for key in REQUIRED_KEYS + OPTIONAL_KEYS:
        if key in model:
            arrays[key] = np.asarray(model[key])
    for key in TEXT_KEYS:
        if key in model:
            arrays[key] = np.asarray(str(model[key]))
    if resolved == "left":
        arrays["shapedirs"] = _fix_left_shapedirs(arrays["shapedirs"])
    arrays["side"] = np.asarray(resolved)
    arrays[FIX_FLAG] = np.asarray(True)
    with atomic_path(dst) as tmp, tmp.open("wb") as f:
        np.savez_compressed(f, **arrays)  # type: ignore[arg-type]
    return {
        "side": resolved,
        "vertices": int(arrays["v_template"].shape[0]),
        "faces": int(arrays["f"].shape[0]),
        "shape_coefficients": int(arrays["shapedirs"].shape[2]),
        "left_shapedirs_fixed": resolved == "left",
        "keys": sorted(arrays),
    }
