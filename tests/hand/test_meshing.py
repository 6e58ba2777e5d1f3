"""Surface nets meshing, relaxation and the mesh checks."""

import numpy as np
import pytest

from handhdr.hand.meshing import (
    check_closed_mesh,
    check_manifold_vertices,
    relax_on_surface,
    resolve_ambiguous_cells,
    sample_grid,
    signed_volume,
    surface_nets,
    vertex_normals,
)


def _sphere(p):
    return np.linalg.norm(p, axis=1) - 0.3


def _mesh(sdf, spacing=0.05, lo=-0.5, hi=0.5):
    values, origin = sample_grid(sdf, np.full(3, lo), np.full(3, hi), spacing)
    return surface_nets(values, origin, spacing)


def test_sphere_is_closed_outward_and_accurate():
    v, f = _mesh(_sphere)
    check_closed_mesh(f)
    check_manifold_vertices(f, len(v))
    v = relax_on_surface(_sphere, v, f)
    assert np.abs(_sphere(v)).max() < 1e-9
    assert signed_volume(v, f) == pytest.approx(4 / 3 * np.pi * 0.3**3, rel=0.03)
    normals = vertex_normals(v, f)
    radial = v / np.linalg.norm(v, axis=1, keepdims=True)
    assert (np.einsum("ij,ij->i", normals, radial) > 0.9).all()


def test_two_spheres_touching_below_the_grid_resolution_stay_manifold():
    """Where two surfaces pass one grid cell, some samples must move for a manifold mesh."""
    centre = np.array([-0.14361, -0.08346, 0.10861])  # the contact sits diagonally in a cell

    def touching(p):
        a = np.linalg.norm(p - centre, axis=1) - 0.2
        b = np.linalg.norm(p + centre, axis=1) - 0.2
        return np.minimum(a, b)

    values, origin = sample_grid(touching, np.full(3, -0.5), np.full(3, 0.5), 0.05)
    assert (resolve_ambiguous_cells(values) != values).any()
    v, f = surface_nets(values, origin, 0.05)
    check_closed_mesh(f)
    check_manifold_vertices(f, len(v))


def test_resolving_a_checkerboard_face_moves_the_outside_corner_nearest_zero():
    values = np.ones((4, 4, 4))
    values[1, 1, 1] = values[1, 2, 2] = -1.0  # diagonal on the face x = 1
    values[1, 1, 2] = 0.5
    fixed = resolve_ambiguous_cells(values)
    assert (fixed != values).sum() == 1
    assert fixed[1, 1, 2] < 0


def test_grid_border_must_be_outside():
    values = -np.ones((3, 3, 3))
    with pytest.raises(ValueError, match="border"):
        surface_nets(values, np.zeros(3), 1.0)


def test_checks_catch_open_and_pinched_meshes():
    tetra = np.array([[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]])
    check_closed_mesh(tetra)
    with pytest.raises(ValueError, match="two faces"):
        check_closed_mesh(tetra[:3])
    with pytest.raises(ValueError, match="more than once"):
        check_closed_mesh(np.concatenate([tetra, tetra[:1]]))
    bowtie = np.concatenate([tetra, tetra + 3])  # two tetrahedra sharing vertex 3
    check_closed_mesh(bowtie)
    with pytest.raises(ValueError, match="not manifold"):
        check_manifold_vertices(bowtie, 7)


def test_signed_volume_flips_with_the_winding():
    tetra = np.array([[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]])
    v = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert signed_volume(v, tetra) == pytest.approx(1 / 6)
    assert signed_volume(v, tetra[:, ::-1]) == pytest.approx(-1 / 6)
