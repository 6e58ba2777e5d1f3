"""``handhdr mano convert`` on a MANO pickle in the layout smplx's ``clean_ch.py`` writes
(the official dict with the chumpy object replaced by its array; the full official
format, chumpy and scipy included, is covered by tests/hand/test_mano.py)."""

import os
import pickle

import numpy as np
import pytest
from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.hand.mano import FIX_FLAG, load_mano
from handhdr.joints import MANO_PARENTS

runner = CliRunner()


def _cleaned_mano(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    regressor = np.zeros((16, 778))
    regressor[np.arange(16), rng.choice(778, 16, replace=False)] = 1.0
    return {
        "v_template": rng.normal(scale=0.05, size=(778, 3)),
        "f": rng.integers(0, 778, size=(1538, 3)).astype(np.uint32),
        "J_regressor": regressor,
        "weights": rng.dirichlet(np.ones(16), size=778),
        "posedirs": rng.normal(scale=1e-3, size=(778, 3, 135)),
        "shapedirs": rng.normal(scale=1e-2, size=(778, 3, 10)),
        "kintree_table": np.array([[2**32 - 1, *MANO_PARENTS[1:]], list(range(16))]),
        "hands_mean": rng.normal(size=45),
        "bs_style": "lbs",
        "bs_type": "lrotmin",
    }


@pytest.fixture
def left_pkl(tmp_path):
    path = tmp_path / "MANO_LEFT.pkl"
    arrays = _cleaned_mano(0)
    path.write_bytes(pickle.dumps(arrays, protocol=2))
    return path, arrays


def test_convert_writes_npz_next_to_the_pkl(left_pkl):
    path, arrays = left_pkl
    result = runner.invoke(app, ["mano", "convert", str(path)])
    assert result.exit_code == 0, result.output
    out = path.with_suffix(".npz")
    assert f"wrote {out}" in result.output and "left hand" in result.output
    assert "fix applied" in result.output
    with np.load(out, allow_pickle=False) as data:
        assert bool(data[FIX_FLAG]) and str(data["side"]) == "left"
        np.testing.assert_array_equal(data["shapedirs"][:, 0], -arrays["shapedirs"][:, 0])
        assert str(data["bs_type"]) == "lrotmin"
    np.testing.assert_array_equal(load_mano(out).shapedirs, load_mano(path).shapedirs)
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


def test_convert_with_out_and_side(tmp_path, left_pkl):
    path, _ = left_pkl
    anonymous = tmp_path / "hand.pkl"
    anonymous.write_bytes(path.read_bytes())
    out = tmp_path / "models" / "right.npz"
    result = runner.invoke(app, ["mano", "convert", str(anonymous), "--out", str(out)])
    assert result.exit_code == 2 and "pass side=" in result.output
    assert not out.exists()
    result = runner.invoke(
        app, ["mano", "convert", str(anonymous), "--out", str(out), "--side", "right"]
    )
    assert result.exit_code == 0, result.output
    assert load_mano(out).side == "right"


def test_convert_refuses_unsafe_and_missing_files(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "MANO_RIGHT.pkl"
    evil.write_bytes(
        b"\x80\x02cposix\nsystem\nX" + len(f"touch {marker}").to_bytes(4, "little")
        + f"touch {marker}".encode() + b"\x85R."
    )  # fmt: skip
    result = runner.invoke(app, ["mano", "convert", str(evil)])
    assert result.exit_code == 2 and "refusing to load posix.system" in result.output
    assert not marker.exists() and not evil.with_suffix(".npz").exists()
    result = runner.invoke(app, ["mano", "convert", str(tmp_path / "nope" / "MANO_LEFT.pkl")])
    assert result.exit_code == 2 and "no such file" in result.output
    assert os.listdir(tmp_path) == ["MANO_RIGHT.pkl"]
