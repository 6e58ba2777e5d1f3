"""``handhdr synth`` end to end: worker processes, finalise, errors (shards and resume:
tests/synth/test_runner.py)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.datasets.interhand import InterHandDataset
from handhdr.synth.config import SynthConfig
from handhdr.synth.runner import generate

COMMON = ["--num", "2", "--seed", "1", "--split", "val", "--size", "96x72", "--quiet"]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_worker_processes_make_the_in_process_dataset(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["synth", "--out", str(tmp_path / "w"), "--workers", "2", *COMMON])
    assert result.exit_code == 0, result.output
    assert "2 samples made" in result.output and "finalised" in result.output
    generate(tmp_path / "p", SynthConfig(split="val", seed=1, width=96, height=72), 2,
             progress=False)  # fmt: skip
    reference = _files(tmp_path / "p")
    assert _files(tmp_path / "w") == reference
    assert len(InterHandDataset(tmp_path / "w", "val", load_images=False)) == 2

    again = runner.invoke(app, ["synth", "--out", str(tmp_path / "w"), "--finalize",
                                "--split", "val", "--quiet"])  # fmt: skip
    assert again.exit_code == 0 and "finalised 2 val samples" in again.output
    assert _files(tmp_path / "w") == reference
    more = runner.invoke(app, ["synth", "--out", str(tmp_path / "w"), *COMMON, "--seed", "2"])
    assert more.exit_code == 2 and "seed: stored 1, now 2" in more.output


def test_bad_options_are_explained(tmp_path):
    runner = CliRunner()
    out = ["synth", "--out", str(tmp_path / "d")]
    cases = [
        (["--num", "2", "--size", "12"], "WIDTHxHEIGHT"),
        (["--num", "2", "--mix", "sh=1,both=2"], "unknown keys"),
        (["--num", "2", "--view", "drone"], "view must be one of"),
        (["--num", "2", "--shard", "2/2"], "0 <= i < n"),
        (["--finalize", "--split", "test"], "no generated test split"),
        ([], "--num is required"),
    ]
    for extra, message in cases:
        result = runner.invoke(app, out + extra)
        assert result.exit_code == 2, (extra, result.output)
        assert message in result.output, (extra, result.output)
