"""Square hand crops shared by HDRM, SHPE and the pipeline, and their inverse.

A crop is a similarity transform (scale, translation, optional horizontal mirror)
from the image to a ``resolution x resolution`` patch:

* the box is a square centred on the hand's box (the bounding box of its amodal
  mask, or of its 2D joints), with side ``scale x max(w, h)`` (``scale`` = 2 in the
  paper);
* left-hand crops are mirrored horizontally, so every network after HASM only sees
  right hands; :meth:`CropBox.from_crop` and :func:`uncrop_image` undo the mirror;
* coordinates follow OpenCV: pixel ``i`` has its centre at ``i`` and covers
  ``[i - 0.5, i + 0.5]``. A box covers ``[cx - side/2, cx + side/2]`` of the image
  and maps onto ``[-0.5, resolution - 0.5]`` of the crop.

Boxes are never shifted or shrunk to stay inside the image: a hand at the image
border keeps its centred box, and crop pixels outside the image are filled with a
constant (``border_value``, black by default). A hand whose mask is empty (or has
no valid joint) has no box: the box functions return ``None``, meaning absent.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

_INTERPOLATION = {"bilinear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST}


@dataclass(frozen=True)
class CropBox:
    """A square box of the image and the crop it is resampled to."""

    center: tuple[float, float]  # x, y, image pixels
    side: float  # side of the square, image pixels
    resolution: int  # side of the crop, pixels
    flip: bool = False  # mirrored horizontally (left hands)

    def __post_init__(self) -> None:
        if not self.side > 0:
            raise ValueError(f"a crop box needs a positive side, got {self.side}")
        if self.resolution < 1:
            raise ValueError(f"the crop resolution must be >= 1, got {self.resolution}")

    @property
    def scale(self) -> float:
        """Crop pixels per image pixel."""
        return self.resolution / self.side

    @property
    def matrix(self) -> np.ndarray:
        """2x3 float64 affine map from image pixels to crop pixels."""
        s = self.scale
        x0 = self.center[0] - self.side / 2
        y0 = self.center[1] - self.side / 2
        ty = -y0 * s - 0.5
        if self.flip:  # x_c = res - 1 - (s (x - x0) - 0.5)
            return np.array([[-s, 0.0, self.resolution - 0.5 + x0 * s], [0.0, s, ty]])
        return np.array([[s, 0.0, -x0 * s - 0.5], [0.0, s, ty]])

    @property
    def inverse_matrix(self) -> np.ndarray:
        """2x3 float64 affine map from crop pixels back to image pixels."""
        m = self.matrix
        a, s = m[0, 0], m[1, 1]
        return np.array([[1 / a, 0.0, -m[0, 2] / a], [0.0, 1 / s, -m[1, 2] / s]])

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Map image points ``(..., 2)`` into crop pixels."""
        return _apply(self.matrix, points)

    def from_crop(self, points: np.ndarray) -> np.ndarray:
        """Map crop points ``(..., 2)`` back to image pixels (the mirror undone)."""
        return _apply(self.inverse_matrix, points)

    def corners(self) -> np.ndarray:
        """``(x0, y0, x1, y1)`` of the box in image pixels (continuous extent)."""
        cx, cy = self.center
        h = self.side / 2
        return np.array([cx - h, cy - h, cx + h, cy + h])


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.shape[-1] != 2:
        raise ValueError(f"points must have shape (..., 2), got {p.shape}")
    return p @ matrix[:, :2].T + matrix[:, 2]


def square_box(
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    resolution: int,
    scale: float = 2.0,
    flip: bool = False,
    min_side: float = 1.0,
) -> CropBox:
    """The square box centred on the extent ``[x0, x1] x [y0, y1]``, side x ``scale``."""
    side = max(max(x1 - x0, y1 - y0) * scale, min_side)
    return CropBox(((x0 + x1) / 2, (y0 + y1) / 2), float(side), int(resolution), bool(flip))


