"""AIH_Syn composition: paste one single-hand image's hand onto another (paper, sec. 4).

The *target* image keeps its hand and background; the *distractor* hand is cut out
by its amodal mask, colour-jittered, scaled, rotated and moved, and pasted on top:
``I = I_d * M_da + I_t * (1 - M_da)``. The target's amodal mask stays, its visible
mask loses what the distractor covers; the distractor is visible wherever it was
visible in its own image (a forearm stub may hide a little of a rendered hand).

Geometry is kept exact where a 2D paste allows it. The paste warp is the homography
of a rotation about the camera centre (in-plane rotation and translation; exact for
every depth, and it also converts the distractor's camera into the target's) after a
magnification about the distractor's wrist, which stands for moving the hand along
its wrist ray (exact at the wrist, first-order elsewhere: the 3D joints stay rigid and
their projection differs from the pasted pixels by about a pixel, recorded as
``reprojection_px``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from handhdr.datasets.schema import MASK_NAMES
from handhdr.joints import WRIST


@dataclass
class HandImage:
    """One single-hand picture with what a copy-paste source knows about it."""

    image: np.ndarray  # (H, W, 3) uint8
    amodal: np.ndarray  # (H, W) bool: the whole hand
    side: str  # "right" or "left"
    intrinsics: np.ndarray  # (3, 3)
    joints_cam: np.ndarray | None = None  # (21, 3) mm, InterHand order; None if unknown
    background: np.ndarray | None = None  # the same frame without the hand, when known
    visible: np.ndarray | None = None  # (H, W) bool when something (a forearm) hides part
    meta: dict = field(default_factory=dict)

    def appearance(self) -> np.ndarray:
        """Mean CIE Lab colour of the hand (the pairing descriptor)."""
        lab = cv2.cvtColor(self.image, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float64)
        pixels = lab[self.amodal.reshape(-1)]
        return pixels.mean(axis=0) if pixels.size else np.full(3, 128.0)


@dataclass(frozen=True)
class PasteParams:
    """The random augmentation of one paste."""

    scale: float  # magnification of the distractor about its wrist
    angle_deg: float  # in-plane rotation (counter-clockwise on screen)
    target_px: tuple[float, float]  # where the distractor's wrist lands (pixels)
    gains: tuple[float, float, float]  # per-channel colour gains
    offset: float  # brightness offset (0-255 scale)


@dataclass
class Composite:
    """A composed two-hand image with its masks and ground truth."""

    image: np.ndarray
    masks: np.ndarray  # (4, H, W) bool, MASK_NAMES order
    hdr_gt: dict[str, np.ndarray]
    joints_cam: dict[str, np.ndarray | None]  # per side (21, 3) mm in the target camera
    occlusion: dict[str, float]  # fraction of each hand's amodal mask hidden
    reprojection_px: float  # largest pasted-joint disagreement (0 when no joints)
    # the distractor's rigid motion in 3D: X_target_cam = rotation @ X + translation (mm)
    motion: tuple[np.ndarray, np.ndarray] = (np.eye(3), np.zeros(3))


def flip_hand_image(item: HandImage) -> HandImage:
    """Mirror a picture left-right: a right hand becomes a left hand, exactly.

    ``u' = W - 1 - u`` with ``X' = -X`` and ``cx' = W - 1 - cx``. A posed hand or a
    camera in ``meta`` cannot be mirrored and is dropped; the item is marked ``flipped``.
    """
    width = item.image.shape[1]
    k = np.array(item.intrinsics, np.float64).copy()
    k[0, 2] = width - 1 - k[0, 2]
    joints = None
    if item.joints_cam is not None:
        joints = np.asarray(item.joints_cam, np.float64) * np.array([-1.0, 1.0, 1.0])
    return HandImage(
        image=np.ascontiguousarray(item.image[:, ::-1]),
        amodal=np.ascontiguousarray(item.amodal[:, ::-1]),
        side="left" if item.side == "right" else "right",
        intrinsics=k,
        joints_cam=joints,
        background=_mirrored(item.background),
        visible=_mirrored(item.visible),
        meta={**_unmirrored_meta(item.meta), "flipped": True},
    )


def _unmirrored_meta(meta: dict) -> dict:
    """``meta`` without what a mirror would invalidate (a posed hand, its camera)."""
    return {key: value for key, value in meta.items() if key not in ("posed", "camera")}


def _mirrored(array: np.ndarray | None) -> np.ndarray | None:
    return None if array is None else np.ascontiguousarray(array[:, ::-1])


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking direction ``a`` onto direction ``b``."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(np.dot(a, b))
    if s < 1e-12:
        return np.eye(3)
    axis /= s
    kx = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + s * kx + (1 - c) * kx @ kx


def wrist_pixel(item: HandImage) -> np.ndarray:
    """The distractor's anchor: its projected wrist, or the mask centroid without joints."""
    if item.joints_cam is not None:
        w = np.asarray(item.joints_cam[WRIST], np.float64)
        k = np.asarray(item.intrinsics, np.float64)
        return np.array([k[0, 0] * w[0] / w[2] + k[0, 2], k[1, 1] * w[1] / w[2] + k[1, 2]])
    ys, xs = np.nonzero(item.amodal)
    return np.array([xs.mean(), ys.mean()]) if xs.size else np.array(item.amodal.shape[::-1]) / 2


