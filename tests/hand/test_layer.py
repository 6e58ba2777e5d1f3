"""The MANO-style forward pass: rotations, kinematics, skinning, joint order, gradients."""

import numpy as np
import pytest
import torch

from handhdr.hand import load_hand_model
from handhdr.hand.layer import HandLayer, batch_rodrigues, kinematic_levels
from handhdr.hand.model_data import HandModelData
from handhdr.joints import INTERHAND_NAMES, MANO_NAMES, MANO_PARENTS, WRIST

BONES = [(i, p) for i, p in enumerate(MANO_PARENTS) if p >= 0]


def _random_mano_like(rng: np.random.Generator, num_vertices: int = 778) -> HandModelData:
    """Arrays in official MANO's shapes (778 vertices, 10 betas, posedirs), random values."""
    v = rng.normal(scale=0.05, size=(num_vertices, 3))
    faces = rng.integers(0, num_vertices, size=(2 * num_vertices - 18, 3))
    regressor = rng.random((16, num_vertices)) * (rng.random((16, num_vertices)) < 0.1)
    regressor[:, 0] += 1e-3
    weights = rng.random((num_vertices, 16)) ** 4
    return HandModelData(
        name="mano",
        side="right",
        v_template=v.astype(np.float32),
        faces=faces,
        j_regressor=(regressor / regressor.sum(1, keepdims=True)).astype(np.float32),
        skinning_weights=(weights / weights.sum(1, keepdims=True)).astype(np.float32),
        shapedirs=rng.normal(scale=1e-3, size=(num_vertices, 3, 10)).astype(np.float32),
        posedirs=rng.normal(scale=1e-3, size=(num_vertices, 3, 135)).astype(np.float32),
        parents=np.array(MANO_PARENTS),
        tip_vertex_ids=np.array([744, 320, 443, 555, 672]) % num_vertices,
        hands_mean=rng.normal(scale=0.2, size=45).astype(np.float32),
    )


def _rotation_by_matrix_exp(rotvec: torch.Tensor) -> torch.Tensor:
    x, y, z = rotvec.unbind(-1)
    zero = torch.zeros_like(x)
    skew = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(*rotvec.shape, 3)
    return torch.linalg.matrix_exp(skew)


def test_rodrigues_matches_the_matrix_exponential_including_tiny_angles():
    rotvec = torch.randn(50, 3, dtype=torch.float64) * 1.5
    rotvec[:5] *= 1e-6
    rotvec[5] = 0.0
    expected = _rotation_by_matrix_exp(rotvec)
    assert torch.allclose(batch_rodrigues(rotvec), expected, atol=1e-12)


