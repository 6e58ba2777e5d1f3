"""Skin: tones across the human range, per-hand texture, nails and creases.

Tones are drawn in CIELAB by the Individual Typology Angle (ITA = atan((L* - 50) / b*)),
the colorimetric scale that spans Fitzpatrick types I-VI (ITA > 55 deg very light ...
ITA < -30 deg dark); palms are lighter, the more so for darker skin, as in life.

Anatomical regions (palm side, nails, flexion creases, knuckles) are computed once per
hand model from its template, joint regressor and skinning weights, so they work for
the built-in model and for official MANO. All texture is a function of rest-pose
positions and therefore stays on the skin in every pose.
"""

from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass

import numpy as np

from handhdr.hand.model_data import HandModelData
from handhdr.render.colour import lab_to_linear_rgb
from handhdr.render.mesh import vertex_normals
from handhdr.render.noise import value_noise

# MANO joints of each digit (base, middle, distal) and its fingertip slot in tip_vertex_ids
_DIGITS: dict[str, tuple[tuple[int, int, int], int]] = {
    "thumb": ((13, 14, 15), 0),
    "index": ((1, 2, 3), 1),
    "middle": ((4, 5, 6), 2),
    "ring": ((10, 11, 12), 3),
    "pinky": ((7, 8, 9), 4),
}
ITA_RANGE_DEG = (-55.0, 68.0)  # from very dark (type VI) to very light (type I) skin
MOTTLE_SCALES_MM = (30.0, 11.0, 4.0)  # feature sizes of the colour variation octaves
GRAIN_SCALE_MM = 2.0  # fine skin grain (about the vertex spacing of a hand mesh)


@dataclass(frozen=True)
class SkinRegions:
    """Per-vertex anatomical fields of one hand model, each in [0, 1]."""

    rest_mm: np.ndarray  # (V, 3) float32 template positions in mm (texture coordinates)
    palm: np.ndarray  # (V,) palmar side of hand and digits
    nail: np.ndarray  # (V,) finger- and thumbnails
    crease: np.ndarray  # (V,) palmar flexion creases of the digits and palm lines
    knuckle: np.ndarray  # (V,) dorsal skin over the knuckles
    pad: np.ndarray  # (V,) fingertip pads
    patterns: np.ndarray | None = None  # (K, V) precomputed noise fields (see noise_patterns)


