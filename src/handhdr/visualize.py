"""Drawing helpers shared by the demo, ``predict`` and the reports.

Colours follow the paper's figures: red for the right hand, green for the left.
All functions take and return ``H x W x 3`` uint8 RGB arrays and never modify
their input.
"""

from __future__ import annotations

import cv2
import numpy as np

from handhdr.joints import INTERHAND_PARENTS

HAND_COLOURS: dict[str, tuple[int, int, int]] = {"right": (230, 40, 40), "left": (40, 200, 60)}


def draw_skeleton(
    image: np.ndarray,
    joints_2d: np.ndarray,
    valid: np.ndarray | None = None,
    colour: tuple[int, int, int] = HAND_COLOURS["right"],
    thickness: int = 2,
) -> np.ndarray:
    """Draw one hand's 21 joints (InterHand2.6M order) and bones onto a copy of ``image``."""
    out = image.copy()
    points = np.asarray(joints_2d, dtype=np.float64)
    ok = np.isfinite(points).all(axis=1)
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    for child, parent in enumerate(INTERHAND_PARENTS):
        if parent >= 0 and ok[child] and ok[parent]:
            a = tuple(int(round(v)) for v in points[child])
            b = tuple(int(round(v)) for v in points[parent])
            cv2.line(out, a, b, colour, thickness, cv2.LINE_AA)
    for j in np.flatnonzero(ok):
        centre = tuple(int(round(v)) for v in points[j])
        cv2.circle(out, centre, thickness + 1, (255, 255, 255), -1, cv2.LINE_AA)
    return out


def draw_box(
    image: np.ndarray, box_xywh: np.ndarray, colour: tuple[int, int, int], thickness: int = 2
) -> np.ndarray:
    """Draw an ``x, y, w, h`` box onto a copy of ``image``."""
    out = image.copy()
    x, y, w, h = (int(round(v)) for v in box_xywh)
    cv2.rectangle(out, (x, y), (x + w, y + h), colour, thickness)
    return out


def mask_overlay(image: np.ndarray, masks: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """Colour the four masks (MASK_NAMES order) over a dimmed copy of ``image``.

    Visible parts are drawn in the hand's colour, hidden parts (amodal but not
    visible) in a darker shade of it.
    """
    out = (image.astype(np.float32) * 0.35).astype(np.float32)
    for k, hand in enumerate(("right", "left")):
        amodal, visible = masks[2 * k].astype(bool), masks[2 * k + 1].astype(bool)
        colour = np.array(HAND_COLOURS[hand], np.float32)
        for region, shade in ((amodal & ~visible, 0.45), (visible, 1.0)):
            out[region] = (1 - alpha) * out[region] + alpha * colour * shade
    return np.clip(out, 0, 255).astype(np.uint8)


def label(image: np.ndarray, text: str) -> np.ndarray:
    """Write a short caption in the top-left corner of a copy of ``image``."""
    out = image.copy()
    scale = max(0.35, image.shape[1] / 900)
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.rectangle(out, (0, 0), (w + 6, h + base + 6), (0, 0, 0), -1)
    cv2.putText(
        out, text, (3, h + 3), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
    )
    return out


def grid(tiles: list[list[np.ndarray]], pad: int = 4) -> np.ndarray:
    """Arrange rows of equally sized tiles into one image with white gaps."""
    height, width = tiles[0][0].shape[:2]
    columns = max(len(row) for row in tiles)
    canvas = np.full(
        (len(tiles) * (height + pad) - pad, columns * (width + pad) - pad, 3), 255, np.uint8
    )
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            if tile.shape[:2] != (height, width):
                tile = cv2.resize(tile, (width, height), interpolation=cv2.INTER_AREA)
            y, x = r * (height + pad), c * (width + pad)
            canvas[y : y + height, x : x + width] = tile
    return canvas
