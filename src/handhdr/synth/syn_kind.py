"""AIH_Syn-style samples: copy-paste of single-hand images (paper, sec. 4).

A two-hand sample takes a *target* single-hand image and pastes the hand of a
*distractor* image of the other side on top (:mod:`handhdr.synth.copy_paste`), with
random scale, rotation, translation and colour jitter, the translation redrawn until
the target's occlusion ratio falls inside the window (``--occlusion``, default
:data:`DEFAULT_WINDOW`). The two hands are paired by appearance. A single-hand sample
(by the mix) is one source image as it is.

Sources of single-hand images (``--source``):

* ``render`` (default): made on the fly by the renderer, one scene per hand, the two
  hands sharing one person's skin under their own light and background; joints,
  hand-model parameters and the background plate are known, so every ground truth
  is written;
* ``interhand:DIR``: single-hand frames of an InterHand2.6M-layout dataset (same split)
  that have packed masks (``handhdr`` MANO-rendered masks); joints and validity come
  from its annotations; pairs are the closest in mean skin colour of a few candidates;
* ``folder:DIR``: crops with amodal masks, ``DIR/right/NAME.jpg`` (or .png) with
  ``DIR/right/NAME_mask.png`` and the same under ``left/``; no joints (validity 0).

Without a background plate (the two image sources) only the target gets a
de-occlusion/removal ground truth image, as in the published AIH_Syn. Images of
another size are scaled to cover the output frame and cropped around the hand
(the intrinsics follow).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from handhdr.camera import intrinsics_matrix
from handhdr.datasets.schema import MASK_NAMES
from handhdr.joints import HAND_SLICES
from handhdr.synth.cameras import CAMERA_NAME_BASE, Camera, capture_of
from handhdr.synth.config import SynthConfig
from handhdr.synth.copy_paste import (
    Composite,
    HandImage,
    PasteParams,
    compose,
    flip_hand_image,
    hidden_share,
    occlusion_of,
    warped_mask,
    wrist_pixel,
)
from handhdr.synth.records import SynthSample, build_record
from handhdr.synth.render_kind import choose_hand_type, mano_record
from handhdr.synth.seeding import sample_streams

DEFAULT_WINDOW = (0.1, 0.7)  # occlusion of the target when --occlusion is not given
PASTE_TRIES = 24  # placements tried per sample to meet the window
PAIR_CANDIDATES = 6  # distractors compared by appearance (image sources)
OTHER = {"right": "left", "left": "right"}


class HandSource(Protocol):
    """Single-hand images of either side, framed at the output size."""

    name: str

    def target(self, rng: np.random.Generator, side: str, index: int) -> HandImage: ...

    def partner(self, rng: np.random.Generator, target: HandImage) -> HandImage: ...


def fit_to_frame(rng: np.random.Generator, item: HandImage, width: int, height: int) -> HandImage:
    """Scale ``item`` to cover ``width x height`` and crop, keeping the hand inside when it
    fits; the intrinsics follow the scale and the crop."""
    h, w = item.image.shape[:2]
    if (w, h) == (width, height):
        return item
    scale = max(width / w, height / h)
    size = (max(width, round(w * scale)), max(height, round(h * scale)))
    image = cv2.resize(
        item.image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    )
    amodal = cv2.resize(item.amodal.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    ys, xs = np.nonzero(amodal)
    offset = []
    for extent, full, coords in ((width, size[0], xs), (height, size[1], ys)):
        low, high = 0, full - extent
        if coords.size:
            low = max(low, min(high, int(coords.max()) - extent + 1))
            high = min(high, max(0, int(coords.min())))
        offset.append(int(rng.integers(min(low, high), max(low, high) + 1)))
    ox, oy = offset
    k = np.array(item.intrinsics, np.float64).copy()
    k[0, 0] *= size[0] / w
    k[1, 1] *= size[1] / h
    k[0, 2] = (k[0, 2] + 0.5) * size[0] / w - 0.5 - ox
    k[1, 2] = (k[1, 2] + 0.5) * size[1] / h - 0.5 - oy
    window = np.s_[oy : oy + height, ox : ox + width]
    return dataclasses.replace(
        item,
        image=np.ascontiguousarray(image[window]),
        amodal=np.ascontiguousarray(amodal[window]),
        intrinsics=k,
        background=None,
    )


def hand_extent(item: HandImage) -> float:
    """Diagonal of the amodal mask's box (pixels)."""
    ys, xs = np.nonzero(item.amodal)
    if xs.size == 0:
        return 1.0
    return float(math.hypot(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1))


