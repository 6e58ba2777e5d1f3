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

    Written as ``I + sin(t)/t K + (1 - cos t)/t^2 K^2`` with ``K = [r]x`` and ``t`` held
    at 1e-6 or more, which stays accurate (and has the right gradient) at the zero rotation.
    """
    angle2 = (rotvec * rotvec).sum(-1, keepdim=True)
    angle = torch.sqrt(angle2.clamp_min(1e-12))  # no gradient through the clamp at 0
    sin_over = torch.sin(angle) / angle
    half = torch.sin(0.5 * angle) / angle
    cos_term = 2.0 * half * half  # (1 - cos t) / t^2 without cancellation
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
        self.num_vertices = num = int(data.v_template.shape[0])
        self.flat_hand_mean = flat_hand_mean

        def buffer(name: str, array: np.ndarray, dtype: torch.dtype = torch.float32) -> None:
            self.register_buffer(name, torch.as_tensor(np.ascontiguousarray(array), dtype=dtype))

        # Vertex arrays are kept coordinate-major ((3, V) rather than (V, 3)): the skinning
        # then runs on long contiguous rows, several times faster on a CPU.
        buffer("v_template", data.v_template)
        buffer("v_template_t", data.v_template.T.reshape(1, 3 * num))
        buffer("faces", data.faces, torch.int64)
        buffer("j_regressor", data.j_regressor)
        buffer("j_regressor_t", data.j_regressor.T)  # (V, 16)
        buffer("skinning_weights", data.skinning_weights)
        buffer("skinning_weights_t", data.skinning_weights.T)  # (16, V)
        # (S, 3 V): betas (B, S) @ it gives coordinate-major offsets
        buffer("shapedirs_t", data.shapedirs.transpose(2, 1, 0).reshape(self.num_betas, 3 * num))
        buffer("tip_vertex_ids", data.tip_vertex_ids, torch.int64)
        mean = np.zeros(NUM_POSE_PARAMS, dtype=np.float32)
        if not flat_hand_mean:
            mean[3:] = data.hands_mean
        buffer("pose_mean", mean)
        self.has_posedirs = bool(np.any(data.posedirs))
        # (135, 3 V) so that pose features (B, 135) @ it gives offsets; empty when zero
        posedirs = data.posedirs.transpose(2, 1, 0).reshape(-1, 3 * num)
        buffer("posedirs_t", posedirs if self.has_posedirs else np.zeros((0, 0), np.float32))
        parents = np.asarray(data.parents)
        levels = kinematic_levels(parents)
        if len(levels[0]) != 1:
            raise ValueError(f"{data.name} {data.side} hand: the tree must have one root")
        # per level below the root: its joints, their parents, and where each parent sits
        # in the previous level's list
        self.levels = []
        for above, level in zip(levels[:-1], levels[1:], strict=True):
            slot = {int(j): k for k, j in enumerate(above)}
            self.levels.append(
                (level.tolist(), parents[level].tolist(), [slot[int(p)] for p in parents[level]])
            )
        self.root = int(levels[0][0])
        self.level_order = np.argsort(np.concatenate(levels)).tolist()  # level-major -> joints
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
        num = self.num_vertices
        if pose is None:
            pose = torch.zeros(
                batch, NUM_POSE_PARAMS, dtype=self.v_template.dtype, device=self.v_template.device
            )
        if pose.shape != (batch, NUM_POSE_PARAMS):
            raise ValueError(f"pose must be ({batch}, {NUM_POSE_PARAMS}), got {tuple(pose.shape)}")
        dtype = pose.dtype

        v_shaped = self.v_template_t.to(dtype)  # (1 or B, 3 V), coordinate-major
        if betas is not None:
            if betas.ndim != 2 or betas.shape[0] != batch or betas.shape[1] > self.num_betas:
                raise ValueError(
                    f"betas must be ({batch}, <= {self.num_betas}), got {tuple(betas.shape)}"
                )
            dirs = self.shapedirs_t[: betas.shape[1]].to(dtype)
            v_shaped = v_shaped + betas @ dirs
        v_shaped = v_shaped.expand(batch, -1).reshape(batch, 3, num)
        rest_joints = (v_shaped @ self.j_regressor_t.to(dtype)).transpose(1, 2)  # (B, 16, 3)

        full_pose = (pose + self.pose_mean.to(dtype)).reshape(batch, NUM_BODY_JOINTS, 3)
        rotations = batch_rodrigues(full_pose)  # (B, 16, 3, 3)
        v_posed = v_shaped
        if self.has_posedirs:
            eye = torch.eye(3, dtype=dtype, device=pose.device)
            features = (rotations[:, 1:] - eye).reshape(batch, -1)
            v_posed = v_shaped + (features @ self.posedirs_t.to(dtype)).reshape(batch, 3, num)

        # forward kinematics, one tree level at a time
        rot_level = rotations[:, [self.root]]
        pos_level = rest_joints[:, [self.root]]
        rots, poss = [rot_level], [pos_level]
        for joints_k, parents_k, slots in self.levels:
            parent_rot = rot_level[:, slots]
            offset = rest_joints[:, joints_k] - rest_joints[:, parents_k]
            pos_level = pos_level[:, slots] + (parent_rot @ offset[..., None])[..., 0]
            rot_level = parent_rot @ rotations[:, joints_k]
            rots.append(rot_level)
            poss.append(pos_level)
        rot = torch.cat(rots, dim=1)[:, self.level_order]  # (B, 16, 3, 3)
        pos = torch.cat(poss, dim=1)[:, self.level_order]  # (B, 16, 3)
        if transl is not None:
            if transl.shape != (batch, 3):
                raise ValueError(f"transl must be ({batch}, 3), got {tuple(transl.shape)}")
            pos = pos + transl[:, None]
        # skinning transform of each joint: x -> rot x + shift (rest to posed, transl in)
        shift = pos - (rot @ rest_joints[..., None])[..., 0]
        affine = torch.cat([rot, shift[..., None]], dim=-1)  # (B, 16, 3, 4)
        # blend per vertex, coordinate-major: (B, 12, 16) @ (16, V) -> (B, 3, 4, V)
        blended = affine.reshape(batch, NUM_BODY_JOINTS, 12).transpose(1, 2)
        blended = (blended @ self.skinning_weights_t.to(dtype)).reshape(batch, 3, 4, num)
        x, y, z = v_posed[:, 0:1], v_posed[:, 1:2], v_posed[:, 2:3]  # (B, 1, V)
        posed = blended[:, :, 0] * x + blended[:, :, 1] * y + blended[:, :, 2] * z
        vertices = (posed + blended[:, :, 3]).transpose(1, 2)  # (B, V, 3)
        tips = vertices[:, self.tip_vertex_ids]
        joints = torch.cat([pos, tips], dim=1)[:, self.to_interhand]
        bottom = torch.zeros(batch, NUM_BODY_JOINTS, 1, 4, dtype=dtype, device=pose.device)
        bottom[..., 3] = 1.0
        transforms = torch.cat([affine, bottom], dim=2)
        return HandOutput(
            vertices=vertices, joints=joints, kinematic_joints=pos, transforms=transforms
        )
