"""load_hand_model: the built-in hand and the route to official MANO files."""

import numpy as np
import pytest

from handhdr.hand import load_hand_model
from handhdr.hand.builtin import save_builtin_asset


def test_builtin_sides_are_mirror_images():
    right = load_hand_model("builtin", "right")
    left = load_hand_model("builtin", "left")
    assert (right.side, left.side) == ("right", "left")
    np.testing.assert_array_equal(left.v_template, right.v_template * [-1, 1, 1])
    np.testing.assert_array_equal(left.faces, right.faces[:, ::-1])


def test_builtin_from_another_asset_path(tmp_path):
    right = load_hand_model()
    path = tmp_path / "mine.npz"
    save_builtin_asset(right, path)
    assert np.array_equal(load_hand_model("builtin", "left", path=path).faces, right.faces[:, ::-1])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="side"):
        load_hand_model("builtin", "both")
    with pytest.raises(ValueError, match="kind"):
        load_hand_model("smplx")
    with pytest.raises(ValueError, match="MANO_RIGHT"):
        load_hand_model("mano", "right")


def test_mano_kind_reads_the_given_file_through_the_mano_reader(tmp_path):
    broken = tmp_path / "MANO_RIGHT.npz"
    broken.write_bytes(b"this is not a MANO file")
    with pytest.raises(ValueError, match="MANO_RIGHT.npz"):
        load_hand_model("mano", "right", path=broken)