def test_rodrigues_gradient_at_zero_is_the_skew_generator():
    rotvec = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    jac = torch.autograd.functional.jacobian(batch_rodrigues, rotvec)  # (3, 3, 3)
    assert torch.isfinite(jac).all()
    # d R / d r_x at 0 is [e_x]x
    assert torch.allclose(
        jac[..., 0], torch.tensor([[0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]).double()
    )


def test_kinematic_levels_follow_the_tree():
    levels = kinematic_levels(np.array(MANO_PARENTS))
    assert [len(level) for level in levels] == [1, 5, 5, 5]
    with pytest.raises(ValueError):
        kinematic_levels(np.array([-1, 2, 0]))


@pytest.fixture(scope="module")
def right_layer():
    return HandLayer(load_hand_model("builtin", "right"))


def test_zero_input_is_the_mean_pose_and_flat_hand_mean_is_the_template():
    data = load_hand_model("builtin", "right")
    flat = HandLayer(data, flat_hand_mean=True)()
    assert torch.allclose(flat.vertices[0], torch.from_numpy(data.v_template), atol=1e-6)
    rest = torch.from_numpy(data.j_regressor @ data.v_template)
    assert torch.allclose(flat.kinematic_joints[0], rest, atol=1e-6)
    mean = HandLayer(data)()  # pose 0 = hands_mean: fingers bent
    assert (mean.vertices[0] - flat.vertices[0]).norm(dim=-1).max() > 0.01


def test_joints_are_interhand_order_with_tips_from_the_tip_vertices(right_layer):
    pose = torch.randn(3, 48) * 0.3
    out = right_layer(pose, torch.randn(3, 10), torch.randn(3, 3) * 0.1)
    assert out.joints.shape == (3, 21, 3)
    assert torch.equal(out.joints[:, WRIST], out.kinematic_joints[:, 0])
    tips = out.vertices[:, right_layer.tip_vertex_ids]
    for k, finger in enumerate(("thumb", "index", "middle", "ring", "pinky")):
        assert torch.equal(out.joints[:, INTERHAND_NAMES.index(f"{finger}_4")], tips[:, k])
    for m, name in enumerate(MANO_NAMES[:16]):
        assert torch.equal(out.joints[:, INTERHAND_NAMES.index(name)], out.kinematic_joints[:, m])


def test_bone_lengths_do_not_change_with_pose(right_layer):
    betas = torch.randn(1, 10).repeat(8, 1)
    pose = torch.randn(8, 48) * 0.8
    out = right_layer(pose, betas)
    joints = out.joints
    names = INTERHAND_NAMES
    pairs = [(names.index(MANO_NAMES[i]), names.index(MANO_NAMES[p])) for i, p in BONES]
    pairs += [(names.index(f"{f}_4"), names.index(f"{f}_3")) for f in ("thumb", "index", "ring")]
    lengths = torch.stack([(joints[:, a] - joints[:, b]).norm(dim=-1) for a, b in pairs], 1)
    assert (lengths.max(0).values - lengths.min(0).values).max() < 1e-5


def test_transl_moves_everything_and_orientation_turns_about_the_wrist(right_layer):
    pose = torch.randn(1, 48) * 0.3
    pose[0, :3] = 0.0
    base = right_layer(pose)
    shift = torch.tensor([[0.1, -0.2, 0.3]])
    moved = right_layer(pose, transl=shift)
    assert torch.allclose(moved.vertices, base.vertices + shift, atol=1e-6)
    assert torch.allclose(moved.joints, base.joints + shift, atol=1e-6)
    turned_pose = pose.clone()
    turned_pose[0, :3] = torch.tensor([0.0, 0.0, np.pi / 2])
    turned = right_layer(turned_pose)
    assert torch.allclose(turned.joints[0, WRIST], base.joints[0, WRIST], atol=1e-6)
    rot = batch_rodrigues(turned_pose[0, :3])
    wrist = base.joints[0, WRIST]
    expected = (base.joints[0] - wrist) @ rot.T + wrist  # base has zero orientation
    assert torch.allclose(turned.joints[0], expected, atol=1e-6)


def test_transforms_map_rest_points_to_posed_points(right_layer):
    pose = torch.randn(2, 48) * 0.5
    transl = torch.randn(2, 3)
    out = right_layer(pose, transl=transl)
    rest = right_layer.j_regressor @ right_layer.v_template
    homo = torch.cat([rest, torch.ones(16, 1)], 1)
    mapped = torch.einsum("bjkl,jl->bjk", out.transforms, homo)[..., :3]
    assert torch.allclose(mapped, out.kinematic_joints, atol=1e-6)


def test_batch_items_are_independent(right_layer):
    pose, betas = torch.randn(4, 48) * 0.4, torch.randn(4, 10)
    batched = right_layer(pose, betas)
    single = right_layer(pose[2:3], betas[2:3])
    assert torch.allclose(batched.vertices[2:3], single.vertices, atol=1e-6)


def test_fewer_betas_are_padded_with_zeros_and_bad_shapes_are_refused(right_layer):
    betas = torch.randn(2, 4)
    padded = torch.cat([betas, torch.zeros(2, 6)], 1)
    assert torch.allclose(right_layer(betas=betas).vertices, right_layer(betas=padded).vertices)
    with pytest.raises(ValueError, match="pose"):
        right_layer(torch.zeros(2, 45))
    with pytest.raises(ValueError, match="betas"):
        right_layer(torch.zeros(2, 48), torch.zeros(2, 11))
    with pytest.raises(ValueError, match="transl"):
        right_layer(torch.zeros(2, 48), transl=torch.zeros(3, 3))


def test_gradients_flow_to_pose_betas_and_transl(right_layer):
    pose = (torch.randn(2, 48) * 0.3).requires_grad_()
    betas = torch.randn(2, 10).requires_grad_()
    transl = torch.randn(2, 3).requires_grad_()
    out = right_layer(pose, betas, transl)
    (out.vertices.square().sum() + out.joints.square().sum()).backward()
    for tensor in (pose, betas, transl):
        assert tensor.grad is not None and torch.isfinite(tensor.grad).all()
        assert tensor.grad.abs().sum() > 0
    # every finger joint rotation moves something
    assert (pose.grad.reshape(2, 16, 3).abs().sum(-1) > 0).all()


def test_gradcheck_on_a_small_mano_like_model():
    data = _random_mano_like(np.random.default_rng(0), num_vertices=30)
    layer = HandLayer(data).double()
    pose = (torch.randn(1, 48, dtype=torch.float64) * 0.5).requires_grad_()
    betas = torch.randn(1, 10, dtype=torch.float64).requires_grad_()

    def joints(p, b):
        return layer(p, b).joints

    assert torch.autograd.gradcheck(joints, (pose, betas), eps=1e-6, atol=1e-5, fast_mode=True)


def test_official_mano_shaped_arrays_with_posedirs():
    rng = np.random.default_rng(1)
    data = _random_mano_like(rng)
    layer = HandLayer(data)
    pose = torch.randn(2, 48) * 0.3
    out = layer(pose, torch.randn(2, 10))
    assert out.vertices.shape == (2, 778, 3) and out.joints.shape == (2, 21, 3)
    # with zero pose and flat_hand_mean the pose correctives vanish: the template
    flat = HandLayer(data, flat_hand_mean=True)()
    assert torch.allclose(flat.vertices[0], torch.from_numpy(data.v_template), atol=1e-6)
    # posedirs are applied: removing them changes the posed mesh
    data.posedirs = np.zeros_like(data.posedirs)
    assert not torch.allclose(HandLayer(data)(pose).vertices, layer(pose).vertices)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU")
def test_gpu_matches_cpu(right_layer):
    pose, betas = torch.randn(2, 48) * 0.5, torch.randn(2, 10)
    cpu = right_layer(pose, betas).vertices
    gpu = HandLayer(load_hand_model()).cuda()(pose.cuda(), betas.cuda()).vertices.cpu()
    assert torch.allclose(cpu, gpu, atol=1e-5)
