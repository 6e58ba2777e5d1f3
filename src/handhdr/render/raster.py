"""Exact triangle rasterisation in numpy: coverage, nearest surface and barycentrics.

Why our own rasteriser: masks must be bit-identical on every machine for the same
seed, and GPU or llvmpipe rasterisation differs between drivers. Vertices are
projected with elementwise IEEE float64 arithmetic (no BLAS, no fused multiply-add)
and snapped to a 1/256 px fixed-point grid. Coverage is decided with integer edge
functions, so it is watertight (a sample on an edge shared by two triangles belongs
to at least one of them) and exact. The nearest surface is the largest inverse depth,
an affine function of the image position computed elementwise in float64. Given the
same vertex positions, every output is the same on any machine.

The work is organised in spans: for every triangle and pixel row the exact range of
covered pixel centres comes from one division per edge, so only covered pixels are
ever visited. That division is exact although done in float64: its operands are
integers below 2**53, the divisor is below 2**32, so a non-integer quotient is at least
2**-32 away from an integer, far more than the rounding error of a quotient inside the
image; ceil and floor therefore give the exact integer bounds.

Four extra samples per pixel (a rotated grid at +-1/8 and +-3/8 px) give the
sub-pixel coverage used for anti-aliasing, accumulated per row with difference arrays.

Pixel convention (OpenCV, InterHand2.6M): pixel ``(row j, column i)`` has its centre
at ``(u, v) = (i, j)``; a pixel is *covered* when its centre is inside a triangle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUBPIXEL_BITS = 8
_ONE = 1 << SUBPIXEL_BITS
# sample offsets (du, dv) in subpixel units: pixel centre, then the rotated grid
SAMPLE_OFFSETS: tuple[tuple[int, int], ...] = (
    (0, 0),
    (-_ONE // 8, -3 * _ONE // 8),
    (3 * _ONE // 8, -_ONE // 8),
    (_ONE // 8, 3 * _ONE // 8),
    (-3 * _ONE // 8, _ONE // 8),
)
_REACH = 3 * _ONE // 8  # the furthest a sample lies from its pixel centre
GUARD_PX = 1 << 15  # triangles with a vertex further off-image than this are dropped
NEAR_MM = 1.0  # triangles with a vertex closer than this to the camera plane are dropped


@dataclass
class Fragments:
    """The nearest surface of one mesh at every covered pixel, as compact arrays.

    ``pixels`` are the flat indices ``row * width + column`` of the covered pixels in
    increasing order; the other per-pixel arrays are aligned with them.
    """

    width: int
    height: int
    pixels: np.ndarray  # (P,) int64
    faces: np.ndarray  # (P,) int64 index of the nearest face
    bary: np.ndarray  # (P, 3) float32 perspective-correct barycentric weights
    inv_depth: np.ndarray  # (P,) float64 1/z (1/mm) of the nearest surface
    front: np.ndarray  # (P,) bool: the nearest face is seen from outside
    samples: np.ndarray  # (P,) uint8: how many of the 4 sub-pixel samples are covered

    def mask(self) -> np.ndarray:
        """``H x W`` bool coverage of pixel centres."""
        out = np.zeros(self.height * self.width, dtype=bool)
        out[self.pixels] = True
        return out.reshape(self.height, self.width)

    def full(self, values: np.ndarray, fill: float = 0) -> np.ndarray:
        """Scatter per-pixel ``values`` ``(P, ...)`` into an ``H x W x ...`` frame."""
        out = np.full((self.height * self.width, *values.shape[1:]), fill, dtype=values.dtype)
        out[self.pixels] = values
        return out.reshape(self.height, self.width, *values.shape[1:])


def _empty(width: int, height: int) -> Fragments:
    return Fragments(
        width,
        height,
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros((0, 3), np.float32),
        np.zeros(0, np.float64),
        np.zeros(0, bool),
        np.zeros(0, np.uint8),
    )


def project_fixed(
    vertices: np.ndarray, intrinsics: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Camera-frame vertices (mm) -> fixed-point pixel coordinates ``(V, 2)`` int64,
    inverse depth ``(V,)`` and validity ``(V,)``, with elementwise float64 arithmetic."""
    v = np.asarray(vertices, dtype=np.float64)
    k = np.asarray(intrinsics, dtype=np.float64)
    z = v[:, 2]
    valid = z >= NEAR_MM
    inv_z = 1.0 / np.where(valid, z, 1.0)
    x = v[:, 0] * inv_z
    y = v[:, 1] * inv_z
    u = k[0, 0] * x + k[0, 1] * y + k[0, 2]
    w = k[1, 1] * y + k[1, 2]
    valid &= (np.abs(u) < GUARD_PX) & (np.abs(w) < GUARD_PX)
    fixed = np.stack([np.rint(u * _ONE), np.rint(w * _ONE)], axis=1)
    return np.where(valid[:, None], fixed, 0.0).astype(np.int64), inv_z, valid


