"""The built-in hand model: generated from :mod:`handhdr.hand.anatomy`, shipped as an .npz.

``build_builtin_hand()`` makes every array of a right :class:`HandModelData` from code:

* skin: the implicit hand surface meshed by surface nets on a 4 mm grid and relaxed
  (closed, outward-facing, a few thousand vertices);
* joints: the 16 anatomical joint centres of :func:`anatomy.right_hand_digits`, in MANO
  order; ``j_regressor`` reproduces them exactly from a ring of skin vertices around each
  joint (non-negative weights summing to one);
* ``skinning_weights``: each vertex starts on one bone (its digit's phalanx past a joint
  plane that is tilted so the knuckle stays with the proximal bone, the palm and wrist
  on the wrist joint), then the weights are diffused along the skin for soft bends;
* ``shapedirs``: ten shape modes scaled like MANO's betas (``beta ~ N(0, 1)``), see
  :data:`SHAPE_MODES`; ``posedirs`` are zero (plain linear blend skinning);
* ``hands_mean``: the ``relaxed`` gesture of :mod:`handhdr.hand.pose`;
* ``regions``: per-vertex texture weights for the renderer (:data:`REGION_NAMES`).

The left hand is the mirror image (:func:`handhdr.hand.mirror.mirror_hand_model`).
Regenerate the shipped asset with ``python -m handhdr.hand.make_asset``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from handhdr.hand import anatomy
from handhdr.hand.meshing import (
    check_closed_mesh,
    check_manifold_vertices,
    laplacian_average,
    relax_on_surface,
    sample_grid,
    signed_volume,
    surface_nets,
    vertex_neighbours,
    vertex_normals,
)
from handhdr.hand.model_data import NUM_BODY_JOINTS, HandModelData
from handhdr.hand.pose import GESTURES, RELAXED, PoseSpace, joint_frames
from handhdr.io import atomic_path

GRID_SPACING = 0.004  # metres; about 3,800 vertices
RELAX_ITERATIONS = 8
KNUCKLE_TILT = 0.45  # joint planes lean distally on the back of the finger by this slope
WEIGHT_DIFFUSION_STEPS = 6
ASSET_NAME = "builtin_hand.npz"
ASSET_VERSION = 1

SHAPE_MODES: tuple[tuple[str, str], ...] = (
    ("size", "overall scale about the wrist, 6% per unit"),
    ("finger_length", "length of all five digits' phalanges, 5% per unit"),
    ("palm_width", "palm breadth (the digits move with their base joints), 5% per unit"),
    ("finger_thickness", "girth of the digits about their bones, 8% per unit"),
    ("palm_length", "wrist to knuckles (the digits move with their base joints), 4% per unit"),
    ("palm_thickness", "back-to-palm thickness of palm and wrist, 8% per unit"),
    ("thumb_length", "thumb (metacarpal and phalanges), 5% per unit"),
    ("index_ring_ratio", "index longer and ring shorter (2D:4D), 3% per unit"),
    ("pinky_length", "little finger, 6% per unit"),
    ("fleshiness", "skin inflated along its normal, 1.2 mm per unit"),
)
"""The ten ``betas`` of the built-in model, in order: (name, effect of ``beta = +1``)."""

_SHAPE_SCALE = (0.06, 0.05, 0.05, 0.08, 0.04, 0.08, 0.05, 0.03, 0.06, 0.0012)

REGION_NAMES = ("palmar", "nail", "crease", "knuckle")
"""Per-vertex texture weights in ``HandModelData.regions`` (0-1): ``palmar`` (glabrous
palm-side skin, lighter and less pigmented), ``nail`` (nail plates), ``crease``
(palm-side flexion creases at the joints), ``knuckle`` (wrinkled skin over the backs of
the joints)."""


# --- skeleton --------------------------------------------------------------------------
def skeleton() -> tuple[np.ndarray, np.ndarray, dict[str, anatomy.Digit]]:
    """Rest joints (16, 3) in MANO order, fingertips (5, 3) thumb..pinky, and the digits."""
    digits = anatomy.right_hand_digits()
    joints = np.zeros((NUM_BODY_JOINTS, 3))
    joints[0] = anatomy.WRIST
    for name, chain in anatomy.DIGIT_JOINTS.items():
        joints[list(chain)] = digits[name].joints
    tips = np.stack([digits[name].tip for name in anatomy.DIGITS])
    return joints, tips, digits


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _joint_axes(digit: anatomy.Digit) -> tuple[np.ndarray, np.ndarray]:
    """Per joint of ``digit``: the direction normal to its joint plane (bisecting the two
    bones) and the back-of-finger direction perpendicular to it. Both (3, 3)."""
    points = np.concatenate([digit.joints, digit.tip[None]])
    bones = _unit(np.diff(points, axis=0))
    normals = np.stack([bones[0], _unit(bones[0] + bones[1]), _unit(bones[1] + bones[2])])
    up = digit.dorsal - (normals @ digit.dorsal)[:, None] * normals
    return normals, _unit(up)


def _distance_to_polyline(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    best = np.full(len(points), np.inf)
    for a, b in zip(line[:-1], line[1:], strict=True):
        ab = b - a
        t = np.clip((points - a) @ ab / (ab @ ab), 0.0, 1.0)
        best = np.minimum(best, np.linalg.norm(points - a - t[:, None] * ab, axis=1))
    return best


# --- skinning ------------------------------------------------------------------------
def _assign_bones(
    vertices: np.ndarray, labels: np.ndarray, digits: dict[str, anatomy.Digit]
) -> np.ndarray:
    """One bone (MANO joint index) per vertex before smoothing."""
    num = len(vertices)
    owner = np.full(num, -1)  # digit index into anatomy.DIGITS, -1: palm
    owner_dist = np.full(num, np.inf)
    for d, name in enumerate(anatomy.DIGITS):
        digit = digits[name]
        line = np.concatenate([digit.joints, digit.tip[None]])
        dist = _distance_to_polyline(vertices, line) / digit.radii[0]
        normals, up = _joint_axes(digit)
        rel = vertices - digit.joints[0]
        past_base = rel @ normals[0] > KNUCKLE_TILT * (rel @ up[0])
        own = labels == anatomy.PART_NAMES.index(name)
        near = (labels == 0) & past_base & (dist < 1.35)
        take = (own | near) & (dist < owner_dist)
        owner[take] = d
        owner_dist[take] = dist[take]
    bone = np.zeros(num, dtype=np.int64)
    for d, name in enumerate(anatomy.DIGITS):
        digit = digits[name]
        chain = anatomy.DIGIT_JOINTS[name]
        normals, up = _joint_axes(digit)
        mine = owner == d
        for k in range(3):
            rel = vertices - digit.joints[k]
            past = rel @ normals[k] > KNUCKLE_TILT * (rel @ up[k])
            bone[mine & past] = chain[k]
    return bone


def skinning_weights(
    vertices: np.ndarray,
    faces: np.ndarray,
    labels: np.ndarray,
    digits: dict[str, anatomy.Digit],
    steps: int = WEIGHT_DIFFUSION_STEPS,
) -> np.ndarray:
    """(V, 16) weights: one bone per vertex, then ``steps`` rounds of averaging with the
    neighbours along the skin (so bends are soft but never leak across a finger gap)."""
    weights = np.eye(NUM_BODY_JOINTS)[_assign_bones(vertices, labels, digits)]
    edges, degree = vertex_neighbours(faces, len(vertices))
    for _ in range(steps):
        weights = 0.5 * weights + 0.5 * laplacian_average(weights, edges, degree)
    weights[weights < 1e-4] = 0.0
    return weights / weights.sum(1, keepdims=True)


# --- joint regressor ---------------------------------------------------------------------
def _affine_weights(points: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Non-negative weights, as even as possible, whose weighted mean of ``points`` is
    ``target``: the minimum-norm correction of uniform weights, dropping points that
    would get a negative weight."""
    active = np.ones(len(points), dtype=bool)
    for _ in range(len(points)):
        p = points[active]
        a = np.concatenate([p.T, np.ones((1, len(p)))])  # (4, n)
        w0 = np.full(len(p), 1.0 / len(p))
        b = np.concatenate([target, [1.0]])
        w = w0 + a.T @ np.linalg.solve(a @ a.T, b - a @ w0)
        if w.min() >= 0:
            out = np.zeros(len(points))
            out[active] = w
            return out
        idx = np.flatnonzero(active)
        active[idx[w < 0]] = False
        if active.sum() < 4:
            break
    raise ValueError("joint regressor: the joint lies outside its ring of vertices")


