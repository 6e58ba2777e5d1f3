"""``handhdr render-masks`` on a tiny InterHand2.6M fixture (real annotation format) with
a MANO-format stand-in model pair."""

import shutil

import pytest
from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.datasets.interhand import InterHandDataset
from handhdr.datasets.interhand_format import make_fixture_dataset
from handhdr.datasets.render_masks import render_interhand_masks, write_mano_stand_in

runner = CliRunner()


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli_render_masks")
    write_mano_stand_in(base / "mano")
    fx = make_fixture_dataset(
        base / "ih", "test", seed=5, num_captures=2, num_cameras=2, num_frames=2,
        image_size=(96, 64), write_images=False,
    )  # fmt: skip
    reference = base / "reference"
    shutil.copytree(fx.root / "annotations", reference / "annotations")
    render_interhand_masks(reference, "test", base / "mano", progress=False)
    return base, fx, reference


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted((root / "masks").rglob("*.png"))}


def _run(*args):
    return runner.invoke(app, ["render-masks", *map(str, args)])


def test_writes_the_masks_the_reader_returns_and_resumes(fixture, tmp_path):
    base, fx, reference = fixture
    root = tmp_path / "ih"
    shutil.copytree(fx.root / "annotations", root / "annotations")
    args = ("--root", root, "--split", "test", "--mano-dir", base / "mano", "--quiet")
    result = _run(*args, "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "3 mask files written" in result.output and "still to do" in result.output
    result = _run(*args, "--workers", "2")
    assert result.exit_code == 0, result.output
    n = len(fx.images)
    assert f"{n - 3} mask files written" in result.output and "3 already there" in result.output
    assert _files(root) == _files(reference)  # workers and resume change nothing
    reader = InterHandDataset(root, "test", load_images=False, load_hdr_gt=False)
    assert all(reader[i].masks is not None for i in range(len(reader)))
    again = _run(*args)
    assert again.exit_code == 0 and "0 mask files written" in again.output


def test_bad_arguments_are_clear_errors(fixture, tmp_path):
    base, fx, _ = fixture
    missing = tmp_path / "no_mano"
    result = _run("--root", fx.root, "--split", "test", "--mano-dir", missing)
    assert result.exit_code == 2 and str(missing) in result.output
    result = _run("--root", fx.root, "--mano-dir", base / "mano", "--split", "test",
                  "--shard", "2/2")  # fmt: skip
    assert result.exit_code == 2 and "--shard" in result.output
    result = _run("--root", tmp_path, "--mano-dir", base / "mano", "--split", "test")
    assert result.exit_code == 2 and "_data.json" in result.output
