"""The forward pass shared by the built-in hand and official MANO: shape, pose, skin.

``HandLayer(data)(pose, betas, transl)`` computes, like MANO:

1. ``v_shaped = v_template + shapedirs @ betas``; rest joints ``J = j_regressor @ v_shaped``;
2. rotations ``R_k = Rodrigues(full_pose_k)`` where ``full_pose = pose + [0, 0, 0, hands_mean]``
   (MANO's ``flat_hand_mean=False`` convention: ``pose = 0`` is the model's mean, relaxed
   hand; ``HandLayer(data, flat_hand_mean=True)`` makes ``pose = 0`` the flat template);
3. ``v_posed = v_shaped + posedirs @ (R_1..15 - I)`` (skipped when posedirs are all zero);
4. forward kinematics along ``parents`` (each ``R_k`` is relative to its parent, about
   joint ``k``; ``R_0``, the global orientation, turns the hand about the wrist joint);
5. linear blend skinning with ``skinning_weights``; finally ``+ transl``.

Joints come out as 21 per hand in the InterHand2.6M order (16 kinematic joints plus the
five fingertip vertices, converted with :func:`handhdr.joints.convert_joints`). Units are
the model's (metres). Batched, CPU or GPU (move the layer with ``.to(device)``), and
differentiable in pose, betas and transl.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from handhdr.hand.model_data import NUM_BODY_JOINTS, NUM_POSE_PARAMS, HandModelData
from handhdr.joints import conversion_index


def batch_rodrigues(rotvec: torch.Tensor) -> torch.Tensor:
    """Axis-angle vectors ``(..., 3)`` -> rotation matrices ``(..., 3, 3)``.

    Written as ``I + sin(t)/t K + (1 - cos t)/t^2 K^2`` with ``K = [r]x``, which stays
    smooth (and has the right gradient) at the zero rotation.
    """
    angle2 = (rotvec * rotvec).sum(-1, keepdim=True)
    angle = torch.sqrt(angle2.clamp_min(1e-12))
    small = angle2 < 1e-8
    sin_over = torch.where(small, 1.0 - angle2 / 6.0, torch.sin(angle) / angle)
    half = torch.sin(0.5 * angle) / angle
    cos_term = torch.where(small, 0.5 - angle2 / 24.0, 2.0 * half * half)
    x, y, z = rotvec.unbind(-1)
    zero = torch.zeros_like(x)
    skew = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1)
    skew = skew.reshape(rotvec.shape[:-1] + (3, 3))
    eye = torch.eye(3, dtype=rotvec.dtype, device=rotvec.device)
    return eye + sin_over[..., None] * skew + cos_term[..., None] * (skew @ skew)


def kinematic_levels(parents: np.ndarray) -> list[np.ndarray]:
    """Joints grouped by depth in the tree (level 0 is the root), for batched kinematics."""
    depth = np.zeros(len(parents), dtype=np.int64)
    for joint, parent in enumerate(parents):
        if parent >= joint and parent != -1:
            raise ValueError("parents must list every joint after its parent")
        depth[joint] = 0 if parent < 0 else depth[parent] + 1
    return [np.flatnonzero(depth == level) for level in range(depth.max() + 1)]


@dataclass
class HandOutput:
    """Posed hands: ``vertices`` (B, V, 3); ``joints`` (B, 21, 3) in the InterHand2.6M
    order; ``kinematic_joints`` (B, 16, 3) in MANO order; ``transforms`` (B, 16, 4, 4)
    world transform of each joint (rest frame to posed frame, ``transl`` included)."""

    vertices: torch.Tensor
    joints: torch.Tensor
    kinematic_joints: torch.Tensor
    transforms: torch.Tensor


class HandLayer(nn.Module):
    """Differentiable, batched MANO-style forward pass for one :class:`HandModelData`."""

    def __init__(self, data: HandModelData, flat_hand_mean: bool = False) -> None:
        super().__init__()
        data.validate()
        self.name = data.name
        self.side = data.side
        self.num_betas = int(data.shapedirs.shape[2])
        self.num_vertices = int(data.v_template.shape[0])
        self.flat_hand_mean = flat_hand_mean

        def buffer(name: str, array: np.ndarray, dtype: torch.dtype = torch.float32) -> None:
            self.register_buffer(name, torch.as_tensor(np.ascontiguousarray(array), dtype=dtype))

        buffer("v_template", data.v_template)
        buffer("faces", data.faces, torch.int64)
        buffer("j_regressor", data.j_regressor)
        buffer("skinning_weights", data.skinning_weights)
        buffer("shapedirs", data.shapedirs)
        buffer("tip_vertex_ids", data.tip_vertex_ids, torch.int64)
        mean = np.zeros(NUM_POSE_PARAMS, dtype=np.float32)
        if not flat_hand_mean:
            mean[3:] = data.hands_mean
        buffer("pose_mean", mean)
        self.has_posedirs = bool(np.any(data.posedirs))
        # (135, V * 3) so that pose features (B, 135) @ it gives offsets; empty when zero
        posedirs = data.posedirs.reshape(-1, data.posedirs.shape[2]).T
        buffer("posedirs", posedirs if self.has_posedirs else np.zeros((0, 0), np.float32))
        self.levels = [level.tolist() for level in kinematic_levels(np.asarray(data.parents))]
        self.parents = [int(p) for p in data.parents]
        # MANO joints + fingertips (handhdr.joints "mano" order) -> InterHand2.6M order
        self.to_interhand = conversion_index("mano", "interhand").tolist()

    def forward(
        self,
        pose: torch.Tensor | None = None,
        betas: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
    ) -> HandOutput:
        """Pose ``(B, 48)`` axis-angle (global orientation, then 15 joints in MANO order,
        relative to ``hands_mean`` unless ``flat_hand_mean``); ``betas`` ``(B, S')`` with
        ``S' <= S`` (missing coefficients are zero); ``transl`` ``(B, 3)``. Any may be
        None (zeros); the batch size comes from the first one given."""
        given = [t for t in (pose, betas, transl) if t is not None]
        batch = given[0].shape[0] if given else 1
        dtype, device = self.v_template.dtype, self.v_template.device
        if pose is None:
            pose = torch.zeros(batch, NUM_POSE_PARAMS, dtype=dtype, device=device)
        if pose.shape != (batch, NUM_POSE_PARAMS):
            raise ValueError(f"pose must be ({batch}, {NUM_POSE_PARAMS}), got {tuple(pose.shape)}")
        dtype = pose.dtype

        v_shaped = self.v_template.to(dtype).expand(batch, -1, -1)
        if betas is not None:
            if betas.ndim != 2 or betas.shape[0] != batch or betas.shape[1] > self.num_betas:
                raise ValueError(
                    f"betas must be ({batch}, <= {self.num_betas}), got {tuple(betas.shape)}"
                )
            dirs = self.shapedirs[..., : betas.shape[1]].to(dtype)
            v_shaped = v_shaped + torch.einsum("vcs,bs->bvc", dirs, betas)
        rest_joints = torch.einsum("jv,bvc->bjc", self.j_regressor.to(dtype), v_shaped)

        full_pose = (pose + self.pose_mean.to(dtype)).reshape(batch, NUM_BODY_JOINTS, 3)
        rotations = batch_rodrigues(full_pose)  # (B, 16, 3, 3)
        v_posed = v_shaped
        if self.has_posedirs:
            eye = torch.eye(3, dtype=dtype, device=pose.device)
            features = (rotations[:, 1:] - eye).reshape(batch, -1)
            offsets = (features @ self.posedirs.to(dtype)).reshape(batch, -1, 3)
            v_posed = v_shaped + offsets

        # forward kinematics, one tree level at a time
        world_rot = [None] * NUM_BODY_JOINTS
        world_pos = [None] * NUM_BODY_JOINTS
        for level in self.levels:
            idx = level
            if self.parents[idx[0]] < 0:
                for j in idx:
                    world_rot[j] = rotations[:, j]
                    world_pos[j] = rest_joints[:, j]
                continue
            par = [self.parents[j] for j in idx]
            parent_rot = torch.stack([world_rot[p] for p in par], dim=1)
            parent_pos = torch.stack([world_pos[p] for p in par], dim=1)
            offset = rest_joints[:, idx] - rest_joints[:, par]
            rot = parent_rot @ rotations[:, idx]
            pos = parent_pos + (parent_rot @ offset[..., None])[..., 0]
            for k, j in enumerate(idx):
                world_rot[j] = rot[:, k]
                world_pos[j] = pos[:, k]
        rot = torch.stack(world_rot, dim=1)  # (B, 16, 3, 3)
        pos = torch.stack(world_pos, dim=1)  # (B, 16, 3)
        # skinning transform of each joint: x -> rot (x - rest_joint) + pos
        shift = pos - (rot @ rest_joints[..., None])[..., 0]
        blend = torch.cat([rot.reshape(batch, NUM_BODY_JOINTS, 9), shift], dim=-1)  # (B,16,12)
        per_vertex = torch.einsum("vj,bjk->bvk", self.skinning_weights.to(dtype), blend)
        vertices = (per_vertex[..., :9].reshape(batch, -1, 3, 3) @ v_posed[..., None])[..., 0]
        vertices = vertices + per_vertex[..., 9:]
        if transl is not None:
            if transl.shape != (batch, 3):
                raise ValueError(f"transl must be ({batch}, 3), got {tuple(transl.shape)}")
            vertices = vertices + transl[:, None]
            pos = pos + transl[:, None]
        tips = vertices[:, self.tip_vertex_ids]
        joints = torch.cat([pos, tips], dim=1)[:, self.to_interhand]
        transforms = torch.zeros(batch, NUM_BODY_JOINTS, 4, 4, dtype=dtype, device=pose.device)
        transforms[..., :3, :3] = rot
        transforms[..., :3, 3] = shift + (transl[:, None] if transl is not None else 0.0)
        transforms[..., 3, 3] = 1.0
        return HandOutput(
            vertices=vertices, joints=joints, kinematic_joints=pos, transforms=transforms
        )
