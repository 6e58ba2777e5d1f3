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


def resolve_ambiguous_faces(values: np.ndarray, max_rounds: int = 20) -> np.ndarray:
    """Flip grid samples so that no grid face has a checkerboard of signs.

    A face whose diagonal corners share a sign but differ from the other diagonal is a
    saddle below the grid resolution; surface nets would glue four quads to one edge
    there. Flipping the corner closest to zero (moving it just across the surface)
    decides the saddle and keeps the mesh manifold.
    """
    values = values.copy()
    for _ in range(max_rounds):
        found = False
        for axis in range(3):
            a1, a2 = (axis + 1) % 3, (axis + 2) % 3
            v = np.moveaxis(values, (axis, a1, a2), (0, 1, 2))  # a view into values
            inside = v < 0
            c00, c10 = inside[:, :-1, :-1], inside[:, 1:, :-1]
            c01, c11 = inside[:, :-1, 1:], inside[:, 1:, 1:]
            ambiguous = (c00 == c11) & (c01 == c10) & (c00 != c01)
            if not ambiguous.any():
                continue
            found = True
            for i, j, k in np.argwhere(ambiguous):
                corners = [(i, j, k), (i, j + 1, k), (i, j, k + 1), (i, j + 1, k + 1)]
                weakest = min(corners, key=lambda c: abs(v[c]))
                v[weakest] = 1e-12 if v[weakest] < 0 else -1e-12
        if not found:
            return values
    raise ValueError("resolve_ambiguous_faces: saddles remain; use a finer grid")


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
    values = resolve_ambiguous_faces(values)
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