def sample_paste(
    rng: np.random.Generator,
    target: HandImage,
    distractor: HandImage,
    window: tuple[float, float],
    tries: int = PASTE_TRIES,
) -> tuple[PasteParams, int]:
    """Paste parameters whose target occlusion lies in ``window`` (or the closest of
    ``tries``) and the number of tries used. Scale makes the hands about equally
    large (x0.8-1.25), rotation is +-60 degrees, colour gains +-10%, offset +-12."""
    height, width = target.image.shape[:2]
    base_scale = hand_extent(target) / hand_extent(distractor)
    ys, xs = np.nonzero(target.amodal)
    dys, dxs = np.nonzero(distractor.amodal)
    anchor = wrist_pixel(distractor)
    to_centre = np.array([dxs.mean(), dys.mean()]) - anchor if dxs.size else np.zeros(2)
    best: tuple[float, PasteParams] | None = None
    for attempt in range(1, tries + 1):
        scale = float(base_scale * np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
        angle = float(rng.uniform(-60.0, 60.0))
        pick = int(rng.integers(xs.size)) if xs.size else 0
        spot = (
            np.array([xs[pick], ys[pick]], np.float64) if xs.size else np.array([width, height]) / 2
        )
        spot += rng.normal(0.0, 0.15 * hand_extent(target), 2)
        turn = math.radians(-angle)
        rotated = scale * np.array(
            [
                math.cos(turn) * to_centre[0] - math.sin(turn) * to_centre[1],
                math.sin(turn) * to_centre[0] + math.cos(turn) * to_centre[1],
            ]
        )
        params = PasteParams(
            scale=scale,
            angle_deg=angle,
            target_px=(float(spot[0] - rotated[0]), float(spot[1] - rotated[1])),
            gains=tuple(float(g) for g in rng.uniform(0.9, 1.1, 3)),
            offset=float(rng.uniform(-12.0, 12.0)),
        )
        cover = warped_mask(distractor, target.intrinsics, params, (width, height))
        ratio = occlusion_of(target.amodal, cover)
        miss = 0.0 if window[0] <= ratio <= window[1] else min(abs(ratio - w) for w in window)
        if best is None or miss < best[0]:
            best = (miss, params)
        if miss == 0.0:
            return params, attempt
    assert best is not None
    return best[1], tries


# ------------------------------------------------------------------------- sources
class RenderSource:
    """Single-hand images made on the fly with the renderer (see the module docstring)."""

    name = "render"

    def __init__(self, config: SynthConfig) -> None:
        from handhdr.synth.render_kind import RenderFactory

        self.factory = RenderFactory(config)

    def _render(self, rng: np.random.Generator, side: str, camera: Camera, look: Any) -> HandImage:
        from handhdr.render.renderer import PinholeCamera
        from handhdr.render.renderer import Scene as RenderScene

        f = self.factory
        scene = f.sampler.single(rng, side)
        hands = f.view(rng, scene, camera)
        result = f.render(hands, camera, look)
        pinhole = PinholeCamera(camera.intrinsics, f.config.width, f.config.height)
        plate = f.renderer.render(RenderScene(pinhole, [], forearms=False), look=look).image
        return HandImage(
            image=result.image,
            amodal=result.amodal(side),
            side=side,
            intrinsics=camera.intrinsics,
            joints_cam=hands[side].joints * 1000.0,
            background=plate,
            visible=result.visible(side),
            meta={"posed": hands[side], "camera": camera, "look": look},
        )

    def target(self, rng: np.random.Generator, side: str, index: int) -> HandImage:
        """A rendered single-hand image of ``side`` seen by a rig camera of ``index``."""
        from handhdr.render.renderer import PinholeCamera
        from handhdr.render.renderer import Scene as RenderScene

        f = self.factory
        camera = f.camera(index, rng)
        empty = RenderScene(PinholeCamera(camera.intrinsics, f.config.width, f.config.height), [])
        return self._render(rng, side, camera, f.renderer.sample_look(rng, empty))

    def partner(self, rng: np.random.Generator, target: HandImage) -> HandImage:
        """The other hand of the same person, rendered under its own light and background."""
        from handhdr.render.renderer import PinholeCamera
        from handhdr.render.renderer import Scene as RenderScene

        f = self.factory
        camera = target.meta["camera"]
        empty = RenderScene(PinholeCamera(camera.intrinsics, f.config.width, f.config.height), [])
        look = dataclasses.replace(
            f.renderer.sample_look(rng, empty), skins=target.meta["look"].skins
        )
        return self._render(rng, OTHER[target.side], camera, look)


class _ImageSource:
    """Shared logic of sources made of stored single-hand images."""

    name = "images"

    def __init__(self, config: SynthConfig) -> None:
        self.config = config
        self.entries: dict[str, list[Any]] = {"right": [], "left": []}

    def load(self, entry: Any, side: str) -> HandImage:
        raise NotImplementedError

    def _draw(self, rng: np.random.Generator, side: str) -> HandImage:
        own, other = self.entries[side], self.entries[OTHER[side]]
        for _ in range(8):  # skip the odd image whose mask is empty
            if own:
                item = self.load(own[int(rng.integers(len(own)))], side)
            else:  # only the other side is stored: mirror it
                item = flip_hand_image(self.load(other[int(rng.integers(len(other)))], OTHER[side]))
            if item.amodal.any():
                return fit_to_frame(rng, item, self.config.width, self.config.height)
        raise RuntimeError(f"{self.name} source: no {side} hand with a non-empty mask found")

    def target(self, rng: np.random.Generator, side: str, index: int) -> HandImage:
        """A random stored image of ``side`` (mirrored from the other side if need be)."""
        return self._draw(rng, side)

    def partner(self, rng: np.random.Generator, target: HandImage) -> HandImage:
        """The closest in mean hand colour of a few random images of the other side."""
        wanted = target.appearance()
        candidates = [self._draw(rng, OTHER[target.side]) for _ in range(PAIR_CANDIDATES)]
        distances = [float(np.linalg.norm(c.appearance() - wanted)) for c in candidates]
        return candidates[int(np.argmin(distances))]


class InterHandSource(_ImageSource):
    """Single-hand frames (with packed masks) of an InterHand2.6M-layout dataset."""

    name = "interhand"

    def __init__(self, config: SynthConfig, root: Path) -> None:
        from handhdr.datasets.interhand import InterHandDataset
        from handhdr.datasets.masks import mask_path

        super().__init__(config)
        self.dataset = InterHandDataset(root, config.split, load_hdr_gt=False)
        types = self.dataset.hand_types
        for row, name in enumerate(self.dataset.file_names):
            if types[row] in ("right", "left") and mask_path(root, config.split, name).is_file():
                self.entries[types[row]].append(row)
        if not any(self.entries.values()):
            raise FileNotFoundError(
                f"{root}: no single-hand {config.split} image has a mask under masks/ "
                "(render them from the MANO fits first, handhdr.datasets.masks layout)"
            )

    def load(self, entry: int, side: str) -> HandImage:
        sample = self.dataset[entry]
        valid = sample.joint_valid[HAND_SLICES[side]]
        return HandImage(
            image=sample.image,
            amodal=sample.mask(f"{side}_amodal"),
            side=side,
            intrinsics=sample.intrinsics.astype(np.float64),
            joints_cam=sample.joints_cam[HAND_SLICES[side]].astype(np.float64),
            meta={"valid": valid, "source": sample.file_name},
        )


class FolderSource(_ImageSource):
    """Crops with masks: ``right/NAME.jpg`` + ``right/NAME_mask.png``, same for ``left``."""

    name = "folder"

    def __init__(self, config: SynthConfig, root: Path) -> None:
        super().__init__(config)
        for side in ("right", "left"):
            folder = root / side
            if not folder.is_dir():
                continue
            for image in sorted(folder.iterdir()):
                mask = image.with_name(f"{image.stem}_mask.png")
                if image.suffix.lower() in (".jpg", ".jpeg", ".png") and mask.is_file():
                    if not image.stem.endswith("_mask"):
                        self.entries[side].append((image, mask))
        if not any(self.entries.values()):
            raise FileNotFoundError(
                f"{root}: no crops found; expected right/NAME.jpg with right/NAME_mask.png "
                "(and/or the same under left/)"
            )

    def load(self, entry: tuple[Path, Path], side: str) -> HandImage:
        from handhdr.io import read_image

        image_path, mask_file = entry
        image = read_image(image_path)
        mask = cv2.imread(str(mask_file), cv2.IMREAD_GRAYSCALE)
        if mask is None or mask.shape != image.shape[:2]:
            raise ValueError(
                f"{mask_file}: expected a single-channel mask of the image's size "
                f"{image.shape[1]}x{image.shape[0]}"
            )
        h, w = image.shape[:2]
        f = float(max(w, h))
        return HandImage(
            image=image,
            amodal=mask > 0,
            side=side,
            intrinsics=intrinsics_matrix(np.array([f, f]), np.array([(w - 1) / 2, (h - 1) / 2])),
            meta={"source": str(image_path)},
        )


def make_source(config: SynthConfig) -> HandSource:
    """The source named by ``config.source``."""
    if config.source == "render":
        return RenderSource(config)
    kind, _, folder = config.source.partition(":")
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"--source {config.source}: {root} is not a folder")
    return InterHandSource(config, root) if kind == "interhand" else FolderSource(config, root)


