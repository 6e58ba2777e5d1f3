"""Backgrounds: procedural scenes and folders of photographs behind one interface."""

from __future__ import annotations

import numpy as np
import pytest

from handhdr.io.images import write_image
from handhdr.render.background import (
    FolderBackgrounds,
    ProceduralBackgrounds,
    procedural_background,
    random_view,
)


def test_procedural_scenes_are_pure_functions_of_their_seed():
    a, b = procedural_background(3, 96), procedural_background(3, 96)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (96, 96, 3) and a.dtype == np.uint8
    assert not np.array_equal(a, procedural_background(4, 96))
    assert a.std() > 3  # not a flat colour


def test_procedural_views_depend_on_the_generator_only():
    source = ProceduralBackgrounds(bank_size=3, size=80)
    view = source.sample(np.random.default_rng(7), 50, 30)
    assert view.shape == (30, 50, 3) and view.dtype == np.uint8
    again = ProceduralBackgrounds(bank_size=3, size=80).sample(np.random.default_rng(7), 50, 30)
    np.testing.assert_array_equal(view, again)
    others = [source.sample(np.random.default_rng(s), 50, 30) for s in range(6)]
    assert len({o.tobytes() for o in others}) == 6
    with pytest.raises(ValueError, match="bank_size"):
        ProceduralBackgrounds(bank_size=0)


def test_random_view_keeps_the_size_for_any_base():
    rng = np.random.default_rng(0)
    for base_shape in ((10, 300, 3), (300, 10, 3), (64, 64, 3)):
        base = rng.integers(0, 256, base_shape, dtype=np.uint8)
        assert random_view(rng, base, 40, 25).shape == (25, 40, 3)


def test_folder_backgrounds(tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "sub").mkdir()
    colours = {"a.png": 30, "sub/b.jpg": 220}
    for name, value in colours.items():
        write_image(tmp_path / name, np.full((40, 70, 3), value, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    source = FolderBackgrounds(tmp_path, bank_size=1)
    assert [p.name for p in source.files] == ["a.png", "b.jpg"]
    means = {int(source.sample(rng, 32, 24).mean() > 100) for _ in range(20)}
    assert means == {0, 1}  # both images are used
    view = source.sample(np.random.default_rng(5), 32, 24)
    np.testing.assert_array_equal(
        view, FolderBackgrounds(tmp_path).sample(np.random.default_rng(5), 32, 24)
    )


def test_folder_errors_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        FolderBackgrounds(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty.*no images"):
        FolderBackgrounds(tmp_path / "empty")
