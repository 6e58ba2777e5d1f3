"""Render a scene of up to two hands with every label the HDR pipeline trains on.

One call gives the image, the four masks (right/left, amodal/visible), per hand the
de-occlusion/removal ground truth (the frame with only that hand, complete), depth and
occlusion ratios. Each hand and the forearms are rasterised once
(:mod:`handhdr.render.raster`); everything else is compositing by depth in numpy.

Compositing rules (what the tests check):

* a hand covers a pixel when the pixel centre is inside it (binary masks); its
  colour is blended over what lies behind with the sub-pixel coverage of that pixel
  (anti-aliasing *inside* the mask only, so nothing of a hand leaks outside its mask);
* visible masks come from the depth test against both hands and the forearms; at
  equal depth the right hand wins over the left, and hands win over forearms;
* forearms belong to no mask; they stay in the ground truth images;
* the ground truth of hand ``t`` is its own clean frame: ``t`` complete over the
  background and the forearms; the other hand is removed and neither it nor its
  forearm hides ``t``; ``t``'s own forearm keeps its place (it covers the seam at the
  wrist, as in the image);
* camera effects: the image and every ground truth get the same realisation (blur
  kernel, noise field; each its own JPEG round trip). A hand reaches at most
  :func:`~handhdr.render.effects.footprint` pixels beyond its amodal mask (blur
  radius + 1 px, 0 without blur; plus 16 px with JPEG), so outside the union of the
  two amodal masks dilated by that footprint (a square of side 2 * footprint + 1) the
  ground truth equals the image exactly (the pixels are copied from it there). Nearer
  to the removed hand it shows the background as it would look without that hand: no
  blurred halo or JPEG ringing of the removed hand.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import cv2
import numpy as np

from handhdr.datasets.schema import MASK_NAMES
from handhdr.hand.model_data import HandModelData
from handhdr.joints import HANDS
from handhdr.render.background import BackgroundSource, ProceduralBackgrounds
from handhdr.render.colour import linear_to_srgb
from handhdr.render.effects import CameraEffects, apply_effects, footprint, sample_effects
from handhdr.render.forearm import (
    ForearmMesh,
    ForearmStyle,
    forearm_mesh,
    sample_forearm_style,
)
from handhdr.render.lighting import Lighting, sample_lighting, shade
from handhdr.render.mesh import is_closed, vertex_normals
from handhdr.render.raster import Fragments, rasterize
from handhdr.render.skin import (
    Skin,
    SkinRegions,
    hand_regions,
    plain_regions,
    sample_skin,
    vertex_albedo,
)


@dataclass(frozen=True)
class PinholeCamera:
    """Intrinsics and image size. Camera frame: x right, y down, z forward, mm."""

    intrinsics: np.ndarray  # (3, 3) K
    width: int
    height: int

    def __post_init__(self) -> None:
        k = np.asarray(self.intrinsics)
        if k.shape != (3, 3) or not np.isfinite(k).all() or k[0, 0] <= 0 or k[1, 1] <= 0:
            raise ValueError(f"intrinsics must be a finite 3x3 K with fx, fy > 0, got {k!r}")
        if self.width < 1 or self.height < 1:
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")


@dataclass
class HandGeometry:
    """One posed hand in the camera frame (mm)."""

    side: str  # "right" or "left"
    vertices: np.ndarray  # (V, 3)
    faces: np.ndarray  # (F, 3), counter-clockwise seen from outside
    joints: np.ndarray | None = None  # (21, 3) InterHand2.6M per-hand order; for forearms
    regions: SkinRegions | None = None  # texture coordinates and anatomy; None: plain skin

    def __post_init__(self) -> None:
        if self.side not in HANDS:
            raise ValueError(f"hand side must be 'right' or 'left', got {self.side!r}")
        v = np.asarray(self.vertices)
        if v.ndim != 2 or v.shape[1] != 3 or not np.isfinite(v).all():
            raise ValueError(f"{self.side} hand: vertices must be finite (V, 3), got {v.shape}")
        f = np.asarray(self.faces)
        if f.ndim != 2 or f.shape[1] != 3 or f.min(initial=0) < 0 or f.max(initial=0) >= len(v):
            raise ValueError(f"{self.side} hand: faces must be (F, 3) indices below {len(v)}")
        if self.joints is not None and np.asarray(self.joints).shape != (21, 3):
            raise ValueError(
                f"{self.side} hand: joints must be (21, 3), got {np.asarray(self.joints).shape}"
            )
        if self.regions is not None and len(self.regions.rest_mm) != len(v):
            raise ValueError(
                f"{self.side} hand: regions describe {len(self.regions.rest_mm)} vertices, "
                f"the mesh has {len(v)}"
            )

    @classmethod
    def from_model(
        cls, model: HandModelData, vertices_mm: np.ndarray, joints_mm: np.ndarray | None = None
    ) -> HandGeometry:
        """A posed hand of ``model`` (built-in or MANO) with its anatomical texture."""
        return cls(model.side, vertices_mm, model.faces, joints_mm, hand_regions(model))


@dataclass
class Scene:
    """What to render: a camera and at most one hand per side."""

    camera: PinholeCamera
    hands: list[HandGeometry]
    forearms: bool = True  # a forearm stub at every hand that has joints

    def __post_init__(self) -> None:
        sides = [h.side for h in self.hands]
        if len(sides) != len(set(sides)):
            raise ValueError(f"at most one hand per side, got {sides}")

    def hand(self, side: str) -> HandGeometry | None:
        """The hand of ``side``, if the scene has one."""
        return next((h for h in self.hands if h.side == side), None)


@dataclass
class Look:
    """Every random choice about appearance: skin, light, background, arms, camera."""

    skins: dict[str, Skin]
    lighting: Lighting
    background: np.ndarray  # (H, W, 3) uint8
    forearms: dict[str, ForearmStyle]
    effects: CameraEffects = field(default_factory=CameraEffects)


def sample_look(
    rng: np.random.Generator,
    camera: PinholeCamera,
    backgrounds: BackgroundSource,
    effects: bool = True,
) -> Look:
    """Draw a look. The draws depend neither on the scene's hands nor on ``effects``:
    a scene with one hand and the same scene with two, with or without camera effects,
    share skin, light, forearms and background."""
    person = sample_skin(rng)
    other = sample_skin(rng) if rng.random() < 0.1 else person  # rarely two people
    skins = {"right": person, "left": other.varied(rng)}
    lighting = sample_lighting(rng)
    arms = {side: sample_forearm_style(rng) for side in HANDS}
    camera_effects = sample_effects(rng)
    if not effects:
        camera_effects = CameraEffects()
    background = backgrounds.sample(rng, camera.width, camera.height)
    return Look(skins, lighting, background, arms, camera_effects)


@dataclass
class RenderResult:
    """Everything one render gives; masks in :data:`MASK_NAMES` order."""

    image: np.ndarray  # (H, W, 3) uint8
    masks: np.ndarray  # (4, H, W) bool: right amodal, right visible, left amodal, left visible
    hdr_gt: dict[str, np.ndarray]  # side -> (H, W, 3) uint8, hands with a non-empty amodal mask
    depth: np.ndarray  # (H, W) float32 mm of the nearest hand or forearm, inf where none
    occlusion: dict[str, float]  # side -> 1 - visible/amodal area (nan: amodal mask empty)

    def amodal(self, side: str) -> np.ndarray:
        """``H x W`` bool amodal mask of ``side``."""
        return self.masks[MASK_NAMES.index(f"{side}_amodal")]

    def visible(self, side: str) -> np.ndarray:
        """``H x W`` bool visible mask of ``side``."""
        return self.masks[MASK_NAMES.index(f"{side}_visible")]


@dataclass
class _Layer:
    pixels: np.ndarray  # (P,) flat pixel indices
    colour: np.ndarray  # (P, 3) sRGB in [0, 1]
    alpha: np.ndarray  # (P,) sub-pixel coverage, > 0
    inv_depth: np.ndarray  # (P,) float64
    owner: np.ndarray | None = None  # (P,) forearms: index into HANDS of the arm's hand


def _view_directions(pixels: np.ndarray, camera: PinholeCamera) -> np.ndarray:
    """Unit vectors from the surface seen at ``pixels`` towards the camera, ``(3, P)``."""
    k = np.asarray(camera.intrinsics, dtype=np.float32)
    rows = pixels // camera.width
    v = rows.astype(np.float32)
    u = (pixels - rows * camera.width).astype(np.float32)
    y = (v - k[1, 2]) / k[1, 1]
    x = (u - k[0, 2] - k[0, 1] * y) / k[0, 0]
    inv = -1.0 / np.sqrt(x * x + y * y + 1.0)
    return np.stack([x * inv, y * inv, inv])


def _interpolate(frag: Fragments, faces: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Perspective-correct interpolation of per-vertex ``values`` ``(C, V)`` at the
    fragments: ``(C, P)`` float32."""
    corners = faces[frag.faces]  # (P, 3)
    b = frag.bary
    out = values[:, corners[:, 0]] * b[:, 0]
    out += values[:, corners[:, 1]] * b[:, 1]
    out += values[:, corners[:, 2]] * b[:, 2]
    return out


