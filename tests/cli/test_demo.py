import numpy as np
from typer.testing import CliRunner

from handhdr.cli import app
from handhdr.io import read_image


def test_demo_writes_a_panel_with_both_hands_drawn(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--num", "1"])
    assert result.exit_code == 0, result.output
    assert "no shipped weights" in result.output  # it says honestly what it did not do
    panel = read_image(tmp_path / "demo" / "demo_panel.png")
    assert panel.shape[0] == 334 and panel.shape[1] == 4 * 512 + 3 * 4  # one row, four tiles
    tile = panel[:, :512].astype(int)
    red = (tile[..., 0] > 200) & (tile[..., 1] < 80) & (tile[..., 2] < 80)
    green = (tile[..., 1] > 170) & (tile[..., 0] < 80) & (tile[..., 2] < 100)
    assert red.sum() > 50 and green.sum() > 50  # both hands' skeletons and boxes
    # the two HDR targets differ: each shows a different hand alone
    right_alone, left_alone = panel[:, 2 * 516 : 2 * 516 + 512], panel[:, 3 * 516 :]
    assert np.abs(right_alone.astype(int) - left_alone.astype(int)).mean() > 1