def box_from_mask(
    mask: np.ndarray, resolution: int, scale: float = 2.0, flip: bool = False
) -> CropBox | None:
    """The crop box of a hand from its amodal mask; ``None`` when the mask is empty."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"expected an H x W mask, got shape {mask.shape}")
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    # pixels i..j cover the continuous extent [i - 0.5, j + 0.5]
    return square_box(
        cols[0] - 0.5, rows[0] - 0.5, cols[-1] + 0.5, rows[-1] + 0.5, resolution, scale, flip
    )


def box_from_joints(
    joints_2d: np.ndarray,
    resolution: int,
    scale: float = 2.0,
    flip: bool = False,
    valid: np.ndarray | None = None,
    min_side: float = 16.0,
) -> CropBox | None:
    """The crop box from a hand's 2D joints (the ``--gt-boxes`` option of the pipeline).

    The box is that of the valid joints; ``min_side`` (image pixels) keeps one joint,
    or joints on a line, from giving a degenerate box. ``None`` when no joint is valid.
    """
    joints = np.asarray(joints_2d, dtype=np.float64)
    if joints.ndim != 2 or joints.shape[1] != 2:
        raise ValueError(f"expected (J, 2) joints, got shape {joints.shape}")
    keep = np.isfinite(joints).all(axis=1)
    if valid is not None:
        keep &= np.asarray(valid, dtype=bool).reshape(-1)
    if not keep.any():
        return None
    x0, y0 = joints[keep].min(axis=0)
    x1, y1 = joints[keep].max(axis=0)
    return square_box(x0, y0, x1, y1, resolution, scale, flip, min_side)


def crop_image(
    image: np.ndarray,
    box: CropBox,
    interpolation: str = "bilinear",
    border_value: float = 0,
) -> np.ndarray:
    """Resample ``image`` (``H x W`` or ``H x W x C``) into the crop of ``box``."""
    size = (box.resolution, box.resolution)
    return _warp(image, box.matrix, size, interpolation, border_value, inverse=False)


def crop_masks(masks: np.ndarray, box: CropBox) -> np.ndarray:
    """Resample ``(K, H, W)`` boolean masks into the crop: bilinear, then >= 0.5."""
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError(f"expected (K, H, W) masks, got shape {masks.shape}")
    planes = [crop_image(m.astype(np.uint8) * 255, box) >= 128 for m in masks]
    return np.stack(planes) if planes else np.zeros((0, box.resolution, box.resolution), bool)


def uncrop_image(
    crop: np.ndarray,
    box: CropBox,
    image_shape: tuple[int, int],
    interpolation: str = "bilinear",
) -> tuple[np.ndarray, np.ndarray]:
    """Warp a crop back into an image of ``image_shape`` (H, W).

    Returns the image and the boolean coverage: the image pixels whose crop position
    lies within the crop's pixel centres (elsewhere the image is 0).
    """
    h, w = int(image_shape[0]), int(image_shape[1])
    image = _warp(crop, box.matrix, (w, h), interpolation, 0, inverse=True)
    xs, ys = np.meshgrid(np.arange(w), np.arange(h))
    uv = box.to_crop(np.stack([xs, ys], axis=-1))
    top = box.resolution - 1 + 1e-9
    coverage = ((uv >= -1e-9) & (uv <= top)).all(axis=-1)
    return image, coverage


def _warp(
    image: np.ndarray,
    matrix: np.ndarray,
    size: tuple[int, int],
    interpolation: str,
    border_value: float,
    inverse: bool,
) -> np.ndarray:
    if interpolation not in _INTERPOLATION:
        raise ValueError(f"interpolation must be one of {sorted(_INTERPOLATION)}")
    flags = _INTERPOLATION[interpolation] | (cv2.WARP_INVERSE_MAP if inverse else 0)
    image = np.ascontiguousarray(image)
    channels = 1 if image.ndim == 2 else image.shape[2]
    if channels <= 4:
        out = cv2.warpAffine(
            image,
            matrix,
            size,
            flags=flags,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(border_value,) * 4,
        )
        return out.reshape(size[1], size[0], *image.shape[2:])
    planes = [
        _warp(image[:, :, k], matrix, size, interpolation, border_value, inverse)
        for k in range(channels)
    ]
    return np.stack(planes, axis=-1)


def warp_affine_torch(
    images: torch.Tensor,
    matrices: torch.Tensor,
    size: tuple[int, int],
    mode: str = "bilinear",
) -> torch.Tensor:
    """Batched :func:`cv2.warpAffine` in torch (pixel centres at integers, zero border).

    ``images`` ``(B, C, H, W)`` float, ``matrices`` ``(B, 2, 3)`` mapping source
    pixels to output pixels (e.g. ``CropBox.matrix`` to crop, ``inverse_matrix`` to
    go back), ``size`` = (height, width) of the output. Runs on the images' device.
    """
    if images.ndim != 4 or matrices.shape[-2:] != (2, 3) or matrices.shape[0] != images.shape[0]:
        raise ValueError(
            f"expected images (B, C, H, W) and matrices (B, 2, 3), got "
            f"{tuple(images.shape)} and {tuple(matrices.shape)}"
        )
    out_h, out_w = size
    in_h, in_w = images.shape[-2:]
    m = matrices.to(device=images.device, dtype=torch.float64)
    linear = m[:, :, :2]
    inv = torch.linalg.inv(linear)
    shift = -(inv @ m[:, :, 2:])  # source = inv @ out + shift
    ys, xs = torch.meshgrid(
        torch.arange(out_h, dtype=torch.float64, device=images.device),
        torch.arange(out_w, dtype=torch.float64, device=images.device),
        indexing="ij",
    )
    out_pts = torch.stack([xs, ys], dim=-1).reshape(1, -1, 2, 1)
    src = (inv[:, None] @ out_pts + shift[:, None]).squeeze(-1)  # (B, HW, 2)
    # align_corners=True: -1 and 1 are the centres of the first and last pixels
    gx = 2 * src[..., 0] / max(in_w - 1, 1) - 1
    gy = 2 * src[..., 1] / max(in_h - 1, 1) - 1
    grid = torch.stack([gx, gy], dim=-1).reshape(-1, out_h, out_w, 2).to(images.dtype)
    return F.grid_sample(images, grid, mode=mode, padding_mode="zeros", align_corners=True)