def _depth_frame(frag: Fragments) -> np.ndarray:
    """``H x W`` float32 depth (mm) of one layer, inf where it is empty."""
    return frag.full((1.0 / frag.inv_depth).astype(np.float32), fill=np.inf)


def _cavity(frag: Fragments, context: np.ndarray, camera: PinholeCamera) -> np.ndarray:
    """Ambient occlusion from depth: points deeper than their surroundings (between
    fingers, in the palm's hollow) get less ambient light. ``context`` is the ``H x W``
    depth of this layer together with the layers that may shadow it (inf elsewhere).
    ``(P,)`` in [0.5, 1]."""
    w = camera.width
    rows = frag.pixels // w
    cols = frag.pixels - rows * w
    k = int(max(3, round(0.12 * np.sqrt(frag.pixels.size)))) | 1
    r0, c0 = max(int(rows.min()) - k, 0), max(int(cols.min()) - k, 0)
    r1, c1 = int(rows.max()) + k + 1, int(cols.max()) + k + 1
    box = context[r0:r1, c0:c1]
    seen = np.isfinite(box)
    zimg = np.where(seen, box, 0.0).astype(np.float32)
    rr, cc = rows - r0, cols - c0
    mean = cv2.blur(zimg, (k, k))[rr, cc] / np.maximum(
        cv2.blur(seen.astype(np.float32), (k, k))[rr, cc], 1e-6
    )
    z = (1.0 / frag.inv_depth).astype(np.float32)
    reach_mm = k * z / float(camera.intrinsics[0][0])  # the kernel's width on the surface
    depth_excess = np.clip((z - mean) / (0.5 * reach_mm), 0.0, 1.0)
    return 1.0 - 0.5 * depth_excess