def joint_regressor(
    vertices: np.ndarray,
    labels: np.ndarray,
    joints: np.ndarray,
    digits: dict[str, anatomy.Digit],
    band: float = 0.003,
) -> np.ndarray:
    """(16, V): each joint as a convex combination of the skin vertices around it (a band
    of half width ``band`` across the joint plane), reproducing the rest joints."""
    regressor = np.zeros((NUM_BODY_JOINTS, len(vertices)))
    ring = np.abs(vertices[:, 0] - joints[0, 0]) < band  # the wrist: a cross-section
    regressor[0, ring] = _affine_weights(vertices[ring], joints[0])
    for name, chain in anatomy.DIGIT_JOINTS.items():
        digit = digits[name]
        normals, _ = _joint_axes(digit)
        part = anatomy.PART_NAMES.index(name)
        for k, joint in enumerate(chain):
            centre = joints[joint]
            reach = 2.2 * digit.radii[2 * k]
            near = np.linalg.norm(vertices - centre, axis=1) < reach
            slab = np.abs((vertices - centre) @ normals[k]) < band
            ring = near & slab & ((labels == part) | (k == 0))
            weights = np.zeros(len(vertices))
            weights[ring] = _affine_weights(vertices[ring], centre)
            regressor[joint] = weights
    return regressor


