import pickle
import sys
import types

import numpy as np
import pytest

from handhdr.io.restricted_pickle import (
    NUMPY_GLOBALS,
    UnsafePickleError,
    load_npy_objects,
    restricted_load,
    restricted_loads,
)


class _Stub:
    def __setstate__(self, state):
        self.state = state


@pytest.mark.parametrize("protocol", [0, 2, 3, 4, 5])
def test_numpy_arrays_scalars_and_containers_round_trip(protocol):
    value = {
        "a": np.arange(12, dtype=np.float32).reshape(3, 4),
        "b": [np.int64(7), np.float64(2.5), "text", (1, 2)],
        "c": np.array(["x", "yz"]),
        "f": np.asfortranarray(np.eye(3)),
    }
    out = restricted_loads(pickle.dumps(value, protocol=protocol), NUMPY_GLOBALS, "v.pkl")
    np.testing.assert_array_equal(out["a"], value["a"])
    np.testing.assert_array_equal(out["c"], value["c"])
    np.testing.assert_array_equal(out["f"], value["f"])
    assert out["b"] == value["b"] and type(out["b"][0]) is np.int64


@pytest.mark.parametrize("protocol", [0, 2])
def test_allowed_stub_classes_are_rebuilt_with_their_state(protocol, monkeypatch):
    module = types.ModuleType("thingmodule")

    class Thing:
        def __init__(self):
            self.x = np.ones(3)

    Thing.__module__, Thing.__qualname__ = "thingmodule", "Thing"
    module.Thing = Thing
    monkeypatch.setitem(sys.modules, "thingmodule", module)
    data = pickle.dumps(Thing(), protocol=protocol)  # protocol 0 goes via copy_reg
    allowed = {**NUMPY_GLOBALS, ("thingmodule", "Thing"): _Stub}
    out = restricted_loads(data, allowed, "t.pkl")
    assert isinstance(out, _Stub)
    np.testing.assert_array_equal(out.state["x"], np.ones(3))
    with pytest.raises(UnsafePickleError, match=r"t\.pkl: refusing to load thingmodule\.Thing"):
        restricted_loads(data, NUMPY_GLOBALS, "t.pkl")


@pytest.mark.parametrize(
    "payload",
    [
        b"cos\nsystem\n(S'echo hi'\ntR.",
        b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+1q\x00\x85R.",
        b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x04\x00\x00\x00zlib\x86R.",
        b"\x80\x02ccopy_reg\n_reconstructor\ncnumpy\nndarray\ncbuiltins\nint\nK\x00\x87R.",
    ],
)
def test_anything_else_is_refused(payload):
    with pytest.raises(UnsafePickleError, match="bad.pkl"):
        restricted_loads(payload, NUMPY_GLOBALS, "bad.pkl")


def test_files_and_broken_pickles(tmp_path):
    path = tmp_path / "a.pkl"
    path.write_bytes(pickle.dumps([np.zeros(2)], protocol=2))
    np.testing.assert_array_equal(restricted_load(path, NUMPY_GLOBALS)[0], np.zeros(2))
    path.write_bytes(b"\x80\x02]q\x00(K\x01")  # truncated
    with pytest.raises(pickle.UnpicklingError, match=r"a\.pkl: not a readable pickle"):
        restricted_load(path, NUMPY_GLOBALS)
    with pytest.raises(FileNotFoundError, match="missing.pkl"):
        restricted_load(tmp_path / "missing.pkl", NUMPY_GLOBALS)


def test_npy_object_arrays_without_allow_pickle(tmp_path):
    records = [{"side": "left", "idx": np.int64(3), "aug": [[0.1, 0.2], 1.0]}, {"k": 1}]
    np.save(tmp_path / "objects.npy", records)
    out = load_npy_objects(tmp_path / "objects.npy")
    assert out.dtype == object and out.tolist() == records
    np.save(tmp_path / "plain.npy", np.arange(5))
    np.testing.assert_array_equal(load_npy_objects(tmp_path / "plain.npy"), np.arange(5))
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(ValueError, match=r"bad\.npy: not a \.npy file"):
        load_npy_objects(tmp_path / "bad.npy")