def _shade_layer(
    frag: Fragments,
    context: np.ndarray,
    vertices: np.ndarray,
    faces: np.ndarray,
    albedo_v: np.ndarray,
    skin: Skin,
    lighting: Lighting,
    camera: PinholeCamera,
) -> _Layer:
    """Colour of every fragment of one mesh; per-vertex arrays are ``(V, 3)``."""
    attributes = np.concatenate([vertex_normals(vertices, faces), albedo_v], axis=1)
    values = _interpolate(frag, faces, np.ascontiguousarray(attributes.T, dtype=np.float32))
    n, albedo = values[0:3], values[3:6]
    n *= np.where(frag.front, 1.0, -1.0).astype(np.float32) / np.sqrt(
        np.maximum(n[0] * n[0] + n[1] * n[1] + n[2] * n[2], 1e-12)
    )
    view = _view_directions(frag.pixels, camera)
    occlusion = _cavity(frag, context, camera)
    radiance = shade(albedo, n, view, lighting, skin.specular, skin.shininess, occlusion)
    alpha = (1.0 + frag.samples.astype(np.float32)) / 5.0  # centre + 4 sub-pixel samples
    return _Layer(frag.pixels, linear_to_srgb(radiance.T), alpha, frag.inv_depth)


@dataclass
class _Mesh:
    """One rasterised layer: a hand, or both forearms merged."""

    frag: Fragments
    vertices: np.ndarray
    faces: np.ndarray
    arms: list[tuple[str, ForearmMesh]] = field(default_factory=list)  # forearms only
    owner: np.ndarray | None = None  # forearms: index into HANDS of the nearest arm's hand