# --- shape blend shapes ---------------------------------------------------------------
def _digit_bones(name: str) -> list[int]:
    return list(anatomy.DIGIT_JOINTS[name])


def _length_field(
    vertices: np.ndarray,
    weights: np.ndarray,
    base: np.ndarray,
    axis: np.ndarray,
    bones: list[int],
) -> np.ndarray:
    """Stretch along ``axis`` away from ``base``, carried by ``bones``' skinning weights."""
    along = ((vertices - base) @ axis)[:, None] * axis
    return weights[:, bones].sum(1, keepdims=True) * along


def shape_directions(
    vertices: np.ndarray,
    normals: np.ndarray,
    weights: np.ndarray,
    joints: np.ndarray,
    tips: np.ndarray,
) -> np.ndarray:
    """(V, 3, 10) displacement per unit beta of each mode in :data:`SHAPE_MODES`.

    Each mode is an affine motion per bone, blended with the skinning weights (so the
    skin stays smooth across joints) and linearised; the joints follow through the
    regressor.
    """
    num = len(vertices)
    dirs = np.zeros((num, 3, len(SHAPE_MODES)))
    digit_bones = {name: _digit_bones(name) for name in anatomy.DIGITS}
    all_digit = sorted(b for bones in digit_bones.values() for b in bones)
    palm_w = weights[:, [0]]
    base_of = {name: joints[chain[0]] for name, chain in anatomy.DIGIT_JOINTS.items()}

    def carried(move_palm: np.ndarray, move_base) -> np.ndarray:
        """Palm vertices move by ``move_palm``; each digit rigidly with its base joint."""
        field = palm_w * move_palm
        for name, bones in digit_bones.items():
            field = field + weights[:, bones].sum(1, keepdims=True) * move_base(base_of[name])
        return field

    # 0 size
    dirs[..., 0] = vertices
    # 1 finger length (phalanges; the thumb from its MCP)
    field = np.zeros((num, 3))
    for name in ("index", "middle", "ring", "pinky"):
        chain = anatomy.DIGIT_JOINTS[name]
        axis = _unit(tips[anatomy.DIGITS.index(name)] - joints[chain[0]])
        field += _length_field(vertices, weights, joints[chain[0]], axis, list(chain))
    t_mcp = joints[14]
    t_axis = _unit(tips[0] - t_mcp)
    field += _length_field(vertices, weights, t_mcp, t_axis, [14, 15])
    dirs[..., 1] = field
    # 2 palm width (about the middle finger's line)
    ez = np.array([0.0, 0.0, 1.0])
    zc = joints[4, 2]
    dirs[..., 2] = carried(((vertices[:, 2] - zc)[:, None]) * ez, lambda b: (b[2] - zc) * ez)
    # 3 finger thickness: radial about each digit bone
    field = np.zeros((num, 3))
    for bone in all_digit:
        child = _child_point(bone, joints, tips)
        axis = _unit(child - joints[bone])
        rel = vertices - joints[bone]
        radial = rel - (rel @ axis)[:, None] * axis
        field += weights[:, [bone]] * radial
    dirs[..., 3] = field
    # 4 palm length (along the arm axis, x)
    ex = np.array([1.0, 0.0, 0.0])
    dirs[..., 4] = carried(vertices[:, [0]] * ex, lambda b: b[0] * ex)
    # 5 palm thickness (about the palm's mid plane)
    ey = np.array([0.0, 1.0, 0.0])
    yc = joints[4, 1]
    dirs[..., 5] = carried(((vertices[:, 1] - yc)[:, None]) * ey, lambda b: (b[1] - yc) * ey)
    # 6 thumb length (from the CMC joint)
    dirs[..., 6] = _length_field(
        vertices, weights, joints[13], _unit(tips[0] - joints[13]), [13, 14, 15]
    )
    # 7 index longer, ring shorter
    for name, sign in (("index", 1.0), ("ring", -1.0)):
        chain = anatomy.DIGIT_JOINTS[name]
        axis = _unit(tips[anatomy.DIGITS.index(name)] - joints[chain[0]])
        dirs[..., 7] += sign * _length_field(vertices, weights, joints[chain[0]], axis, list(chain))
    # 8 pinky length
    chain = anatomy.DIGIT_JOINTS["pinky"]
    axis = _unit(tips[4] - joints[chain[0]])
    dirs[..., 8] = _length_field(vertices, weights, joints[chain[0]], axis, list(chain))
    # 9 fleshiness
    dirs[..., 9] = normals
    return dirs * np.asarray(_SHAPE_SCALE)


