"""Official MANO loading, on MANO-format files that the tests write themselves.

The fake files have MANO's structure and shapes with random values, pickled as the
official Python 2 files are: protocol 2, ``chumpy.ch.Ch`` for ``shapedirs``, a
``scipy.sparse.csc.csc_matrix`` ``J_regressor`` (its state: ``_shape``, ``maxprint``,
``indices``, ``indptr``, ``data``), numpy arrays rebuilt by
``numpy.core.multiarray._reconstruct`` from latin-1 strings. Stand-in modules named
``chumpy.ch`` and ``scipy.sparse.csc`` make the pickles reference exactly those
classes, without needing chumpy or scipy.
"""

import pickle
import sys
import types

import numpy as np
import pytest

from handhdr.hand.mano import (
    FIX_FLAG,
    MANO_TIP_VERTEX_IDS,
    ManoFileError,
    convert_mano_pkl,
    load_mano,
    read_mano_pkl,
)
from handhdr.io.restricted_pickle import UnsafePickleError, restricted_loads
from handhdr.joints import INTERHAND_NAMES, MANO_PARENTS

V, F, J = 778, 1538, 16


class _Py2StylePickler(pickle.Pickler):
    """Writes ndarrays as Python 2 numpy did (raw data as a latin-1 string, no bytes)."""

    def reducer_override(self, obj):
        if type(obj) is np.ndarray:
            _reconstruct = np.empty(0).__reduce__()[0]  # numpy's own, 1.x or 2.x
            data = np.ascontiguousarray(obj)
            state = (1, obj.shape, obj.dtype, False, data.tobytes().decode("latin1"))
            return _reconstruct, (np.ndarray, (0,), "b"), state
        return NotImplemented


def _py2_pickle_bytes(obj, protocol: int = 2) -> bytes:
    import io

    buffer = io.BytesIO()
    _Py2StylePickler(buffer, protocol=protocol).dump(obj)
    raw = buffer.getvalue()
    # the module path numpy 1.x wrote (GLOBAL opcodes are text lines)
    return raw.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def _stand_in(monkeypatch, module_name: str, cls: type) -> None:
    """Register ``cls`` as ``module_name.<cls name>`` (and stand-in parent packages)."""
    parts = module_name.split(".")
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    cls.__module__, cls.__qualname__ = module_name, cls.__name__
    setattr(sys.modules[module_name], cls.__name__, cls)


@pytest.fixture
def legacy_classes(monkeypatch):
    """``chumpy.ch.Ch`` and ``scipy.sparse.csc.csc_matrix`` as the official file has them."""

    class Ch:
        def __init__(self, x):
            self.x = x
            self._dirty_vars = set()
            self._itr = None
            self._depends_on_deps = {}
            self._make_dense = False
            self._make_sparse = False

        def __getstate__(self):
            return dict(self.__dict__)

    class csc_matrix:  # the real class name
        def __init__(self, dense):
            indices, data, indptr = [], [], [0]
            for col in range(dense.shape[1]):
                rows = np.flatnonzero(dense[:, col])
                indices.extend(rows)
                data.extend(dense[rows, col])
                indptr.append(len(indices))
            self._shape = dense.shape
            self.maxprint = 50
            self.indices = np.array(indices, np.int32)
            self.indptr = np.array(indptr, np.int32)
            self.data = np.array(data, np.float64)

        def __getstate__(self):
            return dict(self.__dict__)

    _stand_in(monkeypatch, "chumpy.ch", Ch)
    _stand_in(monkeypatch, "scipy.sparse.csc", csc_matrix)
    return types.SimpleNamespace(Ch=Ch, csc_matrix=csc_matrix)


