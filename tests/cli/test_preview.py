"""``handhdr preview`` writes a contact sheet with hands in it."""

from __future__ import annotations

import cv2
import numpy as np
from typer.testing import CliRunner

from handhdr.cli import app


def test_preview_writes_a_sheet_of_hands(tmp_path):
    out = tmp_path / "sheet.png"
    args = ["preview", "--out", str(out), "--num", "4", "--size", "96x64", "--columns", "3"]
    result = CliRunner().invoke(app, [*args, "--mask-rows", "1", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    sheet = cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)
    # a row for the first two-hand render (3 of its 4 tiles), then the other 3 renders
    assert sheet.shape == (2 * 64, 3 * 96, 3)
    ycc = cv2.cvtColor(sheet, cv2.COLOR_RGB2YCrCb).astype(int)
    skin = (ycc[..., 1] >= 133) & (ycc[..., 1] <= 180) & (ycc[..., 2] >= 70) & (ycc[..., 2] <= 130)
    # the hands: skin-coloured pixels in every rendered tile of the last row
    for k in range(3):
        assert skin[64:, k * 96 : (k + 1) * 96].mean() > 0.01
    # the mask tile paints the hands in pure mask colours
    masks = sheet[:64, 96:192]
    painted = (np.abs(masks.astype(int) - [230, 60, 50]).sum(axis=2) == 0) | (
        np.abs(masks.astype(int) - [40, 200, 70]).sum(axis=2) == 0
    )
    assert painted.mean() > 0.01


def test_preview_refuses_bad_options(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["preview", "--out", str(tmp_path / "a.png"), "--size", "96"])
    assert result.exit_code == 2 and "--size" in result.output
    result = runner.invoke(app, ["preview", "--out", str(tmp_path / "a.jpg")])
    assert result.exit_code == 2 and "PNG" in result.output
    missing = tmp_path / "nothing"
    result = runner.invoke(
        app, ["preview", "--out", str(tmp_path / "a.png"), "--backgrounds", str(missing)]
    )
    assert result.exit_code == 2 and "nothing" in result.output