# ------------------------------------------------------------------------- samples
class SynFactory:
    """Makes copy-paste samples of one config."""

    def __init__(self, config: SynthConfig) -> None:
        self.config = config
        self.source = make_source(config)
        self.window = config.occlusion or DEFAULT_WINDOW
        self.seq_name = f"synth_syn_{self.source.name}"

    def make(self, index: int) -> SynthSample:
        """Sample ``index``."""
        c = self.config
        streams = sample_streams(c.seed, index)
        hand_type = choose_hand_type(streams["kind"], c.mix)
        rng = streams["paste"]
        counters: Counter[str] = Counter()
        if hand_type != "interacting":
            item = self.source.target(rng, hand_type, index)
            masks = np.zeros((len(MASK_NAMES), c.height, c.width), bool)
            visible = item.amodal if item.visible is None else item.visible
            masks[MASK_NAMES.index(f"{hand_type}_amodal")] = item.amodal
            masks[MASK_NAMES.index(f"{hand_type}_visible")] = visible
            occlusion = {hand_type: hidden_share(item.amodal, visible)}
            return self._sample(
                index, hand_type, hand_type, item.image, masks, {hand_type: item.image},
                {hand_type: item}, None, occlusion, counters,
            )  # fmt: skip
        side = "right" if rng.random() < 0.5 else "left"
        target = self.source.target(rng, side, index)
        distractor = self.source.partner(rng, target)
        params, tries = sample_paste(rng, target, distractor, self.window)
        counters["paste_tries"] += tries
        composite = compose(target, distractor, params)
        ratio = composite.occlusion[target.side]
        if not self.window[0] <= ratio <= self.window[1]:
            counters["occlusion_window_missed"] += 1
        return self._sample(
            index, hand_type, side, composite.image, composite.masks, composite.hdr_gt,
            {target.side: target, distractor.side: distractor}, composite,
            composite.occlusion, counters,
        )  # fmt: skip

    def _camera(self, index: int, item: HandImage) -> Camera:
        camera = item.meta.get("camera")
        if camera is not None:
            return camera
        focal = np.array([item.intrinsics[0, 0], item.intrinsics[1, 1]])
        princpt = np.array([item.intrinsics[0, 2], item.intrinsics[1, 2]])
        # stored images: the world frame is this camera's frame, one camera per image
        return Camera(
            str(CAMERA_NAME_BASE + 100_000 + index), np.eye(3), np.zeros(3), focal, princpt
        )

    def _sample(
        self,
        index: int,
        hand_type: str,
        target_side: str,
        image: np.ndarray,
        masks: np.ndarray,
        hdr_gt: dict[str, np.ndarray],
        items: dict[str, HandImage],
        composite: Composite | None,
        occlusion: dict[str, float],
        counters: Counter[str],
    ) -> SynthSample:
        c = self.config
        target = items[target_side]
        camera = self._camera(index, target)
        joints = np.zeros((42, 3))
        present: dict[str, bool | np.ndarray] = {}
        mano: dict[str, dict | None] = {}
        for side, item in items.items():
            moved = composite is not None and item is not target
            cam_joints = composite.joints_cam[side] if moved else item.joints_cam
            if cam_joints is None:
                present[side] = False
                continue
            joints[HAND_SLICES[side]] = cam_joints
            present[side] = item.meta.get("valid", True)
            posed = item.meta.get("posed")
            if posed is not None:
                if moved:
                    rotation, shift = composite.motion
                    posed = posed.moved(rotation, shift / 1000.0)
                mano[side] = mano_record(posed, camera, self.source.factory.kit.kind)
        record = build_record(
            index=index,
            capture=capture_of(index),
            seq_name=self.seq_name,
            camera=camera,
            width=c.width,
            height=c.height,
            joints_cam=joints,
            present=present,
            hand_type=hand_type,
            mano_world=mano,
            synth={
                "kind": c.kind,
                "scene": "copy_paste" if composite is not None else "single",
                "source": self.source.name,
                "occlusion": {side: round(float(v), 6) for side, v in occlusion.items()},
                "reprojection_px": None if composite is None else composite.reprojection_px,
                "counters": dict(counters),
            },
        )
        return SynthSample(index, image, masks, dict(hdr_gt), record)
