"""Preview samples and contact sheets."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from handhdr.render.background import ProceduralBackgrounds
from handhdr.render.preview import KINDS, MASK_COLOURS, contact_sheet, mask_tile, render_samples


def skin_like(rgb: np.ndarray) -> np.ndarray:
    """A classic YCrCb skin-colour rule, per pixel (``... x 3`` uint8 RGB)."""
    ycc = cv2.cvtColor(rgb.reshape(-1, 1, 3), cv2.COLOR_RGB2YCrCb).reshape(rgb.shape)
    cr, cb = ycc[..., 1].astype(int), ycc[..., 2].astype(int)
    return (cr >= 133) & (cr <= 180) & (cb >= 70) & (cb <= 130)


@pytest.fixture(scope="module")
def samples():
    return render_samples(1, 5, 96, 64, backgrounds=ProceduralBackgrounds(bank_size=3, size=96))


def test_samples_follow_the_kinds_and_show_skin(samples):
    assert [s.kind for s in samples] == list(KINDS[:5])
    for s in samples:
        sides = {"right", "left"} if s.kind == "interacting" else {s.kind}
        assert set(s.result.hdr_gt) <= sides and set(s.joints_img) == sides
        for side in sides:
            uv = np.rint(s.joints_img[side]).astype(int)
            inside = (uv[:, 0] >= 0) & (uv[:, 0] < 96) & (uv[:, 1] >= 0) & (uv[:, 1] < 64)
            assert inside.mean() > 0.5  # placed in view
    visible = np.concatenate([s.result.image[s.result.masks[[1, 3]].any(axis=0)] for s in samples])
    assert len(visible) > 200 and skin_like(visible).mean() > 0.6


def test_mask_tile_paints_visible_and_hidden_parts(samples):
    s = next(x for x in samples if x.kind == "interacting")
    tile = mask_tile(s.result)
    for side, (bright, dark) in MASK_COLOURS.items():
        np.testing.assert_array_equal(
            tile[s.result.visible(side)], np.broadcast_to(bright, (s.result.visible(side).sum(), 3))
        )
        other = "left" if side == "right" else "right"
        hidden = s.result.amodal(side) & ~s.result.visible(side) & ~s.result.amodal(other)
        assert (tile[hidden] == dark).all()


def test_contact_sheet_layout():
    bg = ProceduralBackgrounds(bank_size=2, size=64)
    sheet = contact_sheet(
        seed=2, num=3, width=64, height=40, columns=2, mask_rows=1, backgrounds=bg
    )
    assert sheet.shape == ((1 + 1) * 40, 2 * 64, 3) and sheet.dtype == np.uint8  # 1 + 2 tiles
    again = contact_sheet(
        seed=2, num=3, width=64, height=40, columns=2, mask_rows=1, backgrounds=bg
    )
    np.testing.assert_array_equal(sheet, again)
    with pytest.raises(ValueError, match="num"):
        contact_sheet(num=0)