def _child_point(bone: int, joints: np.ndarray, tips: np.ndarray) -> np.ndarray:
    for d, name in enumerate(anatomy.DIGITS):
        chain = anatomy.DIGIT_JOINTS[name]
        if bone in chain:
            k = chain.index(bone)
            return tips[d] if k == 2 else joints[chain[k + 1]]
    raise ValueError(f"joint {bone} is not a digit joint")


# --- texture regions ------------------------------------------------------------------
def _smoothstep(lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def texture_regions(
    vertices: np.ndarray,
    normals: np.ndarray,
    labels: np.ndarray,
    digits: dict[str, anatomy.Digit],
) -> np.ndarray:
    """(V, 4) weights for :data:`REGION_NAMES`."""
    num = len(vertices)
    palmar_dir = np.tile(np.array([0.0, -1.0, 0.0]), (num, 1))
    regions = np.zeros((num, len(REGION_NAMES)))
    for name in anatomy.DIGITS:
        digit = digits[name]
        mine = labels == anatomy.PART_NAMES.index(name)
        normals_j, up = _joint_axes(digit)
        palmar_dir[mine] = -up[1]
        # nail: the back of the last phalanx, its distal two thirds
        rel = vertices - digit.joints[2]
        length = np.linalg.norm(digit.tip - digit.joints[2])
        along = rel @ normals_j[2] / length
        facing = normals @ up[2]
        lateral = (
            np.linalg.norm(
                rel - np.outer(rel @ up[2], up[2]) - np.outer(rel @ normals_j[2], normals_j[2]),
                axis=1,
            )
            / digit.radii[-1]
        )
        nail = (
            _smoothstep(0.25, 0.45, along)
            * (1.0 - _smoothstep(0.85, 1.0, along))
            * _smoothstep(0.45, 0.7, facing)
            * (1.0 - _smoothstep(0.6, 0.85, lateral))
        )
        regions[mine, 1] = nail[mine]
        for k in range(3):
            rel = vertices - digit.joints[k]
            axial = rel @ normals_j[k]
            back = normals @ up[k]
            crease = np.exp(-(((axial + 0.002) / 0.0025) ** 2)) * _smoothstep(0.2, 0.6, -back)
            knuckle = np.exp(-((axial / 0.005) ** 2)) * _smoothstep(0.3, 0.8, back)
            if k == 0 and name != "thumb":
                crease = np.exp(-(((axial - 0.016) / 0.0025) ** 2)) * _smoothstep(0.2, 0.6, -back)
            near = np.linalg.norm(rel, axis=1) < 2.5 * digit.radii[2 * k]
            regions[:, 2] = np.maximum(regions[:, 2], np.where(near, crease, 0.0))
            regions[:, 3] = np.maximum(regions[:, 3], np.where(near, knuckle, 0.0))
    regions[:, 0] = _smoothstep(-0.15, 0.35, (normals * palmar_dir).sum(1))
    return regions


# --- assembly -------------------------------------------------------------------------
def build_builtin_hand(spacing: float = GRID_SPACING) -> HandModelData:
    """Generate the built-in right hand from code (takes a few seconds)."""
    joints, tips, digits = skeleton()
    everything = np.concatenate([joints, tips])
    lower = everything.min(0) - 0.03
    upper = everything.max(0) + 0.03
    upper[0] = 0.05  # the wrist stub
    values, origin = sample_grid(anatomy.hand_sdf, lower, upper, spacing)
    vertices, faces = surface_nets(values, origin, spacing)
    vertices = relax_on_surface(anatomy.hand_sdf, vertices, faces, RELAX_ITERATIONS)
    check_closed_mesh(faces)
    check_manifold_vertices(faces, len(vertices))
    if signed_volume(vertices, faces) <= 0:
        raise ValueError("built-in hand: faces wind inward")
    normals = vertex_normals(vertices, faces)
    labels = anatomy.nearest_part(vertices)
    weights = skinning_weights(vertices, faces, labels, digits)
    regressor = joint_regressor(vertices, labels, joints, digits)
    tip_ids = np.zeros(5, dtype=np.int64)
    for d, name in enumerate(anatomy.DIGITS):
        digit = digits[name]
        axis = _unit(digit.tip - digit.joints[2])
        reach = np.where(labels == anatomy.PART_NAMES.index(name), vertices @ axis, -np.inf)
        tip_ids[d] = int(np.argmax(reach))
    shapedirs = shape_directions(vertices, normals, weights, joints, tips)
    space = PoseSpace(joint_frames(joints, vertices[tip_ids], "right"), np.zeros(45))
    hands_mean = space.to_pose(GESTURES[RELAXED])[3:]
    data = HandModelData(
        name="builtin",
        side="right",
        v_template=vertices.astype(np.float32),
        faces=faces.astype(np.int64),
        j_regressor=regressor.astype(np.float32),
        skinning_weights=weights.astype(np.float32),
        shapedirs=shapedirs.astype(np.float32),
        posedirs=np.zeros((len(vertices), 3, 9 * (NUM_BODY_JOINTS - 1)), np.float32),
        parents=np.array([-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14], np.int64),
        tip_vertex_ids=tip_ids,
        hands_mean=hands_mean.astype(np.float32),
        regions=texture_regions(vertices, normals, labels, digits).astype(np.float32),
        region_names=REGION_NAMES,
    )
    data.validate()
    return data


# --- the shipped asset ----------------------------------------------------------------
def save_builtin_asset(data: HandModelData, path: str | Path) -> None:
    """Write the right-hand arrays (zero posedirs omitted; sparse regressor) to ``path``."""
    if data.side != "right":
        raise ValueError("the built-in asset stores the right hand")
    rows, cols = np.nonzero(data.j_regressor)
    w_rows, w_cols = np.nonzero(data.skinning_weights)
    arrays = {
        "version": np.array(ASSET_VERSION),
        "v_template": data.v_template,
        "faces": data.faces.astype(np.int32),
        "j_regressor_index": np.stack([rows, cols]).astype(np.int32),
        "j_regressor_value": data.j_regressor[rows, cols],
        "weights_index": np.stack([w_rows, w_cols]).astype(np.int32),
        "weights_value": data.skinning_weights[w_rows, w_cols],
        "shapedirs": data.shapedirs,
        "tip_vertex_ids": data.tip_vertex_ids.astype(np.int32),
        "hands_mean": data.hands_mean,
        "regions": data.regions,
        "region_names": np.array(data.region_names),
    }
    if np.any(data.posedirs):
        raise ValueError("the built-in asset format has no posedirs")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)


