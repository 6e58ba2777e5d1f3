"""Hands for scene building: the two hand models, articulation, palm frames, rigid moves.

A hand is articulated once (finger pose and shape, no global rotation, no
translation) with the torch :class:`~handhdr.hand.layer.HandLayer`; every later
placement is a rigid motion done in numpy. MANO-style models rotate the whole hand
about the shaped rest wrist ``J0``, so a hand with global rotation ``R`` and
translation ``t`` is ``R (x - J0) + J0 + t``, and a rigid motion ``X -> A X + b``
of a posed hand changes its parameters to ``R' = A R``, ``t' = A (J0 + t) + b - J0``
(:func:`move_params`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handhdr.joints import WRIST

COLLISION_VERTICES = 600  # vertices per hand used by the interpenetration test


def rotvec_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    """Axis-angle ``(3,)`` -> rotation matrix (Rodrigues)."""
    rotvec = np.asarray(rotvec, np.float64)
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return np.eye(3)
    k = rotvec / angle
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * kx + (1 - math.cos(angle)) * kx @ kx


def matrix_to_rotvec(matrix: np.ndarray) -> np.ndarray:
    """Rotation matrix -> axis-angle ``(3,)``, stable near 0 and pi."""
    m = np.asarray(matrix, np.float64)
    cos = np.clip((np.trace(m) - 1.0) / 2.0, -1.0, 1.0)
    angle = math.acos(cos)
    if angle < 1e-7:
        return np.array([m[2, 1] - m[1, 2], m[0, 2] - m[2, 0], m[1, 0] - m[0, 1]]) / 2.0
    if angle > math.pi - 1e-4:  # axis from the symmetric part
        sym = (m + np.eye(3)) / 2.0
        axis = sym[int(np.argmax(np.diag(sym)))]
        axis = axis / np.linalg.norm(axis)
        if np.dot(axis, [m[2, 1] - m[1, 2], m[0, 2] - m[2, 0], m[1, 0] - m[0, 1]]) < 0:
            axis = -axis
        return axis * angle
    axis = np.array([m[2, 1] - m[1, 2], m[0, 2] - m[2, 0], m[1, 0] - m[0, 1]])
    return axis / (2.0 * math.sin(angle)) * angle


def palm_frame(joints: np.ndarray, side: str) -> np.ndarray:
    """``(3, 3)`` columns: finger direction (wrist -> middle MCP), thumb side, palm normal
    (out of the palm). Depends only on the global orientation, not on the fingers."""
    j = np.asarray(joints, np.float64)
    forward = j[11] - j[WRIST]
    forward /= np.linalg.norm(forward)
    thumb = j[7] - j[19]  # pinky MCP -> index MCP
    thumb -= (thumb @ forward) * forward
    thumb /= np.linalg.norm(thumb)
    normal = np.cross(thumb, forward) if side == "right" else np.cross(forward, thumb)
    return np.stack([forward, thumb, normal], axis=1)


def frame_from(forward: np.ndarray, normal: np.ndarray, side: str) -> np.ndarray:
    """A palm frame (as :func:`palm_frame`) with the given finger direction and palm
    normal (the normal is made perpendicular to the finger direction)."""
    f = np.asarray(forward, np.float64)
    f = f / np.linalg.norm(f)
    n = np.asarray(normal, np.float64) - (np.asarray(normal, np.float64) @ f) * f
    if np.linalg.norm(n) < 1e-9:
        raise ValueError("palm normal parallel to the finger direction")
    n /= np.linalg.norm(n)
    t = np.cross(f, n) if side == "right" else np.cross(n, f)
    return np.stack([f, t, n], axis=1)


@dataclass
class PosedHand:
    """One articulated hand placed rigidly: parameters and geometry (metres)."""

    side: str
    finger_pose: np.ndarray  # (45,) layer pose of the 15 finger joints
    betas: np.ndarray  # (S,)
    rest_wrist: np.ndarray  # (3,) J0: the shaped rest wrist, the global rotation's pivot
    rotation: np.ndarray  # (3, 3) global orientation
    transl: np.ndarray  # (3,)
    vertices: np.ndarray  # (V, 3) posed
    joints: np.ndarray  # (21, 3) InterHand order
    gesture: str = "random"

    def moved(self, rotation: np.ndarray, shift: np.ndarray) -> PosedHand:
        """The hand after the rigid motion ``X -> rotation X + shift``."""
        rot, transl = move_params(self.rotation, self.transl, self.rest_wrist, rotation, shift)
        return PosedHand(
            side=self.side,
            finger_pose=self.finger_pose,
            betas=self.betas,
            rest_wrist=self.rest_wrist,
            rotation=rot,
            transl=transl,
            vertices=self.vertices @ rotation.T + shift,
            joints=self.joints @ rotation.T + shift,
            gesture=self.gesture,
        )

    def shifted(self, shift: np.ndarray) -> PosedHand:
        """The hand translated by ``shift``."""
        return self.moved(np.eye(3), np.asarray(shift, np.float64))

    @property
    def pose(self) -> np.ndarray:
        """The layer pose ``(48,)``: global orientation then the fingers."""
        return np.concatenate([matrix_to_rotvec(self.rotation), self.finger_pose])

    def frame(self) -> np.ndarray:
        """Its palm frame (:func:`palm_frame`)."""
        return palm_frame(self.joints, self.side)


def move_params(
    rotation: np.ndarray, transl: np.ndarray, rest_wrist: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Global rotation and translation after the rigid motion ``X -> a X + b``."""
    a = np.asarray(a, np.float64)
    new_rotation = a @ rotation
    new_transl = a @ (rest_wrist + transl) + b - rest_wrist
    return new_rotation, new_transl