def _rasterize_scene(scene: Scene, look: Look) -> dict[str, _Mesh]:
    """Every hand (key: its side) and the forearms (key ``"arms"``), rasterised."""
    cam = scene.camera
    meshes: dict[str, _Mesh] = {}
    for hand in scene.hands:
        faces = np.asarray(hand.faces, dtype=np.int64)
        vertices = np.asarray(hand.vertices, dtype=np.float64)
        frag = rasterize(
            vertices, faces, cam.intrinsics, cam.width, cam.height, cull_back=is_closed(faces)
        )
        if frag.pixels.size:
            meshes[hand.side] = _Mesh(frag, vertices, faces)
    arms = [
        (
            hand.side,
            forearm_mesh(
                np.asarray(hand.vertices, np.float64),
                np.asarray(hand.joints, np.float64),
                hand.side,
                look.forearms[hand.side],
            ),
        )
        for hand in scene.hands
        if scene.forearms and hand.joints is not None
    ]
    if arms:
        offsets = np.cumsum([0] + [len(m.vertices) for _, m in arms])
        vertices = np.concatenate([m.vertices for _, m in arms])
        faces = np.concatenate([m.faces + o for (_, m), o in zip(arms, offsets, strict=False)])
        frag = rasterize(vertices, faces, cam.intrinsics, cam.width, cam.height, cull_back=True)
        if frag.pixels.size:
            side = np.repeat([HANDS.index(s) for s, _ in arms], [len(m.faces) for _, m in arms])
            owner = side.astype(np.int8)[frag.faces]
            meshes["arms"] = _Mesh(frag, vertices, faces, arms, owner)
    return meshes


def _arm_albedo(arms: list[tuple[str, ForearmMesh]], look: Look) -> np.ndarray:
    """Per-vertex albedo of the merged forearms: the hand's skin, lighter on the palm
    side, or the sleeve."""
    parts = []
    for side, mesh in arms:
        regions = dataclasses.replace(plain_regions(mesh.rest_mm), palm=mesh.ventral)
        albedo = vertex_albedo(look.skins[side], regions)
        albedo[mesh.sleeve] = look.forearms[side].sleeve_rgb
        parts.append(albedo)
    return np.concatenate(parts).astype(np.float32)


_ORDER = ("right", "left", "arms")  # who wins a depth tie: hands over forearms, right first


def _in_front(
    j: str, i: str, covered: dict[str, np.ndarray], inv_depth: dict[str, np.ndarray]
) -> np.ndarray:
    """Where layer ``j`` is in front of layer ``i`` (aligned per-pixel arrays)."""
    if _ORDER.index(j) < _ORDER.index(i):
        return covered[j] & (inv_depth[j] >= inv_depth[i])
    return covered[j] & (inv_depth[j] > inv_depth[i])


def _visible(
    side: str, covered: dict[str, np.ndarray], inv_depth: dict[str, np.ndarray]
) -> np.ndarray:
    """Where hand ``side`` is covered and nothing is in front of it."""
    visible = covered[side].copy()
    for other in covered:
        if other != side:
            visible &= ~_in_front(other, side, covered, inv_depth)
    return visible


@dataclass
class SceneLabels:
    """The labels of a scene without its image (for fast rejection sampling)."""

    masks: np.ndarray  # (4, H, W) bool in MASK_NAMES order
    occlusion: dict[str, float]  # side -> 1 - visible/amodal area (nan: amodal mask empty)