def _mano_arrays(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    regressor = np.zeros((J, V))
    for j in range(J):  # each joint averages a few vertices, rows sum to 1
        ids = rng.choice(V, size=8, replace=False)
        regressor[j, ids] = rng.dirichlet(np.ones(8))
    weights = rng.dirichlet(np.ones(J) * 0.3, size=V)
    kintree = np.array([[2**32 - 1, *MANO_PARENTS[1:]], list(range(J))], dtype=np.int64)
    return {
        "v_template": rng.normal(scale=0.05, size=(V, 3)),
        "f": rng.integers(0, V, size=(F, 3)).astype(np.uint32),
        "J_regressor": regressor,
        "weights": weights,
        "posedirs": rng.normal(scale=1e-3, size=(V, 3, 135)),
        "shapedirs": rng.normal(scale=1e-2, size=(V, 3, 10)),
        "kintree_table": kintree,
        "J": rng.normal(scale=0.05, size=(J, 3)),
        "hands_components": rng.normal(size=(45, 45)),
        "hands_coeffs": rng.normal(size=(1554, 45)),
        "hands_mean": rng.normal(scale=0.1, size=45),
        "bs_style": "lbs",
        "bs_type": "lrotmin",
    }


def _write_official_pkl(path, arrays, legacy_classes, protocol: int = 2) -> bytes:
    content = dict(arrays)
    content["shapedirs"] = legacy_classes.Ch(arrays["shapedirs"])
    content["J_regressor"] = legacy_classes.csc_matrix(arrays["J_regressor"])
    raw = _py2_pickle_bytes(content, protocol)
    path.write_bytes(raw)
    return raw


@pytest.fixture
def mano_files(tmp_path, legacy_classes):
    arrays = {"right": _mano_arrays(1), "left": _mano_arrays(2)}
    paths = {}
    for side in ("right", "left"):
        paths[side] = tmp_path / f"MANO_{side.upper()}.pkl"
        raw = _write_official_pkl(paths[side], arrays[side], legacy_classes)
        assert b"cchumpy.ch\nCh\n" in raw and b"cscipy.sparse.csc\ncsc_matrix\n" in raw
        assert b"numpy.core.multiarray" in raw and b"_codecs" not in raw
    return arrays, paths


def test_pkl_loads_with_mano_shapes_and_values(mano_files):
    arrays, paths = mano_files
    model = load_mano(paths["right"])
    model.validate()
    assert (model.name, model.side) == ("mano", "right")
    assert model.v_template.shape == (V, 3) and model.v_template.dtype == np.float32
    assert model.faces.shape == (F, 3) and model.faces.dtype == np.int64
    np.testing.assert_allclose(model.j_regressor, arrays["right"]["J_regressor"], rtol=1e-6)
    np.testing.assert_allclose(model.shapedirs, arrays["right"]["shapedirs"], rtol=1e-6)
    np.testing.assert_allclose(model.posedirs, arrays["right"]["posedirs"], rtol=1e-6)
    np.testing.assert_array_equal(model.faces, arrays["right"]["f"].astype(np.int64))
    assert tuple(model.parents.tolist()) == MANO_PARENTS
    assert tuple(model.tip_vertex_ids.tolist()) == MANO_TIP_VERTEX_IDS


def test_raw_pkl_keeps_all_keys_and_strings(mano_files):
    arrays, paths = mano_files
    raw = read_mano_pkl(paths["left"])
    assert set(raw) == set(arrays["left"])
    assert raw["bs_style"] == "lbs" and raw["bs_type"] == "lrotmin"
    np.testing.assert_array_equal(raw["hands_coeffs"], arrays["left"]["hands_coeffs"])
    np.testing.assert_array_equal(raw["J_regressor"], arrays["left"]["J_regressor"])


def test_left_fix_is_applied_once_for_pkl_and_converted_npz(mano_files, tmp_path):
    arrays, paths = mano_files
    expected = arrays["left"]["shapedirs"].copy()
    expected[:, 0, :] *= -1
    direct = load_mano(paths["left"])
    np.testing.assert_allclose(direct.shapedirs, expected, rtol=1e-6)

    npz = tmp_path / "converted" / "MANO_LEFT.npz"
    summary = convert_mano_pkl(paths["left"], npz)
    assert summary["left_shapedirs_fixed"] and summary["side"] == "left"
    with np.load(npz, allow_pickle=False) as stored:
        assert bool(stored[FIX_FLAG]) and str(stored["side"]) == "left"
        np.testing.assert_array_equal(stored["shapedirs"], expected)  # baked in, once
    via_npz = load_mano(npz)
    np.testing.assert_array_equal(via_npz.shapedirs, direct.shapedirs)  # not applied again

    right = load_mano(paths["right"])  # the right model is never touched
    np.testing.assert_allclose(right.shapedirs, arrays["right"]["shapedirs"], rtol=1e-6)


def test_round_trip_pkl_npz_equals_direct_load(mano_files, tmp_path):
    _, paths = mano_files
    for side in ("right", "left"):
        npz = tmp_path / f"out_{side}.npz"  # name does not say the side: the npz does
        convert_mano_pkl(paths[side], npz)
        direct, converted = load_mano(paths[side]), load_mano(npz)
        for field in (
            "v_template",
            "faces",
            "j_regressor",
            "skinning_weights",
            "shapedirs",
            "posedirs",
            "parents",
            "tip_vertex_ids",
            "hands_mean",
        ):
            np.testing.assert_array_equal(getattr(converted, field), getattr(direct, field))
        assert converted.side == side


def test_npz_from_another_tool_without_flag_gets_the_fix(mano_files, tmp_path):
    arrays, _ = mano_files
    raw = {k: v for k, v in arrays["left"].items() if not isinstance(v, str)}
    np.savez(tmp_path / "MANO_LEFT.npz", **raw)
    model = load_mano(tmp_path / "MANO_LEFT.npz")
    np.testing.assert_allclose(model.shapedirs[:, 0], -arrays["left"]["shapedirs"][:, 0], rtol=1e-6)
    np.testing.assert_allclose(
        model.shapedirs[:, 1:], arrays["left"]["shapedirs"][:, 1:], rtol=1e-6
    )


def test_side_from_name_argument_and_conflicts(mano_files, tmp_path):
    arrays, paths = mano_files
    anonymous = tmp_path / "model.pkl"
    anonymous.write_bytes(paths["right"].read_bytes())
    with pytest.raises(ManoFileError, match="pass side="):
        load_mano(anonymous)
    assert load_mano(anonymous, side="left").side == "left"
    npz = tmp_path / "hand.npz"
    convert_mano_pkl(paths["right"], npz)
    with pytest.raises(ManoFileError, match="side='right'"):
        load_mano(npz, side="left")


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(pickle.dumps({"v_template": Evil()}, protocol=2))
    with pytest.raises(UnsafePickleError, match=r"MANO_RIGHT\.pkl.*(posix|os)\.system"):
        load_mano(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps(eval, protocol=2),  # builtins.eval
        pickle.dumps({"a": __import__("collections").OrderedDict()}, protocol=2),
        b"\x80\x02ccopy_reg\n_reconstructor\ncos\nsystem\nc__builtin__\nobject\nN\x87R.",
    ],
)
def test_other_globals_are_refused(payload, legacy_classes):
    with pytest.raises(UnsafePickleError, match="refus"):
        restricted_loads(payload, {}, "x.pkl")


