"""The built-in hand: the shipped asset, its mesh, rig and shape space."""

import numpy as np
import pytest

from handhdr.hand import anatomy, load_hand_model
from handhdr.hand.builtin import (
    REGION_NAMES,
    SHAPE_MODES,
    build_builtin_hand,
    builtin_asset_path,
    read_builtin_asset,
    save_builtin_asset,
    skeleton,
)
from handhdr.hand.meshing import check_closed_mesh, check_manifold_vertices, signed_volume

FINGERS = ("thumb", "index", "middle", "ring", "pinky")


@pytest.fixture(scope="module")
def hand():
    return load_hand_model("builtin", "right")


def test_shipped_asset_equals_what_the_code_generates():
    """Regenerating gives the same topology and arrays (1 micrometre / 1e-5 tolerance for
    floating-point differences between machines)."""
    shipped = read_builtin_asset(builtin_asset_path())
    fresh = build_builtin_hand()
    assert np.array_equal(shipped.faces, fresh.faces)
    assert np.array_equal(shipped.tip_vertex_ids, fresh.tip_vertex_ids)
    np.testing.assert_allclose(shipped.v_template, fresh.v_template, atol=1e-6)
    np.testing.assert_allclose(shipped.shapedirs, fresh.shapedirs, atol=1e-6)
    np.testing.assert_allclose(shipped.j_regressor, fresh.j_regressor, atol=1e-5)
    np.testing.assert_allclose(shipped.skinning_weights, fresh.skinning_weights, atol=1e-5)
    np.testing.assert_allclose(shipped.hands_mean, fresh.hands_mean, atol=1e-6)
    np.testing.assert_allclose(shipped.regions, fresh.regions, atol=1e-5)


def test_asset_round_trip_and_errors(tmp_path, hand):
    path = tmp_path / "hand.npz"
    save_builtin_asset(hand, path)
    again = read_builtin_asset(path)
    for name in ("v_template", "faces", "j_regressor", "skinning_weights", "shapedirs"):
        assert np.array_equal(getattr(again, name), getattr(hand, name)), name
    assert again.region_names == REGION_NAMES
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    broken = tmp_path / "broken.npz"
    np.savez(broken, **{k: v for k, v in arrays.items() if k != "shapedirs"})
    with pytest.raises(ValueError, match=r"broken\.npz.*shapedirs"):
        read_builtin_asset(broken)
    np.savez(broken, **{**arrays, "version": np.array(99)})
    with pytest.raises(ValueError, match="version 99"):
        read_builtin_asset(broken)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        read_builtin_asset(tmp_path / "junk.npz")


def test_mesh_is_closed_oriented_outwards_and_a_sphere(hand):
    v, f = hand.v_template.astype(np.float64), hand.faces
    assert 2000 <= len(v) <= 5000
    check_closed_mesh(f)
    check_manifold_vertices(f, len(v))
    assert signed_volume(v, f) > 0
    edges = np.unique(np.sort(np.concatenate([f[:, :2], f[:, 1:], f[:, ::2]]), axis=1), axis=0)
    assert len(v) - len(edges) + len(f) == 2  # genus 0, one piece
    assert len(np.unique(f)) == len(v)  # no loose vertices


def test_mano_rest_frame_conventions(hand):
    """Right hand: wrist at the origin, fingers along -x, back of the hand +y, thumb +z."""
    joints = hand.j_regressor @ hand.v_template
    tips = hand.v_template[hand.tip_vertex_ids]
    np.testing.assert_allclose(joints[0], 0.0, atol=1e-6)
    assert (tips[1:, 0] < -0.14).all()  # fingertips far along -x
    assert tips[0, 2] > 0.05 and tips[4, 2] < -0.03  # thumb +z, pinky -z
    # the palm pad is on -y: flexing the fingers moves the tips to -y (see test_pose)
    nails = hand.regions[:, REGION_NAMES.index("nail")] > 0.5
    assert hand.v_template[nails, 1].mean() > joints[1:, 1].mean()


def test_joint_regressor_reproduces_the_anatomical_joints(hand):
    joints, _, _ = skeleton()
    reg = hand.j_regressor
    assert (reg >= 0).all()
    np.testing.assert_allclose(reg.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(reg @ hand.v_template, joints, atol=2e-6)
    assert (anatomy.hand_sdf(joints) < -0.004).all()  # inside the skin, not on it


def test_skinning_weights_are_convex_and_local(hand):
    w = hand.skinning_weights
    assert (w >= 0).all()
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-5)
    # fingertips hang on the last bone of their digit only
    last_bone = {"thumb": 15, "index": 3, "middle": 6, "ring": 12, "pinky": 9}
    for k, name in enumerate(FINGERS):
        assert w[hand.tip_vertex_ids[k], last_bone[name]] > 0.999
    # no vertex is shared by two different fingers' middle phalanges
    middle_bones = [2, 5, 8, 11]
    assert ((w[:, middle_bones] > 0.05).sum(1) <= 1).all()


def test_tip_vertices_are_the_ends_of_the_digits(hand):
    _, tips, digits = skeleton()
    v = hand.v_template
    for k, name in enumerate(FINGERS):
        tip = v[hand.tip_vertex_ids[k]]
        assert np.linalg.norm(tip - tips[k]) < 0.003
        axis = tips[k] - digits[name].joints[2]
        axis /= np.linalg.norm(axis)
        near = np.linalg.norm(v - tip, axis=1) < 0.02
        assert (v[near] @ axis).max() == pytest.approx(tip @ axis)