def paste_geometry(
    distractor: HandImage, k_target: np.ndarray, params: PasteParams
) -> tuple[np.ndarray, np.ndarray, float]:
    """The 3x3 pixel warp (distractor -> target image), the 3D rotation about the
    camera centre, and the depth factor (1/scale) of the distractor."""
    k_d = np.asarray(distractor.intrinsics, np.float64)
    k_t = np.asarray(k_target, np.float64)
    anchor = wrist_pixel(distractor)
    magnify = np.array(
        [[params.scale, 0, anchor[0] * (1 - params.scale)],
         [0, params.scale, anchor[1] * (1 - params.scale)],
         [0, 0, 1.0]]
    )  # fmt: skip
    angle = math.radians(-params.angle_deg)  # screen counter-clockwise = -z rotation (y down)
    spin = np.array(
        [[math.cos(angle), -math.sin(angle), 0], [math.sin(angle), math.cos(angle), 0], [0, 0, 1]]
    )
    ray = spin @ np.linalg.solve(k_d, np.array([anchor[0], anchor[1], 1.0]))
    goal = np.linalg.solve(k_t, np.array([params.target_px[0], params.target_px[1], 1.0]))
    rotation = rotation_between(ray, goal) @ spin
    warp = k_t @ rotation @ np.linalg.inv(k_d) @ magnify
    return warp / warp[2, 2], rotation, 1.0 / params.scale