def model_path(model: str, side: str) -> Path | None:
    """The file of ``side`` for a model spec: ``builtin`` (None) or ``mano:DIR`` (the
    official ``MANO_RIGHT``/``MANO_LEFT`` ``.npz`` or ``.pkl`` in DIR)."""
    if model == "builtin":
        return None
    if not model.startswith("mano:"):
        raise ValueError(f"hand model must be 'builtin' or 'mano:DIR', got {model!r}")
    folder = Path(model[len("mano:") :])
    for suffix in (".npz", ".pkl"):
        path = folder / f"MANO_{side.upper()}{suffix}"
        if path.is_file():
            return path
    raise FileNotFoundError(f"{folder}: no MANO_{side.upper()}.npz or .pkl for the {side} hand")


class HandKit:
    """The right and left hand models of one kind, ready to articulate."""

    def __init__(self, model: str = "builtin") -> None:
        import torch

        from handhdr.hand.layer import HandLayer
        from handhdr.hand.loader import load_hand_model
        from handhdr.hand.pose import PoseSpace

        self.kind = "mano" if model.startswith("mano:") else model
        self.data = {
            side: load_hand_model(kind=self.kind, side=side, path=model_path(model, side))
            for side in ("right", "left")
        }
        self.layers = {side: HandLayer(d).eval() for side, d in self.data.items()}
        self.spaces = {side: PoseSpace.from_model(d) for side, d in self.data.items()}
        self.num_betas = int(self.data["right"].shapedirs.shape[2])
        num_vertices = len(self.data["right"].v_template)
        step = max(1, num_vertices // COLLISION_VERTICES)
        self.collision_ids = np.arange(0, num_vertices, step)
        self._torch = torch

    def faces(self, side: str) -> np.ndarray:
        """Triangles of ``side``'s mesh."""
        return self.data[side].faces

    def articulate(
        self, side: str, angles: np.ndarray, betas: np.ndarray, gesture: str = "random"
    ) -> PosedHand:
        """The hand with joint ``angles`` (15, 3) and shape ``betas``, unrotated, at rest
        position (wrist at the shaped rest wrist)."""
        torch = self._torch
        finger_pose = self.spaces[side].to_pose(np.asarray(angles, np.float64))[3:]
        pose = np.concatenate([np.zeros(3), finger_pose])[None]
        with torch.no_grad():
            out = self.layers[side](
                torch.as_tensor(pose, dtype=torch.float32),
                torch.as_tensor(np.asarray(betas, np.float64)[None], dtype=torch.float32),
            )
        vertices = out.vertices[0].numpy().astype(np.float64)
        joints = out.joints[0].numpy().astype(np.float64)
        return PosedHand(
            side=side,
            finger_pose=finger_pose,
            betas=np.asarray(betas, np.float64),
            rest_wrist=joints[WRIST].copy(),
            rotation=np.eye(3),
            transl=np.zeros(3),
            vertices=vertices,
            joints=joints,
            gesture=gesture,
        )