def _rest(hand, betas):
    v = hand.v_template + hand.shapedirs @ np.asarray(betas, dtype=np.float32)
    joints = hand.j_regressor @ v
    return v, joints, v[hand.tip_vertex_ids]


def _unit_beta(k):
    betas = np.zeros(len(SHAPE_MODES), np.float32)
    betas[k] = 1.0
    return betas


def _measures(hand, betas):
    v, j, tips = _rest(hand, betas)
    return {
        "hand_length": np.linalg.norm(tips[2] - j[0]),
        "palm_length": np.linalg.norm(j[4] - j[0]),
        "middle_length": np.linalg.norm(tips[2] - j[4]),
        "index_length": np.linalg.norm(tips[1] - j[1]),
        "ring_length": np.linalg.norm(tips[3] - j[10]),
        "pinky_length": np.linalg.norm(tips[4] - j[7]),
        "thumb_length": np.linalg.norm(tips[0] - j[13]),
        "palm_width": abs(j[1, 2] - j[7, 2]),
        "volume": signed_volume(v.astype(np.float64), hand.faces),
    }


@pytest.mark.parametrize(
    ("mode", "grows", "by", "unchanged"),
    [
        ("size", "hand_length", 0.06, []),
        ("finger_length", "middle_length", 0.05, ["palm_length", "palm_width"]),
        ("palm_width", "palm_width", 0.05, ["middle_length", "palm_length"]),
        ("palm_length", "palm_length", 0.04, ["middle_length", "palm_width"]),
        ("thumb_length", "thumb_length", 0.05, ["middle_length", "palm_length"]),
        ("index_ring_ratio", "index_length", 0.03, ["middle_length", "palm_length"]),
        ("pinky_length", "pinky_length", 0.06, ["middle_length", "ring_length"]),
    ],
)
def test_shape_modes_change_what_they_document(hand, mode, grows, by, unchanged):
    k = [name for name, _ in SHAPE_MODES].index(mode)
    base, plus = _measures(hand, np.zeros(10)), _measures(hand, _unit_beta(k))
    assert plus[grows] / base[grows] == pytest.approx(1 + by, abs=0.006)
    for name in unchanged:
        assert plus[name] / base[name] == pytest.approx(1.0, abs=0.003), name


def test_index_ring_ratio_shortens_the_ring_finger(hand):
    k = [name for name, _ in SHAPE_MODES].index("index_ring_ratio")
    base, plus = _measures(hand, np.zeros(10)), _measures(hand, _unit_beta(k))
    assert plus["ring_length"] / base["ring_length"] == pytest.approx(0.97, abs=0.006)


def test_finger_thickness_and_fleshiness_keep_the_skeleton(hand):
    names = [name for name, _ in SHAPE_MODES]
    v0, j0, _ = _rest(hand, np.zeros(10))
    pip = j0[5]  # middle finger PIP
    ring = (np.linalg.norm(v0 - pip, axis=1) < 0.011) & (np.abs(v0[:, 0] - pip[0]) < 0.002)
    for mode, girth in (("finger_thickness", 1.08), ("fleshiness", None)):
        v1, j1, _ = _rest(hand, _unit_beta(names.index(mode)))
        np.testing.assert_allclose(j1, j0, atol=5e-4)
        radius0 = np.linalg.norm(v0[ring] - pip, axis=1).mean()
        radius1 = np.linalg.norm(v1[ring] - pip, axis=1).mean()
        if girth is not None:
            assert radius1 / radius0 == pytest.approx(girth, abs=0.01)
        else:  # inflated by 1.2 mm along the normals
            assert radius1 - radius0 == pytest.approx(0.0012, abs=0.0003)


def test_random_betas_give_plausible_hands(hand):
    rng = np.random.default_rng(0)
    base = _measures(hand, np.zeros(10))["hand_length"]
    lengths = [_measures(hand, rng.normal(size=10))["hand_length"] for _ in range(30)]
    assert 0.75 < min(lengths) / base and max(lengths) / base < 1.25
    assert np.std(lengths) / base > 0.03  # they do vary


def test_regions_are_weights_with_nails_on_every_digit(hand):
    regions = hand.regions
    assert regions.shape == (len(hand.v_template), len(REGION_NAMES))
    assert regions.min() >= 0 and regions.max() <= 1
    nail = regions[:, REGION_NAMES.index("nail")]
    last_bone = {"thumb": 15, "index": 3, "middle": 6, "ring": 12, "pinky": 9}
    for name, bone in last_bone.items():
        on_digit = hand.skinning_weights[:, bone] > 0.99
        assert nail[on_digit].max() > 0.8, name
    palmar = regions[:, REGION_NAMES.index("palmar")]
    v = hand.v_template
    palm = (np.abs(v[:, 2]) < 0.02) & (v[:, 0] < -0.02) & (v[:, 0] > -0.08)
    assert palmar[palm & (v[:, 1] < 0)].min() > 0.9  # palm pad
    assert palmar[palm & (v[:, 1] > 0)].max() < 0.1  # back of the hand
