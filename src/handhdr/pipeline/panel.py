"""Pictures of pipeline results, in the layout of the paper's Fig. 2 and Fig. 5.

:func:`figure_panel` (matplotlib, for the demo): the input with the hand boxes (red
right, green left), the four predicted masks, the 2D skeletons on the image, a 3D
view of both hands, and per hand the HDRM input crop and its de-occluded output
with the skeleton. :func:`quick_panel` (OpenCV only, fast enough for every frame of
``handhdr predict --visualize``): the same without the 3D view. Left-hand crops are
mirrored back for display (the networks see them mirrored).
"""

from __future__ import annotations

import cv2
import numpy as np

from handhdr.joints import HANDS, INTERHAND_PARENTS
from handhdr.pipeline.result import PipelineResult
from handhdr.visualize import HAND_COLOURS, draw_box, draw_skeleton, grid, label, mask_overlay

_CROP_VIEW = 192  # crops smaller than this are enlarged for display
_MASK_TITLES = ("right amodal", "right visible", "left amodal", "left visible")


def draw_hands(image: np.ndarray, result: PipelineResult, boxes: bool = True) -> np.ndarray:
    """``image`` with each found hand's skeleton and (``boxes``) its amodal box."""
    out = image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 300))
    for hand, found in result.hands.items():
        colour = HAND_COLOURS[hand]
        out = draw_skeleton(out, found.joints_2d, None, colour, thickness)
        if boxes:
            out = draw_box(out, np.array(found.box), colour, thickness)
    return out


def draw_boxes(image: np.ndarray, result: PipelineResult) -> np.ndarray:
    """``image`` with the amodal box of each found hand (red right, green left)."""
    out = image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 250))
    for hand, found in result.hands.items():
        out = draw_box(out, np.array(found.box), HAND_COLOURS[hand], thickness)
    return out


