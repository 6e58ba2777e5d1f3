"""Mesh helpers: closedness and normals."""

from __future__ import annotations

import numpy as np

from handhdr.render.mesh import face_normals, is_closed, uv_sphere, vertex_normals


def test_sphere_is_closed_and_normals_point_outwards():
    v, f = uv_sphere(2.0, 10, 16)
    assert is_closed(f)
    n = vertex_normals(v, f)
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-5)
    assert ((n * v).sum(axis=1) / 2.0 > 0.95).all()
    # face normals are twice the area: they sum to the surface of the faceted sphere
    area = np.linalg.norm(face_normals(v, f), axis=0).sum() / 2.0
    assert 0.9 * 4 * np.pi * 4.0 < area < 4 * np.pi * 4.0


def test_open_or_inconsistent_meshes_are_not_closed():
    _, f = uv_sphere(1.0, 6, 8)
    assert not is_closed(f[1:])  # a hole
    flipped = f.copy()
    flipped[0] = flipped[0, ::-1]  # one face wound the wrong way
    assert not is_closed(flipped)