def test_protocol0_pickle_loads_the_same(mano_files, tmp_path, legacy_classes):
    arrays, paths = mano_files
    path = tmp_path / "p0" / "MANO_LEFT.pkl"
    path.parent.mkdir()
    raw = _write_official_pkl(path, arrays["left"], legacy_classes, protocol=0)
    assert raw.startswith(b"(dp0") and b"ccopy_reg\n_reconstructor\n" in raw
    old, new = load_mano(path), load_mano(paths["left"])
    np.testing.assert_array_equal(old.shapedirs, new.shapedirs)
    np.testing.assert_array_equal(old.j_regressor, new.j_regressor)


def test_python3_protocol2_pickle_with_bytes_also_loads(tmp_path, legacy_classes):
    arrays = _mano_arrays(3)
    content = dict(arrays, shapedirs=legacy_classes.Ch(arrays["shapedirs"]))
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(pickle.dumps(content, protocol=2))  # bytes via _codecs.encode
    model = load_mano(path)
    np.testing.assert_allclose(model.j_regressor, arrays["J_regressor"], rtol=1e-6)


def test_wrong_shapes_and_missing_fields_name_the_field(tmp_path, legacy_classes):
    arrays = _mano_arrays(4)
    bad = dict(arrays, posedirs=arrays["posedirs"][:, :, :10])
    path = tmp_path / "MANO_RIGHT.pkl"
    _write_official_pkl(path, bad, legacy_classes)
    with pytest.raises(ManoFileError, match=r"posedirs has shape \(778, 3, 10\)"):
        load_mano(path)
    missing = {k: v for k, v in arrays.items() if k != "weights"}
    _write_official_pkl(path, missing, legacy_classes)
    with pytest.raises(ManoFileError, match="missing the MANO field 'weights'"):
        load_mano(path)
    wrong_tree = dict(arrays)
    wrong_tree["kintree_table"] = arrays["kintree_table"].copy()
    wrong_tree["kintree_table"][0, 5] = 1
    _write_official_pkl(path, wrong_tree, legacy_classes)
    with pytest.raises(ManoFileError, match="kintree_table parents"):
        load_mano(path)


def test_not_a_mano_file(tmp_path):
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(b"not a pickle at all")
    with pytest.raises(pickle.UnpicklingError, match="MANO_RIGHT.pkl"):
        load_mano(path)
    with pytest.raises(ManoFileError, match=r"\.pkl or \.npz"):
        load_mano(tmp_path / "MANO_RIGHT.obj")


def test_forward_gives_21_joints_with_tips_at_the_chosen_vertices(mano_files):
    torch = pytest.importorskip("torch")
    layer_module = pytest.importorskip("handhdr.hand.layer")
    arrays, paths = mano_files
    model = load_mano(paths["left"])
    flat = layer_module.HandLayer(model, flat_hand_mean=True)
    rest = flat()
    np.testing.assert_allclose(rest.vertices[0].numpy(), model.v_template, atol=1e-6)
    np.testing.assert_allclose(
        rest.kinematic_joints[0].numpy(),
        arrays["left"]["J_regressor"] @ arrays["left"]["v_template"],
        atol=1e-6,
    )
    generator = torch.Generator().manual_seed(0)
    pose = 0.3 * torch.randn(2, 48, generator=generator)
    betas = torch.randn(2, 10, generator=generator)
    out = layer_module.HandLayer(model)(pose, betas)
    assert out.joints.shape == (2, 21, 3) and out.vertices.shape == (2, V, 3)
    tips = [INTERHAND_NAMES.index(f"{f}_4") for f in ("thumb", "index", "middle", "ring", "pinky")]
    torch.testing.assert_close(out.joints[:, tips], out.vertices[:, list(MANO_TIP_VERTEX_IDS)])
    torch.testing.assert_close(
        out.joints[:, INTERHAND_NAMES.index("wrist")], out.kinematic_joints[:, 0]
    )