def jitter_colour(
    image: np.ndarray, gains: tuple[float, float, float], offset: float
) -> np.ndarray:
    """Per-channel gain and a brightness offset, clipped to uint8."""
    out = image.astype(np.float32) * np.asarray(gains, np.float32) + np.float32(offset)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def warp_distractor(
    distractor: HandImage, warp: np.ndarray, size: tuple[int, int], params: PasteParams
) -> tuple[np.ndarray, np.ndarray]:
    """The colour-jittered distractor image and its amodal mask in the target frame."""
    width, height = size
    picture = jitter_colour(distractor.image, params.gains, params.offset)
    image = cv2.warpPerspective(picture, warp, (width, height), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(
        distractor.amodal.astype(np.uint8), warp, (width, height), flags=cv2.INTER_NEAREST
    )
    return image, mask.astype(bool)


def warped_mask(
    distractor: HandImage, k_target: np.ndarray, params: PasteParams, size: tuple[int, int]
) -> np.ndarray:
    """Only the pasted amodal mask (cheap: used to aim at an occlusion window)."""
    warp, _, _ = paste_geometry(distractor, k_target, params)
    mask = cv2.warpPerspective(
        distractor.amodal.astype(np.uint8), warp, size, flags=cv2.INTER_NEAREST
    )
    return mask.astype(bool)


def occlusion_of(amodal: np.ndarray, cover: np.ndarray) -> float:
    """Fraction of ``amodal`` hidden under ``cover`` (0 for an empty mask)."""
    area = int(np.count_nonzero(amodal))
    return float(np.count_nonzero(amodal & cover)) / area if area else 0.0


def hidden_share(amodal: np.ndarray, visible: np.ndarray) -> float:
    """Occlusion ratio ``1 - |visible| / |amodal|`` (0 for an empty amodal mask)."""
    area = int(np.count_nonzero(amodal))
    return 1.0 - int(np.count_nonzero(visible)) / area if area else 0.0


def compose(target: HandImage, distractor: HandImage, params: PasteParams) -> Composite:
    """Paste ``distractor`` (the other side) on ``target`` with ``params``."""
    if target.side == distractor.side:
        raise ValueError(f"target and distractor are both {target.side} hands")
    height, width = target.image.shape[:2]
    warp, rotation, depth_factor = paste_geometry(distractor, target.intrinsics, params)
    pasted, cover = warp_distractor(distractor, warp, (width, height), params)
    image = np.where(cover[..., None], pasted, target.image)

    masks = np.zeros((len(MASK_NAMES), height, width), bool)
    t, d = (0, 2) if target.side == "right" else (2, 0)
    masks[t] = target.amodal
    masks[t + 1] = (target.amodal if target.visible is None else target.visible) & ~cover
    masks[d] = cover
    masks[d + 1] = cover
    if distractor.visible is not None:  # what hid part of the distractor was pasted too
        seen = cv2.warpPerspective(
            distractor.visible.astype(np.uint8), warp, (width, height), flags=cv2.INTER_NEAREST
        )
        masks[d + 1] &= seen.astype(bool)

    hdr_gt = {target.side: target.image.copy()}
    if target.background is not None and cover.any():
        # the frame with only the distractor: the target's hand replaced by its plate
        removed = (target.amodal & ~cover)[..., None]
        hdr_gt[distractor.side] = np.where(removed, target.background, image)

    joints: dict[str, np.ndarray | None] = {target.side: target.joints_cam, distractor.side: None}
    reprojection = 0.0
    translation = rotation @ (wrist_depth_shift(distractor, depth_factor))
    if distractor.joints_cam is not None:
        j = np.asarray(distractor.joints_cam, np.float64)
        moved = j @ rotation.T + translation
        joints[distractor.side] = moved
        k_d = np.asarray(distractor.intrinsics, np.float64)
        source_px = (j @ k_d.T)[:, :2] / j[:, 2:3]
        pasted_px = np.c_[source_px, np.ones(len(j))] @ warp.T
        pasted_px = pasted_px[:, :2] / pasted_px[:, 2:3]
        k_t = np.asarray(target.intrinsics, np.float64)
        projected = (moved @ k_t.T)[:, :2] / moved[:, 2:3]
        reprojection = float(np.abs(projected - pasted_px).max())
    return Composite(
        image=image,
        masks=masks,
        hdr_gt=hdr_gt,
        joints_cam=joints,
        occlusion={
            target.side: hidden_share(masks[t], masks[t + 1]),
            distractor.side: hidden_share(masks[d], masks[d + 1]),
        },
        reprojection_px=reprojection,
        motion=(rotation, translation),
    )


def wrist_depth_shift(item: HandImage, depth_factor: float) -> np.ndarray:
    """The 3D shift (mm) that moves a hand along its wrist ray to ``depth_factor`` x its
    depth (zero when the hand has no joints: nothing to move)."""
    if item.joints_cam is None:
        return np.zeros(3)
    wrist = np.asarray(item.joints_cam[WRIST], np.float64)
    return wrist * (depth_factor - 1.0)
