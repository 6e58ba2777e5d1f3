"""Turn an implicit surface (signed distance, negative inside) into a closed triangle mesh.

The built-in hand is designed as a smooth implicit surface; this module meshes it with
surface nets (one vertex per grid cell that the surface crosses, one quad per grid edge
that it crosses), then relaxes the vertices along the surface for even triangles and
projects them onto the zero level set. Surface nets gives a closed, consistently
oriented mesh whenever the surface is resolved by the grid (features thicker than two
cells), which :func:`check_closed_mesh` verifies.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SignedDistance = Callable[[np.ndarray], np.ndarray]  # (N, 3) points -> (N,) values


def sample_grid(
    sdf: SignedDistance, lower: np.ndarray, upper: np.ndarray, spacing: float
) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate ``sdf`` on a regular grid covering [lower, upper]; returns (values, origin)."""
    lower = np.asarray(lower, dtype=np.float64)
    counts = np.ceil((np.asarray(upper, dtype=np.float64) - lower) / spacing).astype(int) + 1
    axes = [lower[a] + spacing * np.arange(counts[a]) for a in range(3)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    return sdf(grid).reshape(tuple(counts)), lower


_CORNERS = np.array([(i, j, k) for i in (0, 1) for j in (0, 1) for k in (0, 1)])
_CUBE_EDGES = [
    (a, b)
    for a in range(8)
    for b in range(a + 1, 8)
    if np.abs(_CORNERS[a] - _CORNERS[b]).sum() == 1
]
_CUBE_FACES = [
    [c for c in range(8) if _CORNERS[c][axis] == side] for axis in range(3) for side in (0, 1)
]


def _connected(corners: list[int]) -> bool:
    if len(corners) <= 1:
        return True
    seen, todo = {corners[0]}, [corners[0]]
    while todo:
        c = todo.pop()
        for a, b in _CUBE_EDGES:
            for x, y in ((a, b), (b, a)):
                if x == c and y in corners and y not in seen:
                    seen.add(y)
                    todo.append(y)
    return len(seen) == len(corners)


def _simple_configurations() -> np.ndarray:
    """For each of the 256 inside/outside patterns of a grid cell: does the surface cross
    it as a single disc (inside corners connected along cube edges, outside corners too,
    and no face with a checkerboard)?"""
    simple = np.zeros(256, dtype=bool)
    for mask in range(256):
        inside = [c for c in range(8) if mask >> c & 1]
        outside = [c for c in range(8) if not mask >> c & 1]
        checker = False
        for face in _CUBE_FACES:
            face_in = [c in inside for c in face]
            # face corners in order (00, 01, 10, 11): diagonals are (0, 3) and (1, 2)
            if face_in[0] == face_in[3] and face_in[1] == face_in[2] and face_in[0] != face_in[1]:
                checker = True
        simple[mask] = _connected(inside) and _connected(outside) and not checker
    return simple


_SIMPLE = _simple_configurations()


def resolve_ambiguous_cells(values: np.ndarray) -> np.ndarray:
    """Move grid samples just inside the surface until the surface crosses every grid cell
    as a single disc.

    Where two pieces of surface pass through one cell (a saddle or a thin gap below the
    grid resolution) surface nets would pinch them into one vertex or glue four quads to
    one edge. Moving the cell's outside corner closest to zero just inside decides such
    places as "connected" and keeps the mesh manifold. Samples only ever move inside, so
    this always ends.
    """
    values = values.copy()
    while True:
        inside = values < 0
        mask = np.zeros(tuple(np.array(values.shape) - 1), dtype=np.int64)
        for bit, (i, j, k) in enumerate(_CORNERS):
            sub = inside[
                i : values.shape[0] - 1 + i,
                j : values.shape[1] - 1 + j,
                k : values.shape[2] - 1 + k,
            ]
            mask |= sub.astype(np.int64) << bit
        bad = np.argwhere(~_SIMPLE[mask])
        if len(bad) == 0:
            return values
        for cell in bad:
            corners = [tuple(cell + c) for c in _CORNERS]
            now = sum(1 << bit for bit, c in enumerate(corners) if values[c] < 0)
            if not _SIMPLE[now]:  # an earlier move this round may have fixed it
                outside = [c for c in corners if values[c] >= 0]
                values[min(outside, key=lambda c: values[c])] = -1e-12


def surface_nets(
    values: np.ndarray, origin: np.ndarray, spacing: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mesh the zero level set of a sampled field (negative inside; the border must be outside).

    Returns vertices (N, 3) float64 and triangles (F, 3) int64, counter-clockwise seen
    from outside.
    """
    if (values[[0, -1]] < 0).any() or (values[:, [0, -1]] < 0).any():
        raise ValueError("surface_nets: the grid border must lie outside the surface")
    if (values[:, :, [0, -1]] < 0).any():
        raise ValueError("surface_nets: the grid border must lie outside the surface")
    values = resolve_ambiguous_cells(values)
    inside = values < 0
    cells = np.array(values.shape) - 1
    cell_sum = np.zeros((int(np.prod(cells)), 3))
    cell_count = np.zeros(int(np.prod(cells)))
    quads = []
    for axis in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(0, -1)
        hi[axis] = slice(1, None)
        v0, v1 = values[tuple(lo)], values[tuple(hi)]
        crossing = inside[tuple(lo)] != inside[tuple(hi)]
        idx = np.argwhere(crossing)  # grid index of the edge's lower end point
        t = v0[crossing] / (v0[crossing] - v1[crossing])
        point = idx.astype(np.float64)
        point[:, axis] += t
        # the four cells around the edge differ in the two other axes by 0 or -1
        a1, a2 = (axis + 1) % 3, (axis + 2) % 3
        ring = []
        for d1, d2 in ((-1, -1), (0, -1), (0, 0), (-1, 0)):
            cell = idx.copy()
            cell[:, a1] += d1
            cell[:, a2] += d2
            ring.append(cell)
        for cell in ring:
            ok = np.all((cell >= 0) & (cell < cells), axis=1)
            flat = np.ravel_multi_index(tuple(cell[ok].T), tuple(cells))
            np.add.at(cell_sum, flat, point[ok])
            np.add.at(cell_count, flat, 1.0)
        flat_ring = np.stack([np.ravel_multi_index(tuple(c.T), tuple(cells)) for c in ring], axis=1)
        outward = inside[tuple(lo)][crossing]  # inside -> outside along +axis
        flat_ring[~outward] = flat_ring[~outward][:, ::-1]
        quads.append(flat_ring)
    quad = np.concatenate(quads)
    active = np.flatnonzero(cell_count)
    remap = np.full(cell_sum.shape[0], -1, dtype=np.int64)
    remap[active] = np.arange(active.size)
    vertices = origin + spacing * cell_sum[active] / cell_count[active, None]
    quad = remap[quad]
    # split each quad along its shorter diagonal
    d02 = np.linalg.norm(vertices[quad[:, 0]] - vertices[quad[:, 2]], axis=1)
    d13 = np.linalg.norm(vertices[quad[:, 1]] - vertices[quad[:, 3]], axis=1)
    use02 = d02 <= d13
    tri_a = np.where(use02[:, None], quad[:, [0, 1, 2]], quad[:, [0, 1, 3]])
    tri_b = np.where(use02[:, None], quad[:, [0, 2, 3]], quad[:, [1, 2, 3]])
    return vertices, np.concatenate([tri_a, tri_b]).astype(np.int64)


def sdf_gradient(sdf: SignedDistance, points: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central-difference gradient of ``sdf`` at ``points`` (N, 3)."""
    offsets = np.concatenate([np.eye(3), -np.eye(3)]) * step
    values = sdf((points[:, None, :] + offsets[None]).reshape(-1, 3)).reshape(-1, 6)
    return (values[:, :3] - values[:, 3:]) / (2 * step)


def project_to_surface(sdf: SignedDistance, points: np.ndarray, iterations: int = 4) -> np.ndarray:
    """Newton steps along the gradient onto the zero level set."""
    for _ in range(iterations):
        grad = sdf_gradient(sdf, points)
        value = sdf(points)
        points = points - (value / np.maximum((grad**2).sum(1), 1e-12))[:, None] * grad
    return points


def vertex_neighbours(faces: np.ndarray, num_vertices: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique undirected edges (E, 2) and each vertex's degree."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    degree = np.bincount(edges.ravel(), minlength=num_vertices).astype(np.float64)
    return edges, degree


def laplacian_average(values: np.ndarray, edges: np.ndarray, degree: np.ndarray) -> np.ndarray:
    """Mean of each vertex's neighbours (uniform weights); ``values`` (V, ...)."""
    total = np.zeros_like(values)
    np.add.at(total, edges[:, 0], values[edges[:, 1]])
    np.add.at(total, edges[:, 1], values[edges[:, 0]])
    return total / degree.reshape((-1,) + (1,) * (values.ndim - 1))


def relax_on_surface(
    sdf: SignedDistance,
    vertices: np.ndarray,
    faces: np.ndarray,
    iterations: int = 8,
    step: float = 0.5,
) -> np.ndarray:
    """Even out the vertex spacing by tangential Laplacian steps, staying on the surface."""
    edges, degree = vertex_neighbours(faces, len(vertices))
    for _ in range(iterations):
        grad = sdf_gradient(sdf, vertices)
        normal = grad / (np.linalg.norm(grad, axis=1, keepdims=True) + 1e-12)
        move = laplacian_average(vertices, edges, degree) - vertices
        move -= (move * normal).sum(1, keepdims=True) * normal
        vertices = vertices + step * move
        # one Newton step back onto the surface, reusing the nearby gradient
        value = sdf(vertices)
        vertices = vertices - (value / np.maximum((grad**2).sum(1), 1e-12))[:, None] * grad
    return project_to_surface(sdf, vertices, iterations=3)


def check_closed_mesh(faces: np.ndarray) -> None:
    """Raise ``ValueError`` unless every edge is used by exactly two faces, once each way."""
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    _, counts = np.unique(directed, axis=0, return_counts=True)
    if (counts != 1).any():
        raise ValueError(f"mesh: {(counts != 1).sum()} directed edges are used more than once")
    undirected = np.sort(directed, axis=1)
    _, counts = np.unique(undirected, axis=0, return_counts=True)
    if (counts != 2).any():
        raise ValueError(f"mesh: {(counts != 2).sum()} edges are not shared by exactly two faces")


def signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Volume enclosed by a closed mesh; positive when the faces wind outward."""
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (V, 3)."""
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    face_normal = np.cross(b - a, c - a)
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_normal)
    return normals / (np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12)


def check_manifold_vertices(faces: np.ndarray, num_vertices: int) -> None:
    """Raise ``ValueError`` unless the faces around every vertex form a single fan."""
    successor: list[dict[int, int]] = [{} for _ in range(num_vertices)]
    for a, b, c in faces.tolist():
        successor[a][b] = c
        successor[b][c] = a
        successor[c][a] = b
    bad = []
    for vertex, ring in enumerate(successor):
        if not ring:
            continue
        start = next(iter(ring))
        current, steps = ring[start], 1
        while current != start and current in ring and steps <= len(ring):
            current, steps = ring[current], steps + 1
        if steps != len(ring):
            bad.append(vertex)
    if bad:
        raise ValueError(f"mesh: {len(bad)} vertices are not manifold (first: {bad[:5]})")