def read_builtin_asset(path: str | Path) -> HandModelData:
    """Read an asset written by :func:`save_builtin_asset` (the right hand)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {key: z[key] for key in z.files}
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: not a readable built-in hand .npz ({err})") from err
    required = (
        "version", "v_template", "faces", "j_regressor_index", "j_regressor_value",
        "weights_index", "weights_value", "shapedirs", "tip_vertex_ids", "hands_mean",
        "regions", "region_names",
    )  # fmt: skip
    missing = [key for key in required if key not in arrays]
    if missing:
        raise ValueError(f"{path}: missing key(s) {missing}")
    if int(arrays["version"]) != ASSET_VERSION:
        raise ValueError(f"{path}: version {int(arrays['version'])}, expected {ASSET_VERSION}")
    num = len(arrays["v_template"])
    regressor = np.zeros((NUM_BODY_JOINTS, num), np.float32)
    regressor[tuple(arrays["j_regressor_index"])] = arrays["j_regressor_value"]
    weights = np.zeros((num, NUM_BODY_JOINTS), np.float32)
    weights[tuple(arrays["weights_index"])] = arrays["weights_value"]
    data = HandModelData(
        name="builtin",
        side="right",
        v_template=arrays["v_template"].astype(np.float32),
        faces=arrays["faces"].astype(np.int64),
        j_regressor=regressor,
        skinning_weights=weights,
        shapedirs=arrays["shapedirs"].astype(np.float32),
        posedirs=np.zeros((num, 3, 9 * (NUM_BODY_JOINTS - 1)), np.float32),
        parents=np.array([-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14], np.int64),
        tip_vertex_ids=arrays["tip_vertex_ids"].astype(np.int64),
        hands_mean=arrays["hands_mean"].astype(np.float32),
        regions=arrays["regions"].astype(np.float32),
        region_names=tuple(str(n) for n in arrays["region_names"]),
    )
    try:
        data.validate()
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err
    return data


def builtin_asset_path() -> Path:
    """Where the shipped right-hand asset lives inside the package."""
    return Path(str(resources.files("handhdr.hand") / "assets" / ASSET_NAME))
