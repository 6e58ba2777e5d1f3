"""Small mesh helpers the renderer needs: normals, closedness, simple test shapes."""

from __future__ import annotations

import functools

import numpy as np


def face_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted face normals ``(3, F)`` (length = twice the face area), float32."""
    v = np.asarray(vertices, dtype=np.float32).T  # (3, V)
    f = np.asarray(faces)
    p0, p1, p2 = v[:, f[:, 0]], v[:, f[:, 1]], v[:, f[:, 2]]
    a, b = p1 - p0, p2 - p0
    return np.stack(
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    )


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unit vertex normals ``(V, 3)`` float32: area-weighted mean of the adjacent faces."""
    fn = face_normals(vertices, faces)
    num_v = len(vertices)
    corners = np.asarray(faces).T.reshape(-1)  # corner-major: all first corners, ...
    out = np.empty((num_v, 3), dtype=np.float32)
    for axis in range(3):
        out[:, axis] = np.bincount(corners, weights=np.tile(fn[axis], 3), minlength=num_v)
    norm = np.sqrt(out[:, 0] ** 2 + out[:, 1] ** 2 + out[:, 2] ** 2)
    return out / np.maximum(norm, 1e-12)[:, None]


@functools.lru_cache(maxsize=16)
def _closed(face_bytes: bytes, num_faces: int) -> bool:
    faces = np.frombuffer(face_bytes, dtype=np.int64).reshape(num_faces, 3)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    directed = edges[:, 0] * (int(faces.max()) + 1) + edges[:, 1]
    reverse = edges[:, 1] * (int(faces.max()) + 1) + edges[:, 0]
    # closed and consistently oriented: every directed edge appears once, its reverse once
    uniq = np.unique(directed)
    return uniq.size == directed.size and bool(np.isin(reverse, uniq).all())


def is_closed(faces: np.ndarray) -> bool:
    """Whether the mesh is closed and consistently oriented (every edge is shared by
    exactly two faces in opposite directions): then back faces can be culled."""
    faces = np.ascontiguousarray(faces, dtype=np.int64)
    return _closed(faces.tobytes(), len(faces))


def uv_sphere(
    radius: float = 1.0, rings: int = 16, segments: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """A closed sphere (vertices ``(V, 3)`` float64, faces ``(F, 3)``, counter-clockwise
    seen from outside) centred at the origin."""
    theta = np.linspace(0.0, np.pi, rings + 1)[1:-1]
    phi = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    ring = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], axis=-1)
    verts = np.concatenate([[[0.0, 0.0, 1.0]], ring.reshape(-1, 3), [[0.0, 0.0, -1.0]]])
    north, south = 0, len(verts) - 1
    faces = []
    j = np.arange(segments)
    jn = (j + 1) % segments
    faces.append(np.stack([np.full(segments, north), 1 + j, 1 + jn], axis=1))
    for r in range(rings - 2):
        a = 1 + r * segments + j
        b = 1 + r * segments + jn
        faces.append(np.stack([a, a + segments, b], axis=1))
        faces.append(np.stack([b, a + segments, b + segments], axis=1))
    last = 1 + (rings - 2) * segments
    faces.append(np.stack([last + j, np.full(segments, south), last + jn], axis=1))
    return verts * radius, np.concatenate(faces).astype(np.int64)