def rasterize(
    vertices: np.ndarray,
    faces: np.ndarray,
    intrinsics: np.ndarray,
    width: int,
    height: int,
    cull_back: bool = False,
) -> Fragments:
    """Rasterise a triangle mesh given in the camera frame (x right, y down, z forward, mm).

    ``faces`` are counter-clockwise seen from outside (MANO's convention). With
    ``cull_back`` only faces seen from outside are drawn (enough for closed meshes);
    otherwise both sides are.
    """
    # arrays are edge- or corner-major, (3, n): numpy reduces over a short inner axis slowly
    faces_t = np.ascontiguousarray(np.asarray(faces, dtype=np.int64).T)  # (3, F)
    fixed, inv_z, valid = project_fixed(vertices, intrinsics)
    xs = fixed[:, 0][faces_t]  # (3, F)
    ys = fixed[:, 1][faces_t]
    # twice the signed image area; a face seen from outside has a negative one
    # (counter-clockwise in a right-handed camera frame whose image y points down)
    area = (xs[1] - xs[0]) * (ys[2] - ys[0]) - (xs[2] - xs[0]) * (ys[1] - ys[0])
    keep = valid[faces_t[0]] & valid[faces_t[1]] & valid[faces_t[2]] & (area != 0)
    if cull_back:
        keep &= area < 0
    ymin = np.minimum(np.minimum(ys[0], ys[1]), ys[2])
    ymax = np.maximum(np.maximum(ys[0], ys[1]), ys[2])
    xmin = np.minimum(np.minimum(xs[0], xs[1]), xs[2])
    xmax = np.maximum(np.maximum(xs[0], xs[1]), xs[2])
    row0 = np.maximum(-((_REACH - ymin) >> SUBPIXEL_BITS), 0)
    row1 = np.minimum((ymax + _REACH) >> SUBPIXEL_BITS, height - 1)
    keep &= (row1 >= row0) & (xmax + _REACH >= 0) & (xmin - _REACH <= (width - 1) * _ONE)
    tri = np.flatnonzero(keep)
    if tri.size == 0:
        return _empty(width, height)
    xs, ys, area, row0, row1 = xs[:, tri], ys[:, tri], area[tri], row0[tri], row1[tri]
    sign = np.where(area > 0, 1, -1)
    # edge k joins corners k+1 and k+2: E_k(x, y) = A_k x + B_k y + C_k is >= 0 inside
    # and equals |area| at corner k. Integers below 2**50, exact in float64.
    xa, ya = xs[[1, 2, 0]], ys[[1, 2, 0]]
    xb, yb = xs[[2, 0, 1]], ys[[2, 0, 1]]
    a = ((ya - yb) * sign).astype(np.float64)  # (3, T)
    b = ((xb - xa) * sign).astype(np.float64)
    c = (((yb - ya) * xa - (xb - xa) * ya) * sign).astype(np.float64)
    # per edge: A > 0 bounds the columns from below, A < 0 from above, A == 0 is a
    # row test; infinite penalties switch the other bounds off without branches (a
    # horizontal edge divides by an infinite step: its bound is 0, never inf - inf)
    left = a > 0
    right = a < 0
    flat = ~(left | right)
    step = np.where(flat, np.inf, a * _ONE)
    pen_lo = np.where(left, 0.0, -np.inf)
    pen_hi = np.where(right, 0.0, np.inf)
    slope = np.where(flat, 0.0, b / np.where(flat, 1.0, a))  # -d(column) / d(row)
    # one entry per (triangle, row)
    nrows = row1 - row0 + 1
    starts = np.cumsum(nrows) - nrows
    span_tri = np.repeat(np.arange(tri.size), nrows)
    rows = row0[span_tri] + np.arange(span_tri.size) - np.repeat(starts, nrows)
    ypos = (rows << SUBPIXEL_BITS).astype(np.float64)
    # centre columns i with A * 256 i >= -(B y + C): an exact division (see module doc)
    rest = [-(b[k][span_tri] * ypos + c[k][span_tri]) for k in range(3)]
    bound = [rest[k] / step[k][span_tri] for k in range(3)]
    any_flat = bool(flat.any())

    def columns(lo_k: list, hi_k: list, dv: int) -> tuple[np.ndarray, np.ndarray]:
        """First and last covered column per span from the per-edge bounds."""
        lo = np.maximum(np.maximum(lo_k[0], lo_k[1]), lo_k[2])
        hi = np.minimum(np.minimum(hi_k[0], hi_k[1]), hi_k[2])
        hi_cap: float | np.ndarray = width - 1.0
        if any_flat:  # the row test of a horizontal edge (A = 0): B (y + dv) + C >= 0
            blocked = np.zeros(span_tri.size, dtype=bool)
            for k in range(3):
                blocked |= flat[k][span_tri] & (rest[k] - b[k][span_tri] * dv > 0)
            hi_cap = np.where(blocked, -1.0, width - 1.0)
        return (
            np.ceil(np.clip(lo, 0.0, width)).astype(np.int64),
            np.floor(np.clip(hi, -1.0, hi_cap)).astype(np.int64),
        )

    # bounds with the other edges switched off by finite penalties: exact (float64) at
    # the pixel centres; for the anti-aliasing samples shifted by -(du + B/A dv) / 256
    # in float32 (rounded, which only moves a sample's coverage, never a label)
    lo_k = [bound[k] + pen_lo[k][span_tri] for k in range(3)]
    hi_k = [bound[k] + pen_hi[k][span_tri] for k in range(3)]
    lo, hi = columns(lo_k, hi_k, 0)
    lo_all, hi_all = [lo], [hi]
    lo32 = [v.astype(np.float32) for v in lo_k]
    hi32 = [v.astype(np.float32) for v in hi_k]
    slope32 = [slope[k][span_tri].astype(np.float32) for k in range(3)]
    for du, dv in SAMPLE_OFFSETS[1:]:
        shift = [slope32[k] * np.float32(-dv / _ONE) + np.float32(-du / _ONE) for k in range(3)]
        lo, hi = columns(
            [lo32[k] + shift[k] for k in range(3)], [hi32[k] + shift[k] for k in range(3)], dv
        )
        lo_all.append(lo)
        hi_all.append(hi)
    # -- nearest surface at the pixel centres ------------------------------------------
    lo, hi = lo_all[0], hi_all[0]
    lengths = np.maximum(hi - lo + 1, 0)
    total = int(lengths.sum())
    if total == 0:
        return _empty(width, height)
    frag_span = np.repeat(np.arange(lengths.size), lengths)
    fstart = np.cumsum(lengths) - lengths
    cols = lo[frag_span] + np.arange(total) - np.repeat(fstart, lengths)
    frows = rows[frag_span]
    ftri = span_tri[frag_span]
    # 1/z is affine in the image plane: 1/z = (sum_k E_k q_k) / |area|
    q = inv_z[faces_t[:, tri]]  # (3, T)
    aq, bq, cq = a * q, b * q, c * q  # E_k q_k = aq_k x + bq_k y + cq_k
    absarea = (area * sign).astype(np.float64)
    pa = (aq[0] + aq[1] + aq[2]) / absarea
    pb = (bq[0] + bq[1] + bq[2]) / absarea
    pc = (cq[0] + cq[1] + cq[2]) / absarea
    fx = (cols << SUBPIXEL_BITS).astype(np.float64)
    fy = (frows << SUBPIXEL_BITS).astype(np.float64)
    inv_depth = pa[ftri] * fx + pb[ftri] * fy + pc[ftri]
    # argmax per pixel: positive float64 bit patterns sort like the values; the low
    # bits carry the fragment index (ties go to the later fragment, deterministically)
    pair_bits = max(int(total).bit_length(), 1)
    key = np.maximum(inv_depth, 0.0).view(np.int64) >> pair_bits << pair_bits
    key |= np.arange(total)
    r0, r1 = int(rows.min()), int(rows.max()) + 1  # the rows this mesh touches
    zbuf = np.zeros((r1 - r0) * width, dtype=np.int64)
    np.maximum.at(zbuf, (frows - r0) * width + cols, key)
    covered_local = np.flatnonzero(zbuf)
    win = zbuf[covered_local] & ((1 << pair_bits) - 1)
    covered = covered_local + r0 * width
    wtri = ftri[win]
    # perspective-correct barycentrics of the winner from its edge values
    coef = np.concatenate([aq, bq, cq]).T[wtri]  # (P, 9): one row gather
    wx, wy = fx[win], fy[win]
    e = [coef[:, k] * wx + coef[:, 3 + k] * wy + coef[:, 6 + k] for k in range(3)]
    inv_total = 1.0 / (e[0] + e[1] + e[2])
    bary = np.empty((covered.size, 3), dtype=np.float32)
    for k in range(3):
        bary[:, k] = e[k] * inv_total
    # -- sub-pixel coverage, union over the mesh: one counter per sample, packed in
    # 13-bit fields of a float64 (exact), accumulated along rows with a prefix sum;
    # empty spans get zero weight
    stride = width + 1
    local_rows = (rows - r0) * stride
    idx, wts = [], []
    for s in range(4):
        lo, hi = lo_all[s + 1], hi_all[s + 1]
        weight = (hi >= lo) * float(1 << (13 * s))
        idx += [local_rows + lo, local_rows + hi + 1]
        wts += [weight, -weight]
    diff = np.bincount(np.concatenate(idx), np.concatenate(wts), minlength=(r1 - r0) * stride)
    packed = np.cumsum(diff[: (r1 - r0) * stride].reshape(r1 - r0, stride)[:, :width], axis=1)
    packed = packed.reshape(-1)[covered_local].astype(np.int64)
    samples = np.zeros(covered.size, dtype=np.uint8)
    for s in range(4):
        samples += ((packed >> (13 * s)) & 0x1FFF) > 0
    return Fragments(
        width=width,
        height=height,
        pixels=covered,
        faces=tri[wtri],
        bary=bary,
        inv_depth=inv_depth[win],
        front=area[wtri] < 0,
        samples=samples,
    )
