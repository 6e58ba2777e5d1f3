"""AIH_Render-style samples: a rendered scene of one or two hands with every label.

Sample ``index`` of a config is a pure function of (seed, index): its random streams
come from :func:`handhdr.synth.seeding.sample_streams`. Steps:

1. hand type: single (``right``/``left``, half each) or ``interacting``, by the mix;
2. camera: one of the capture's rig cameras (:mod:`handhdr.synth.cameras`);
3. look: skin, light, background, forearm style, camera effects (the renderer's);
4. scene (:mod:`handhdr.synth.scenes`) seen from a viewpoint of the chosen view,
   placed so the hands fill a realistic part of the frame; with an occlusion window
   the scene and viewpoint are drawn again (same look) until the most occluded hand
   of an interacting scene falls inside it, at most ``occlusion_tries`` times; each
   try is tested on the renderer's labels alone (masks and occlusion, no shading);
5. one render of the accepted scene gives the image, the four masks, the per-hand
   ground truth and the occlusion ratios; joints, validity, camera and hand-model
   parameters (world frame) make the record.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from handhdr.joints import HAND_SLICES
from handhdr.synth.cameras import (
    Camera,
    body_to_camera,
    camera_rig,
    capture_of,
    place_in_view,
)
from handhdr.synth.config import SynthConfig
from handhdr.synth.hands import HandKit, PosedHand
from handhdr.synth.records import SynthSample, build_record
from handhdr.synth.scenes import Scene, SceneSampler
from handhdr.synth.seeding import sample_streams


def choose_hand_type(rng: np.random.Generator, mix: dict[str, float]) -> str:
    """``right``/``left`` (single hand, equally likely) or ``interacting``, by the mix."""
    if rng.random() < mix["ih"]:
        return "interacting"
    return "right" if rng.random() < 0.5 else "left"


def in_window(occlusion: dict[str, float], window: tuple[float, float] | None) -> bool:
    """Whether the most occluded hand lies inside ``[min, max]`` (always without one)."""
    if window is None:
        return True
    values = [v for v in occlusion.values() if np.isfinite(v)]
    return bool(values) and window[0] <= max(values) <= window[1]


def mano_record(hand: PosedHand, camera: Camera, model: str) -> dict[str, Any]:
    """Hand-model parameters of a camera-frame hand, moved to the world frame (metres)."""
    rotation_t = np.asarray(camera.rotation, np.float64).T
    moved = hand.moved(rotation_t, np.asarray(camera.campos, np.float64) / 1000.0)
    return {"pose": moved.pose, "shape": hand.betas, "trans": moved.transl, "hand_model": model}


class RenderFactory:
    """Makes rendered samples of one config; owns its hand models and renderer."""

    def __init__(self, config: SynthConfig) -> None:
        from handhdr.render.background import FolderBackgrounds, ProceduralBackgrounds
        from handhdr.render.renderer import Renderer

        self.config = config
        self.kit = HandKit(config.hand_model)
        self.sampler = SceneSampler(self.kit)
        backgrounds = (
            FolderBackgrounds(config.backgrounds) if config.backgrounds else ProceduralBackgrounds()
        )
        self.renderer = Renderer(backgrounds)
        self.seq_name = f"synth_{config.kind}_{config.view}"

    def camera(self, index: int, rng: np.random.Generator) -> Camera:
        """The rig camera that sees sample ``index``."""
        c = self.config
        rig = camera_rig(c.seed, capture_of(index), c.view, c.width, c.height)
        return rig[int(rng.integers(len(rig)))]

    def scene(self, rng: np.random.Generator, hand_type: str) -> Scene:
        """A scene of ``hand_type`` in the body frame."""
        if hand_type == "interacting":
            return self.sampler.interacting(rng)
        return self.sampler.single(rng, hand_type)

    def view(self, rng: np.random.Generator, scene: Scene, camera: Camera) -> dict[str, PosedHand]:
        """The scene's hands moved into the camera frame (metres) for a random viewpoint."""
        c = self.config
        rotation = body_to_camera(rng, c.view)
        ids = self.kit.collision_ids
        points = np.concatenate(
            [np.concatenate([h.joints, h.vertices[ids]]) for h in scene.hands.values()]
        )
        shift = place_in_view(rng, points @ rotation.T, camera, c.view, c.width, c.height)
        return {side: hand.moved(rotation, shift) for side, hand in scene.hands.items()}

    def render_scene(self, hands: dict[str, PosedHand], camera: Camera) -> Any:
        """The renderer's scene of camera-frame hands (metres) seen by ``camera``."""
        from handhdr.render.renderer import HandGeometry, PinholeCamera
        from handhdr.render.renderer import Scene as RenderScene

        c = self.config
        geometry = [
            HandGeometry.from_model(self.kit.data[side], h.vertices * 1000.0, h.joints * 1000.0)
            for side, h in hands.items()
        ]
        return RenderScene(PinholeCamera(camera.intrinsics, c.width, c.height), geometry)

    def render(self, hands: dict[str, PosedHand], camera: Camera, look: Any) -> Any:
        """One render of camera-frame hands with a fixed look."""
        return self.renderer.render(self.render_scene(hands, camera), look=look)

    def make(self, index: int) -> SynthSample:
        """Sample ``index``."""
        from handhdr.render.renderer import PinholeCamera
        from handhdr.render.renderer import Scene as RenderScene

        c = self.config
        streams = sample_streams(c.seed, index)
        hand_type = choose_hand_type(streams["kind"], c.mix)
        camera = self.camera(index, streams["camera"])
        empty = RenderScene(PinholeCamera(camera.intrinsics, c.width, c.height), [])
        look = self.renderer.sample_look(streams["appearance"], empty)
        counters: Counter[str] = Counter()
        window = c.occlusion if hand_type == "interacting" else None
        for attempt in range(c.occlusion_tries):
            scene = self.scene(streams["scene"], hand_type)
            counters.update(scene.counters)
            hands = self.view(streams["camera"], scene, camera)
            if window is None:
                break
            labels = self.renderer.labels(self.render_scene(hands, camera), look)
            if in_window(labels.occlusion, window):
                break
            if attempt + 1 < c.occlusion_tries:
                counters["occlusion_resamples"] += 1
        else:
            counters["occlusion_window_missed"] += 1
        result = self.render(hands, camera, look)
        return self._sample(index, hand_type, scene, hands, camera, result, counters)

    def _sample(
        self,
        index: int,
        hand_type: str,
        scene: Scene,
        hands: dict[str, PosedHand],
        camera: Camera,
        result: Any,
        counters: Counter[str],
    ) -> SynthSample:
        c = self.config
        joints = np.zeros((42, 3))
        for side, hand in hands.items():
            joints[HAND_SLICES[side]] = hand.joints * 1000.0
        model = self.kit.kind
        record = build_record(
            index=index,
            capture=capture_of(index),
            seq_name=self.seq_name,
            camera=camera,
            width=c.width,
            height=c.height,
            joints_cam=joints,
            present={side: side in hands for side in ("right", "left")},
            hand_type=hand_type,
            mano_world={side: mano_record(h, camera, model) for side, h in hands.items()},
            synth={
                "kind": c.kind,
                "scene": scene.interaction,
                "gestures": {side: h.gesture for side, h in hands.items()},
                "occlusion": {
                    side: (None if not np.isfinite(v) else round(float(v), 6))
                    for side, v in result.occlusion.items()
                },
                "counters": dict(counters),
            },
        )
        return SynthSample(index, result.image, result.masks, dict(result.hdr_gt), record)