def _smoothstep(lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


NUM_PATTERNS = 16  # noise fields precomputed per hand model; each hand picks two


_PATTERN_OFFSETS = np.random.default_rng(0xC0105).uniform(0.0, 64.0, size=(2 * NUM_PATTERNS, 3, 3))
_PATTERN_STD = 0.23  # standard deviation of a multi-scale pattern before normalisation
_GRAIN_STD = 0.37  # standard deviation of one octave of value noise


def noise_patterns(rest_mm: np.ndarray, which: tuple[int, ...] | None = None) -> np.ndarray:
    """Noise fields on the rest positions with about unit variance, ``(len(which), V)``.

    Patterns ``0 .. NUM_PATTERNS - 1`` are multi-scale (colour variation), the next
    ``NUM_PATTERNS`` are fine grain; pattern ``k`` is the same function of position
    for every mesh. All octaves of all patterns are evaluated in one batch.
    """
    which = tuple(range(2 * NUM_PATTERNS)) if which is None else which
    rest = np.asarray(rest_mm, dtype=np.float32)
    points, weights = [], []
    for k in which:
        if k < NUM_PATTERNS:
            octaves = zip(MOTTLE_SCALES_MM, (0.5, 0.35, 0.15), _PATTERN_OFFSETS[k], strict=True)
            norm = _PATTERN_STD
        else:
            octaves = zip((GRAIN_SCALE_MM,), (1.0,), _PATTERN_OFFSETS[k, :1], strict=True)
            norm = _GRAIN_STD
        octaves = list(octaves)
        points += [rest / scale + offset.astype(np.float32) for scale, _, offset in octaves]
        weights.append([amp / norm for _, amp, _ in octaves])
    values = value_noise(np.concatenate(points)).reshape(-1, len(rest))
    fields, row = [], 0
    for w in weights:
        fields.append(np.tensordot(np.asarray(w, np.float32), values[row : row + len(w)], axes=1))
        row += len(w)
    return np.stack(fields).astype(np.float32)


def plain_regions(rest_mm: np.ndarray) -> SkinRegions:
    """Regions of a mesh without anatomy (uniform skin): only the rest positions."""
    rest = np.asarray(rest_mm, dtype=np.float32)
    zero = np.zeros(len(rest), dtype=np.float32)
    return SkinRegions(rest, zero, zero, zero, zero, zero)


_REGION_CACHE: dict[int, tuple[weakref.ref[HandModelData], SkinRegions]] = {}
# region columns a model may ship (HandModelData.regions) and our field for each
_MODEL_REGION_FIELDS = {"palmar": "palm", "nail": "nail", "crease": "crease", "knuckle": "knuckle"}


def hand_regions(model: HandModelData) -> SkinRegions:
    """Anatomical regions of a MANO-compatible hand model, cached per model object.

    Regions the model ships itself (``HandModelData.regions``, e.g. the built-in
    model's) are used as they are; the others are derived from the template.
    """
    entry = _REGION_CACHE.get(id(model))
    if entry is not None and entry[0]() is model:
        return entry[1]
    regions = _compute_regions(model)
    regions = dataclasses.replace(regions, patterns=noise_patterns(regions.rest_mm))
    if model.regions is not None:
        shipped = {
            _MODEL_REGION_FIELDS[name]: np.asarray(model.regions[:, k], dtype=np.float32)
            for k, name in enumerate(model.region_names)
            if name in _MODEL_REGION_FIELDS
        }
        regions = dataclasses.replace(regions, **shipped)
    _REGION_CACHE[id(model)] = (weakref.ref(model), regions)
    return regions


def _compute_regions(model: HandModelData) -> SkinRegions:
    rest = np.asarray(model.v_template, dtype=np.float64) * 1000.0
    joints = np.asarray(model.j_regressor, dtype=np.float64) @ rest  # (16, 3) MANO order
    tips = rest[np.asarray(model.tip_vertex_ids)]
    normals = vertex_normals(rest, np.asarray(model.faces)).astype(np.float64)
    owner = np.argmax(np.asarray(model.skinning_weights), axis=1)
    # palm normal from the knuckle line and the middle finger direction
    lateral = _unit(joints[1] - joints[7])  # pinky -> index: towards the thumb side
    distal = _unit(joints[4] - joints[0])
    palm_n = _unit(
        np.cross(lateral, distal) if model.side == "right" else np.cross(distal, lateral)
    )
    num_v = len(rest)
    palm = _smoothstep(-0.05, 0.5, normals @ palm_n)
    nail = np.zeros(num_v)
    crease = np.zeros(num_v)
    knuckle = np.zeros(num_v)
    pad = np.zeros(num_v)
    for name, (chain, tip_slot) in _DIGITS.items():
        points = [joints[chain[0]], joints[chain[1]], joints[chain[2]], tips[tip_slot]]
        # dorsal direction of the digit: the back of the hand; the thumb turns outwards
        dorsal = -palm_n
        if name == "thumb":
            dorsal = _unit(0.6 * dorsal + 0.8 * lateral)
        for seg in range(3):
            start, end = points[seg], points[seg + 1]
            axis = end - start
            length = np.linalg.norm(axis)
            u = axis / max(length, 1e-9)
            d = rest - start
            along = d @ u  # mm from the joint at the segment's base
            radial = _unit(d - along[:, None] * u[None, :])
            seg_dorsal = _unit(dorsal - (dorsal @ u) * u)
            cos_dorsal = radial @ seg_dorsal
            near = np.isin(owner, [chain[seg]] + ([chain[seg - 1]] if seg > 0 else [0]))
            palmar = _smoothstep(0.15, 0.55, -cos_dorsal) * near
            back = _smoothstep(0.2, 0.6, cos_dorsal) * near
            # flexion creases: across the palmar skin at the joint (two lines at the
            # middle joint) and at the base of the finger (the palmar digital crease)
            lines = [0.8] if seg == 2 else [-1.2, 1.4] if seg == 1 else []
            for offset in lines:
                crease = np.maximum(crease, palmar * np.exp(-(((along - offset) / 1.1) ** 2)))
            if seg == 0 and name != "thumb":
                offset = 0.3 * length
                crease = np.maximum(crease, palmar * np.exp(-(((along - offset) / 1.4) ** 2)))
            width = (4.5, 3.5, 2.5)[seg]
            knuckle = np.maximum(knuckle, back * np.exp(-((along / width) ** 2)))
            if seg == 2:
                frac = along / max(length, 1e-9)
                on_tip = owner == chain[2]
                nail_shape = _smoothstep(0.38, 0.55, frac) * _smoothstep(0.52, 0.72, cos_dorsal)
                nail = np.maximum(nail, nail_shape * on_tip)
                pad = np.maximum(
                    pad, _smoothstep(0.4, 0.85, frac) * _smoothstep(0.0, 0.5, -cos_dorsal) * on_tip
                )
    return SkinRegions(
        rest_mm=rest.astype(np.float32),
        palm=palm.astype(np.float32),
        nail=nail.astype(np.float32),
        crease=crease.astype(np.float32),
        knuckle=knuckle.astype(np.float32),
        pad=pad.astype(np.float32),
    )


@dataclass(frozen=True)
class Skin:
    """The look of one person's skin (CIELAB colours) and its per-hand texture."""

    dorsal_lab: np.ndarray  # (3,) back of the hand
    palm_lab: np.ndarray  # (3,) palm and palmar side of the digits
    nail_lab: np.ndarray  # (3,) nail beds
    mottle: float  # amplitude of the multi-scale colour variation
    redness: float  # amplitude of the variation in redness
    grain: float  # amplitude of the fine per-pixel grain
    crease_depth: float  # how much darker the creases are
    knuckle_tint: float  # how much darker and redder the skin over the knuckles is
    specular: float  # strength of the specular highlight
    shininess: float  # Blinn-Phong exponent (broad for skin)
    patterns: tuple[int, int, int]  # which noise fields shape the colour, redness, grain

    def varied(self, rng: np.random.Generator) -> Skin:
        """The other hand of the same person: same tones, its own texture pattern."""
        jitter = rng.normal(0.0, [1.0, 0.6, 0.6])
        return Skin(
            dorsal_lab=self.dorsal_lab + jitter,
            palm_lab=self.palm_lab + jitter * 0.5,
            nail_lab=self.nail_lab,
            mottle=self.mottle,
            redness=self.redness,
            grain=self.grain,
            crease_depth=self.crease_depth,
            knuckle_tint=self.knuckle_tint,
            specular=self.specular,
            shininess=self.shininess,
            patterns=_sample_patterns(rng),
        )


def _sample_patterns(rng: np.random.Generator) -> tuple[int, int, int]:
    first, second = rng.choice(NUM_PATTERNS, size=2, replace=False)
    return int(first), int(second), int(rng.integers(NUM_PATTERNS, 2 * NUM_PATTERNS))


def sample_skin(rng: np.random.Generator) -> Skin:
    """A random skin tone (uniform in ITA over Fitzpatrick I-VI) and texture."""
    ita = np.radians(rng.uniform(*ITA_RANGE_DEG))
    b = rng.uniform(11.0, 21.0)
    lightness = float(np.clip(50.0 + b * np.tan(ita), 24.0, 78.0))
    a = rng.uniform(6.0, 14.0) + 0.04 * (lightness - 50.0)
    dorsal = np.array([lightness, a, b])
    # palms carry less melanin: lighter (much lighter for dark skin), pinker, less yellow
    lift = (70.0 - lightness) * rng.uniform(0.35, 0.6)
    palm = np.array(
        [lightness + max(lift, 2.0), a + rng.uniform(1.0, 3.5), b - rng.uniform(1.0, 4.0)]
    )
    nail = np.array([min(palm[0] + rng.uniform(4.0, 9.0), 85.0), palm[1] + 3.0, palm[2] - 5.0])
    return Skin(
        dorsal_lab=dorsal,
        palm_lab=palm,
        nail_lab=nail,
        mottle=rng.uniform(0.05, 0.14),
        redness=rng.uniform(0.03, 0.09),
        grain=rng.uniform(0.03, 0.08),
        crease_depth=rng.uniform(0.25, 0.5),
        knuckle_tint=rng.uniform(0.12, 0.3),
        specular=rng.uniform(0.04, 0.14),
        shininess=rng.uniform(8.0, 28.0),
        patterns=_sample_patterns(rng),
    )


def vertex_albedo(skin: Skin, regions: SkinRegions) -> np.ndarray:
    """Linear-RGB albedo per vertex ``(V, 3)`` float32 of a hand with ``skin``.

    The few colours of a skin (back, palm, nail, and the tints of knuckles and finger
    pads) are converted from CIELAB once; vertices mix them by their regions.
    """
    dorsal, palm, nail, knuckle, pad = lab_to_linear_rgb(
        np.stack(
            [
                skin.dorsal_lab,
                skin.palm_lab,
                skin.nail_lab,
                skin.dorsal_lab + skin.knuckle_tint * np.array([-14.0, 6.0, 1.0]),
                skin.palm_lab + np.array([0.0, 4.0, -1.0]),
            ]
        )
    ).astype(np.float32)
    knuckle_tint = knuckle / np.maximum(dorsal, 1e-4) - 1.0
    pad_tint = pad / np.maximum(palm, 1e-4) - 1.0
    p = regions.palm[:, None]
    rgb = dorsal * (1.0 - p) + palm * p
    rgb *= 1.0 + regions.knuckle[:, None] * knuckle_tint + regions.pad[:, None] * pad_tint
    n = regions.nail[:, None]
    rgb = rgb * (1.0 - n) + nail * n
    if regions.patterns is not None:
        mottle, red, grain = regions.patterns[list(skin.patterns)]
    else:  # a mesh without a precomputed bank (e.g. a forearm): colour variation only
        mottle, red = noise_patterns(regions.rest_mm, skin.patterns[:2])
        grain = 0.0
    shade = 1.0 - skin.crease_depth * regions.crease + skin.mottle * 0.7 * mottle
    shade += skin.grain * 0.5 * grain
    rgb *= shade[:, None]
    rgb *= 1.0 + (skin.redness * 0.7 * red)[:, None] * np.array([1.0, -0.6, -0.6], np.float32)
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)