def _quantise(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


class Renderer:
    """Renders scenes; holds the background source and its banks between calls."""

    def __init__(self, backgrounds: BackgroundSource | None = None) -> None:
        self.backgrounds = backgrounds if backgrounds is not None else ProceduralBackgrounds()

    def sample_look(self, rng: np.random.Generator, scene: Scene, effects: bool = True) -> Look:
        """A random look for ``scene`` with this renderer's backgrounds."""
        return sample_look(rng, scene.camera, self.backgrounds, effects)

    def render(
        self, scene: Scene, rng: np.random.Generator | None = None, look: Look | None = None
    ) -> RenderResult:
        """Render ``scene``; the look is drawn from ``rng`` unless given."""
        if look is None:
            if rng is None:
                raise ValueError("render needs a random generator or a look")
            look = self.sample_look(rng, scene)
        cam = scene.camera
        h, w = cam.height, cam.width
        if look.background.shape != (h, w, 3) or look.background.dtype != np.uint8:
            raise ValueError(
                f"background must be {h}x{w}x3 uint8, got {look.background.shape} "
                f"{look.background.dtype}"
            )
        # rasterise every mesh first: each layer's ambient occlusion looks at the others
        meshes = _rasterize_scene(scene, look)
        depth = {name: _depth_frame(mesh.frag) for name, mesh in meshes.items()}
        layers: dict[str, _Layer] = {}
        for name, mesh in meshes.items():
            if name == "arms":
                skin = look.skins[scene.hands[0].side]
                albedo = _arm_albedo(mesh.arms, look)
            else:
                skin = look.skins[name]
                hand = scene.hand(name)
                albedo = vertex_albedo(skin, hand.regions or plain_regions(mesh.vertices))
            # a hand is shadowed by itself and the forearms, never by the other hand (so
            # that it looks the same in the image and in its ground truth); forearms only
            # by themselves (no dark seam where they leave the hand)
            context = depth[name]
            if name != "arms" and "arms" in depth:
                context = np.minimum(context, depth["arms"])
            layers[name] = _shade_layer(
                mesh.frag, context, mesh.vertices, mesh.faces, albedo, skin, look.lighting, cam
            )
            layers[name].owner = mesh.owner
        return _composite(scene, look, layers)

    def labels(self, scene: Scene, look: Look) -> SceneLabels:
        """The masks and occlusion ratios that :meth:`render` would give for this scene
        and look, without shading or compositing (about half the time)."""
        cam = scene.camera
        n = cam.width * cam.height
        covered, inv_depth = {}, {}
        for name, mesh in _rasterize_scene(scene, look).items():
            covered[name] = np.zeros(n, dtype=bool)
            covered[name][mesh.frag.pixels] = True
            inv_depth[name] = np.zeros(n, dtype=np.float64)
            inv_depth[name][mesh.frag.pixels] = mesh.frag.inv_depth
        masks = np.zeros((len(MASK_NAMES), n), dtype=bool)
        occlusion = {}
        for hand in scene.hands:
            side = hand.side
            if side not in covered:
                occlusion[side] = float("nan")
                continue
            visible = _visible(side, covered, inv_depth)
            masks[MASK_NAMES.index(f"{side}_amodal")] = covered[side]
            masks[MASK_NAMES.index(f"{side}_visible")] = visible
            occlusion[side] = 1.0 - int(visible.sum()) / int(covered[side].sum())
        return SceneLabels(masks.reshape(-1, cam.height, cam.width), occlusion)


def _composite(scene: Scene, look: Look, layers: dict[str, _Layer]) -> RenderResult:
    cam = scene.camera
    h, w = cam.height, cam.width
    order = [name for name in _ORDER if name in layers]
    cover = np.zeros(h * w, dtype=bool)
    for name in order:
        cover[layers[name].pixels] = True
    union = np.flatnonzero(cover)  # pixels any layer covers; the rest is background
    num = union.size
    slot = np.empty(h * w, dtype=np.int64)
    slot[union] = np.arange(num)
    alpha, colour, inv_depth = {}, {}, {}
    for name in order:
        layer = layers[name]
        pos = slot[layer.pixels]
        alpha[name] = np.zeros(num, np.float32)
        alpha[name][pos] = layer.alpha
        colour[name] = np.zeros((num, 3), np.float32)
        colour[name][pos] = layer.colour
        inv_depth[name] = np.zeros(num, np.float64)
        inv_depth[name][pos] = layer.inv_depth
    covered = {name: alpha[name] > 0 for name in order}

    def in_front(j: str, i: str) -> np.ndarray:
        return _in_front(j, i, covered, inv_depth)

    bg = look.background.reshape(-1, 3)
    bg_u = bg[union].astype(np.float32) / 255.0
    if "arms" in order:
        a = alpha["arms"][:, None]
        base = colour["arms"] * a + bg_u * (1.0 - a)
    else:
        base = bg_u
    hands = [s for s in HANDS if s in layers]
    any_hand = np.zeros(num, bool)
    for s in hands:
        any_hand |= covered[s]
    mixed = bg_u * np.prod([1.0 - alpha[n] for n in order], axis=0)[:, None] if order else bg_u
    for i in order:
        transmit = np.ones(num, np.float32)
        for j in order:
            if j != i:
                transmit *= np.where(in_front(j, i), 1.0 - alpha[j], 1.0)
        mixed = mixed + colour[i] * (alpha[i] * transmit)[:, None]
    image_u = np.where(any_hand[:, None], mixed, base)

    image = look.background.copy()
    image.reshape(-1, 3)[union] = _quantise(image_u)
    masks = np.zeros((len(MASK_NAMES), h * w), dtype=bool)
    hdr_gt: dict[str, np.ndarray] = {}
    occlusion: dict[str, float] = {}
    for s in hands:
        visible = _visible(s, covered, inv_depth)
        masks[MASK_NAMES.index(f"{s}_amodal"), layers[s].pixels] = True
        masks[MASK_NAMES.index(f"{s}_visible"), union[np.flatnonzero(visible)]] = True
        a = alpha[s][:, None]
        gt_u = colour[s] * a + base * (1.0 - a)
        if "arms" in order:
            # the hand's own forearm keeps its place in front of it (the wrist seam);
            # the other hand and its forearm do not hide it
            arm_owner = np.full(num, -1, np.int8)
            arm_owner[slot[layers["arms"].pixels]] = layers["arms"].owner
            own = in_front("arms", s) & (arm_owner == HANDS.index(s)) & covered[s]
            if own.any():
                arm_a = alpha["arms"][own, None]
                behind = colour[s][own] * a[own] + bg_u[own] * (1.0 - a[own])
                gt_u[own] = colour["arms"][own] * arm_a + behind * (1.0 - arm_a)
        gt = look.background.copy()
        gt.reshape(-1, 3)[union] = _quantise(gt_u)
        hdr_gt[s] = gt
        occlusion[s] = 1.0 - int(np.count_nonzero(visible)) / layers[s].pixels.size
    for hand in scene.hands:
        occlusion.setdefault(hand.side, float("nan"))
    masks = masks.reshape(len(MASK_NAMES), h, w)
    depth = np.full(h * w, np.inf, dtype=np.float32)
    if order:
        nearest = np.max([inv_depth[n] for n in order], axis=0)
        depth[union] = (1.0 / nearest).astype(np.float32)
    depth = depth.reshape(h, w)
    # the same camera effects on every frame; where neither hand can have reached the
    # ground truth is the image (copied, so that equality holds by construction)
    sides = list(hdr_gt)
    processed = apply_effects([image] + [hdr_gt[s] for s in sides], look.effects)
    image = processed[0]
    near = (masks[0] | masks[2]).view(np.uint8)
    reach = footprint(look.effects)
    if reach and sides:
        near = cv2.dilate(near, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    outside = (near == 0).view(np.uint8)
    for s, gt in zip(sides, processed[1:], strict=True):
        hdr_gt[s] = cv2.copyTo(image, outside, gt)
    return RenderResult(image=image, masks=masks, hdr_gt=hdr_gt, depth=depth, occlusion=occlusion)
