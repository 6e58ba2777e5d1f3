"""Backgrounds behind the hands: procedural scenes or a folder of photographs.

Both sources answer :meth:`BackgroundSource.sample`: a random ``H x W`` RGB uint8 view
drawn with the caller's generator. Each keeps a bank of base images (generated or
decoded once, on first use) and cuts a random crop with random scale, flip and
colour gain out of one of them, which costs about a millisecond per frame.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from handhdr.io.images import read_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


class BackgroundSource(Protocol):
    """Anything that draws background images."""

    def sample(self, rng: np.random.Generator, width: int, height: int) -> np.ndarray:
        """A random ``height x width x 3`` uint8 RGB background."""
        ...


def random_view(rng: np.random.Generator, base: np.ndarray, width: int, height: int) -> np.ndarray:
    """A random crop of ``base`` resized to ``width x height``, maybe mirrored, with a
    random per-channel gain (white balance and brightness)."""
    bh, bw = base.shape[:2]
    aspect = width / height
    scale = rng.uniform(0.35, 1.0)
    ch = max(8, int(round(min(bh, bw / aspect) * scale)))
    cw = max(8, min(bw, int(round(ch * aspect))))
    ch = min(ch, bh)
    y = int(rng.integers(0, bh - ch + 1))
    x = int(rng.integers(0, bw - cw + 1))
    view = cv2.resize(base[y : y + ch, x : x + cw], (width, height), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        view = view[:, ::-1]
    gain = rng.uniform(0.6, 1.25) * rng.uniform(0.88, 1.12, size=3)
    lut = np.clip(np.arange(256)[:, None] * gain[None, :] + 0.5, 0, 255).astype(np.uint8)
    return cv2.LUT(np.ascontiguousarray(view), lut.reshape(256, 1, 3))


def _smooth_field(rng: np.random.Generator, size: int, cells: int, channels: int) -> np.ndarray:
    small = rng.random((cells, cells, channels)).astype(np.float32)
    out = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    return out.reshape(size, size, channels)


def _colour(rng: np.random.Generator, vivid: float = 0.15) -> np.ndarray:
    """A random RGB colour in [0, 1]: mostly muted (walls, furniture, cloth),
    sometimes vivid."""
    hue = rng.uniform(0.0, 180.0)
    sat = rng.uniform(0.5, 1.0) if rng.random() < vivid else rng.beta(1.3, 4.0)
    val = rng.uniform(0.15, 0.95)
    hsv = np.array([[[hue, sat * 255.0, val * 255.0]]], dtype=np.float32)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32) / 255.0


def procedural_background(seed: int, size: int = 640) -> np.ndarray:
    """One procedural scene ``size x size`` RGB uint8: a gradient, noise at several
    scales, shapes, stripes and clutter, partly out of focus. A pure function of ``seed``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xB6]))
    c0, c1 = _colour(rng), _colour(rng)
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.float32(np.cos(angle)) * t[None, :] + np.float32(np.sin(angle)) * t[:, None]
    ramp = cv2.merge([np.clip(ramp * 0.5 + 0.25, 0.0, 1.0)] * 3)
    img = c0 * (1 - ramp) + c1 * ramp  # float32
    for cells, amp in ((3, 0.2), (9, 0.1), (40, 0.05), (160, 0.03)):
        field = _smooth_field(rng, size, cells, 1 if rng.random() < 0.7 else 3)
        img += (field - 0.5) * np.float32(amp * rng.uniform(0.3, 1.5))
    canvas = cv2.convertScaleAbs(np.clip(img, 0.0, 1.0), alpha=255.0)
    for _ in range(int(rng.integers(3, 16))):
        colour = tuple(float(v) * 255.0 for v in _colour(rng, vivid=0.25))
        layer = canvas.copy()
        kind = rng.integers(0, 5)
        p = rng.integers(-size // 4, size + size // 4, 4)
        if kind == 0:
            cv2.rectangle(layer, (int(p[0]), int(p[1])), (int(p[2]), int(p[3])), colour, -1)
        elif kind == 1:
            axes = (int(rng.integers(10, size // 3)), int(rng.integers(10, size // 3)))
            cv2.ellipse(
                layer, (int(p[0]), int(p[1])), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1
            )
        elif kind == 2:
            pts = rng.integers(0, size, (int(rng.integers(3, 7)), 2)).astype(np.int32)
            cv2.fillPoly(layer, [pts], colour)
        elif kind == 3:
            thick = int(rng.integers(2, 18))
            cv2.line(layer, (int(p[0]), int(p[1])), (int(p[2]), int(p[3])), colour, thick)
        else:  # stripes, like textiles, wood or blinds
            period = int(rng.integers(4, 40))
            stripes = ((np.arange(size) // period) % 2).astype(bool)
            x0, y0 = sorted(rng.integers(0, size, 2)), sorted(rng.integers(0, size, 2))
            box = layer[y0[0] : y0[1], x0[0] : x0[1]]
            on = (
                stripes[x0[0] : x0[1]][None, :]
                if rng.random() < 0.5
                else stripes[y0[0] : y0[1]][:, None]
            )
            on = np.broadcast_to(on, box.shape[:2]).astype(np.uint8)
            box[...] = cv2.copyTo(np.full_like(box, colour), on, box)
        if rng.random() < 0.5:  # shading across the object
            shade = _smooth_field(rng, size, 2, 1)[..., 0] * 0.6 + 0.7
            layer = cv2.convertScaleAbs(layer.astype(np.float32) * cv2.merge([shade] * 3))
        alpha = rng.uniform(0.5, 1.0)
        canvas = cv2.addWeighted(layer, alpha, canvas, 1 - alpha, 0)
    for _ in range(int(rng.integers(0, 40))):  # clutter: many small objects
        colour = tuple(float(v) * 255.0 for v in _colour(rng, vivid=0.4))
        centre = tuple(int(v) for v in rng.integers(0, size, 2))
        cv2.circle(canvas, centre, int(rng.integers(2, 12)), colour, -1)
    if rng.random() < 0.6:  # out of focus, like a shallow depth of field
        canvas = cv2.GaussianBlur(canvas, (0, 0), rng.uniform(0.8, 6.0))
    return canvas


@functools.lru_cache(maxsize=64)
def _procedural_cached(seed: int, size: int) -> np.ndarray:
    return procedural_background(seed, size)


class ProceduralBackgrounds:
    """Random views of a bank of ``bank_size`` procedural scenes (made on first use).

    The bank depends only on ``bank_seed``; the views only on the caller's generator.
    """

    def __init__(self, bank_size: int = 48, bank_seed: int = 0, size: int = 640) -> None:
        if bank_size < 1:
            raise ValueError(f"bank_size must be >= 1, got {bank_size}")
        self.bank_size = bank_size
        self.bank_seed = bank_seed
        self.size = size

    def sample(self, rng: np.random.Generator, width: int, height: int) -> np.ndarray:
        """A random background view (see :class:`BackgroundSource`)."""
        index = int(rng.integers(0, self.bank_size))
        base = _procedural_cached(self.bank_seed * 1_000_003 + index, self.size)
        return random_view(rng, base, width, height)


class FolderBackgrounds:
    """Random views of the images in a folder (searched recursively, sorted by path).

    Decoded images are kept in a bank of at most ``bank_size`` (least recently used
    first out), each reduced so that its shorter side is at most ``max_side`` pixels.
    """

    def __init__(self, folder: str | Path, bank_size: int = 64, max_side: int = 720) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(f"background folder {self.folder} does not exist")
        self.files = sorted(
            p for p in self.folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not self.files:
            suffixes = ", ".join(IMAGE_SUFFIXES)
            raise ValueError(f"background folder {self.folder} holds no images ({suffixes})")
        self.bank_size = bank_size
        self.max_side = max_side
        self._bank: OrderedDict[int, np.ndarray] = OrderedDict()

    def _load(self, index: int) -> np.ndarray:
        if index in self._bank:
            self._bank.move_to_end(index)
            return self._bank[index]
        image = read_image(self.files[index])
        short = min(image.shape[:2])
        if short > self.max_side:
            f = self.max_side / short
            size = (max(1, round(image.shape[1] * f)), max(1, round(image.shape[0] * f)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        self._bank[index] = image
        if len(self._bank) > self.bank_size:
            self._bank.popitem(last=False)
        return image

    def sample(self, rng: np.random.Generator, width: int, height: int) -> np.ndarray:
        """A random background view (see :class:`BackgroundSource`)."""
        return random_view(rng, self._load(int(rng.integers(0, len(self.files)))), width, height)