def masks_tile(masks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The four masks as a 2 x 2 sheet (hand colour on black) of ``shape`` (H, W)."""
    h, w = shape
    tiles = []
    for k, title in enumerate(_MASK_TITLES):
        colour = np.array(HAND_COLOURS[HANDS[k // 2]], np.uint8)
        tile = np.where(masks[k][..., None], colour, np.uint8(0)).astype(np.uint8)
        tile = cv2.resize(tile, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
        tiles.append(label(tile, title))
    sheet = np.concatenate(
        [np.concatenate(tiles[:2], axis=1), np.concatenate(tiles[2:], axis=1)], axis=0
    )
    return cv2.resize(sheet, (w, h), interpolation=cv2.INTER_NEAREST)


def _enlarge(crop: np.ndarray, side: int = _CROP_VIEW) -> np.ndarray:
    """Small crops upsampled for display (so that the skeleton can be drawn finely)."""
    if crop.shape[0] >= side:
        return crop
    return cv2.resize(crop, (side, side), interpolation=cv2.INTER_LINEAR)


def crop_views(result: PipelineResult, hand: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(HDRM input, de-occluded output with the skeleton) of ``hand``, mirrored back for
    a left hand; ``None`` when the hand was not found."""
    found = result.hands.get(hand)
    if found is None or hand not in result.hdrm_input:
        return None
    before = _enlarge(result.hdrm_input[hand])
    after = _enlarge(result.hdrm_output[hand])
    if found.crop_box is not None:
        scale = after.shape[0] / result.hdrm_output[hand].shape[0]
        crop_joints = (found.crop_box.to_crop(found.joints_2d) + 0.5) * scale - 0.5
        after = draw_skeleton(after, crop_joints, None, HAND_COLOURS[hand], 2)
    if hand == "left":  # the networks see a mirrored (right) hand
        before, after = before[:, ::-1], after[:, ::-1]
    return np.ascontiguousarray(before), np.ascontiguousarray(after)


def quick_panel(image: np.ndarray, result: PipelineResult, title: str = "") -> np.ndarray:
    """One row: hands on the image, the masks, then per hand HDRM input and output."""
    h, w = image.shape[:2]
    scale = 320 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    tiles = [
        label(cv2.resize(draw_hands(image, result), size, interpolation=cv2.INTER_AREA), title),
        label(cv2.resize(mask_overlay(image, result.masks), size), "masks"),
    ]
    blank = np.full_like(small, 255)
    for hand in HANDS:
        views = crop_views(result, hand)
        if views is None:
            tiles += [label(blank, f"no {hand} hand"), blank]
            continue
        for view, caption in zip(views, ("HDRM input", f"{result.ablation} output"), strict=True):
            side = min(size)
            tile = blank.copy()
            resized = cv2.resize(view, (side, side), interpolation=cv2.INTER_NEAREST)
            y, x = (size[1] - side) // 2, (size[0] - side) // 2
            tile[y : y + side, x : x + side] = resized
            tiles.append(label(tile, f"{hand}: {caption}"))
    return grid([tiles])


def _plot_3d(ax, result: PipelineResult) -> None:  # noqa: ANN001 - a matplotlib Axes3D
    """Both hands' root-relative joints, side by side (the left one shifted)."""
    offsets = {"right": np.array([60.0, 0.0, 0.0]), "left": np.array([-60.0, 0.0, 0.0])}
    points = []
    for hand, found in result.hands.items():
        joints = found.joints_3d.astype(np.float64) + offsets[hand]
        colour = np.array(HAND_COLOURS[hand]) / 255.0
        for child, parent in enumerate(INTERHAND_PARENTS):
            if parent >= 0:
                seg = joints[[child, parent]]
                # camera frame (x right, y down, z forward) -> plot (x, z, -y): y up
                ax.plot(seg[:, 0], seg[:, 2], -seg[:, 1], color=colour, linewidth=1.5)
        ax.scatter(joints[:, 0], joints[:, 2], -joints[:, 1], color=colour, s=6)
        points.append(joints)
    if points:
        stacked = np.concatenate(points)
        centre = (stacked.max(0) + stacked.min(0)) / 2
        half = max(float((stacked.max(0) - stacked.min(0)).max()) / 2, 50.0)
        ax.set_xlim(centre[0] - half, centre[0] + half)
        ax.set_ylim(centre[2] - half, centre[2] + half)
        ax.set_zlim(-centre[1] - half, -centre[1] + half)
    ax.set_xlabel("x (mm)", fontsize=6)
    ax.set_ylabel("z (mm)", fontsize=6)
    ax.set_zlabel("-y (mm)", fontsize=6)
    ax.tick_params(labelsize=5)
    ax.view_init(elev=15, azim=-70)


def figure_panel(image: np.ndarray, result: PipelineResult, title: str = "") -> np.ndarray:
    """The Fig. 2/5-like panel of one image (module doc) as an RGB uint8 array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 6.2), dpi=100)  # no pyplot: no global state, no display
    canvas = FigureCanvasAgg(fig)
    cells = [
        (draw_boxes(image, result), "boxes (red right, green left)"),
        (masks_tile(result.masks, image.shape[:2]), "HASM masks"),
        (draw_hands(image, result, boxes=False), "2D joints"),
    ]
    for i, (picture, caption) in enumerate(cells):
        ax = fig.add_subplot(2, 4, i + 1)
        ax.imshow(picture)
        ax.set_title(caption, fontsize=9)
        ax.axis("off")
    ax3d = fig.add_subplot(2, 4, 4, projection="3d")
    _plot_3d(ax3d, result)
    ax3d.set_title("3D joints (root-relative)", fontsize=9)
    for k, hand in enumerate(HANDS):
        views = crop_views(result, hand)
        captions = (f"{hand}: HDRM input", f"{hand}: {result.ablation} output + joints")
        for j in range(2):
            ax = fig.add_subplot(2, 4, 5 + 2 * k + j)
            ax.axis("off")
            if views is None:
                ax.set_title(f"no {hand} hand found", fontsize=9)
                continue
            ax.imshow(views[j])
            ax.set_title(captions[j], fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    canvas.draw()
    return np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., :3])


__all__ = ["crop_views", "draw_boxes", "draw_hands", "figure_panel", "masks_tile", "quick_panel"]
