"""Contact sheets of rendered hands: what the renderer makes, at a glance.

Scenes come from the synthetic-data scene sampler (:mod:`handhdr.synth.scenes`: the
hand model's gestures and pose prior, random shapes, two-hand interactions without
interpenetration, single hands), seen from a random studio viewpoint. Every tile is a
pure function of (seed, tile index).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from handhdr.render.background import BackgroundSource, ProceduralBackgrounds
from handhdr.render.renderer import HandGeometry, PinholeCamera, Renderer, RenderResult, Scene

# tile kinds, in the order they repeat on a sheet
KINDS: tuple[str, ...] = ("interacting", "interacting", "right", "interacting", "left")
MASK_COLOURS = {  # RGB of each hand's visible part and of its hidden (amodal only) part
    "right": ((230, 60, 50), (120, 30, 25)),
    "left": ((40, 200, 70), (20, 100, 35)),
}


@dataclass
class PreviewSample:
    """One rendered tile and how it was made."""

    kind: str  # "interacting", "right" or "left"
    interaction: str  # the scene recipe ("single" for one hand)
    result: RenderResult
    joints_img: dict[str, np.ndarray]  # side -> (21, 2) pixels


class PreviewScenes:
    """Random scenes for previews and benchmarks, with the team's scene sampler."""

    def __init__(self, hand_model: str = "builtin") -> None:
        from handhdr.synth.hands import HandKit
        from handhdr.synth.scenes import SceneSampler

        self.kit = HandKit(hand_model)
        self.sampler = SceneSampler(self.kit)

    def scene(
        self, rng: np.random.Generator, kind: str, width: int, height: int
    ) -> tuple[Scene, str]:
        """A render scene of ``kind`` ("interacting", "right" or "left") and its recipe."""
        from handhdr.synth.cameras import Camera, body_to_camera, place_in_view

        body = (
            self.sampler.interacting(rng)
            if kind == "interacting"
            else self.sampler.single(rng, kind)
        )
        f = width * rng.uniform(1.6, 2.4)  # a longer lens than the data's: bigger hands
        princpt = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
        camera = Camera("preview", np.eye(3), np.zeros(3), np.array([f, f]), princpt)
        rotation = body_to_camera(rng, "studio")
        ids = self.kit.collision_ids
        points = np.concatenate(
            [np.concatenate([h.joints, h.vertices[ids]]) for h in body.hands.values()]
        )
        shift = place_in_view(rng, points @ rotation.T, camera, "studio", width, height)
        hands = [
            HandGeometry.from_model(
                self.kit.data[side],
                (h.vertices @ rotation.T + shift) * 1000.0,
                (h.joints @ rotation.T + shift) * 1000.0,
            )
            for side, h in body.hands.items()
        ]
        return Scene(PinholeCamera(camera.intrinsics, width, height), hands), body.interaction


def render_samples(
    seed: int,
    num: int,
    width: int,
    height: int,
    hand_model: str = "builtin",
    backgrounds: BackgroundSource | None = None,
    effects: bool = True,
) -> list[PreviewSample]:
    """``num`` rendered samples; sample ``i`` uses ``SeedSequence([seed, i])``; with
    ``effects=False`` without camera noise, blur and JPEG artefacts."""
    scenes = PreviewScenes(hand_model)
    renderer = Renderer(backgrounds or ProceduralBackgrounds())
    samples = []
    for i in range(num):
        rng = np.random.default_rng(np.random.SeedSequence([seed, i]))
        kind = KINDS[i % len(KINDS)]
        scene, interaction = scenes.scene(rng, kind, width, height)
        result = renderer.render(scene, look=renderer.sample_look(rng, scene, effects))
        k = scene.camera.intrinsics
        joints = {}
        for hand in scene.hands:
            j = np.asarray(hand.joints, np.float64)
            joints[hand.side] = j[:, :2] / j[:, 2:3] * [k[0][0], k[1][1]] + [k[0][2], k[1][2]]
        samples.append(PreviewSample(kind, interaction, result, joints))
    return samples


def mask_tile(result: RenderResult) -> np.ndarray:
    """The masks drawn over a darkened image: each hand's visible part bright, its
    hidden part (amodal but not visible) dark, in the hand's colour (right red, left
    green)."""
    tile = (result.image.astype(np.float32) * 0.35).astype(np.uint8)
    for side, (bright, dark) in MASK_COLOURS.items():
        visible, amodal = result.visible(side), result.amodal(side)
        tile[amodal & ~visible] = dark
        tile[visible] = bright
    return tile


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    """``tile`` with ``text`` on a dark band at its top."""
    out = tile.copy()
    scale = max(0.3, tile.shape[0] / 520.0)
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    band = out[: th + base + 4, : tw + 6]
    band[...] = (band * 0.35).astype(np.uint8)
    cv2.putText(
        out, text, (3, th + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
    )
    return out


def contact_sheet(
    seed: int = 0,
    num: int = 12,
    width: int = 320,
    height: int = 208,
    columns: int = 4,
    mask_rows: int = 2,
    hand_model: str = "builtin",
    backgrounds: BackgroundSource | None = None,
    effects: bool = True,
) -> np.ndarray:
    """A sheet of ``num`` renders, ``columns`` per row. Up to ``mask_rows`` two-hand
    renders get a row of their own instead (image, masks, and the right and the left
    hand's de-occlusion/removal ground truth); the others fill the rows below."""
    if num < 1 or width < 16 or height < 16 or columns < 1:
        raise ValueError(
            f"need num >= 1, columns >= 1 and tiles of at least 16x16, got {num}, "
            f"{columns}, {width}x{height}"
        )
    samples = render_samples(seed, num, width, height, hand_model, backgrounds, effects)
    blank = np.full((height, width, 3), 40, np.uint8)
    detailed = [i for i, s in enumerate(samples) if s.kind == "interacting"][:mask_rows]
    rows = []
    for i in detailed:
        r = samples[i].result
        occ = ", ".join(f"{side[0]} {v:.2f}" for side, v in r.occlusion.items())
        tiles = [
            _label(r.image, f"{samples[i].interaction}, occlusion {occ}"),
            _label(mask_tile(r), "masks (dark: hidden)"),
            _label(r.hdr_gt.get("right", blank), "right hand alone"),
            _label(r.hdr_gt.get("left", blank), "left hand alone"),
        ]
        rows.append(np.concatenate((tiles + [blank] * columns)[:columns], axis=1))
    tiles = [
        _label(s.result.image, s.interaction if s.kind == "interacting" else f"{s.kind} hand")
        for i, s in enumerate(samples)
        if i not in detailed
    ]
    tiles += [blank] * (-len(tiles) % columns)
    for r in range(0, len(tiles), columns):
        rows.append(np.concatenate(tiles[r : r + columns], axis=1))
    return np.concatenate(rows, axis=0)
