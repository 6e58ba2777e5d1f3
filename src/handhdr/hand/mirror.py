"""Left hand from right hand (and back): the mirror image through the x = 0 plane.

Mirroring ``M = diag(-1, 1, 1)`` maps a rest vertex ``v`` to ``M v`` and a rotation ``R``
to ``M R M``; for an axis-angle vector ``r = (rx, ry, rz)`` that is ``(rx, -ry, -rz)``.
So a left model made by :func:`mirror_hand_model`, posed with :func:`mirror_pose` of a
right pose, gives exactly the mirror image of the posed right hand (vertices and
joints, ``transl`` mirrored too). This is the InterHand2.6M / MANO convention for
flipping hand poses between sides.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

from handhdr.hand.model_data import HandModelData

ArrayT = TypeVar("ArrayT")

_MIRROR = np.array([-1.0, 1.0, 1.0])
# sign of entry (i, j) of M R M - I relative to R - I: m_i * m_j
_POSE_FEATURE_SIGN = np.tile(np.outer(_MIRROR, _MIRROR).ravel(), 15)


def mirror_pose(pose: ArrayT) -> ArrayT:
    """Mirror axis-angle poses ``(..., 3k)`` (numpy or torch): negate y and z of each."""
    sign = np.tile(np.array([1.0, -1.0, -1.0]), pose.shape[-1] // 3)  # type: ignore[attr-defined]
    if isinstance(pose, np.ndarray):
        return pose * sign.astype(pose.dtype)
    return pose * pose.new_tensor(sign)  # type: ignore[attr-defined]


def mirror_hand_model(data: HandModelData) -> HandModelData:
    """The other side's model: mirrored template, shape and pose correctives, hands_mean;
    faces re-wound so they still face outwards; regressor, weights and tips unchanged."""
    posedirs = data.posedirs * _MIRROR[None, :, None] * _POSE_FEATURE_SIGN[None, None, :]
    return HandModelData(
        name=data.name,
        side="left" if data.side == "right" else "right",
        v_template=(data.v_template * _MIRROR).astype(np.float32),
        faces=data.faces[:, ::-1].copy(),
        j_regressor=data.j_regressor.copy(),
        skinning_weights=data.skinning_weights.copy(),
        shapedirs=(data.shapedirs * _MIRROR[None, :, None]).astype(np.float32),
        posedirs=posedirs.astype(np.float32),
        parents=data.parents.copy(),
        tip_vertex_ids=data.tip_vertex_ids.copy(),
        hands_mean=mirror_pose(data.hands_mean).astype(np.float32),
        regions=None if data.regions is None else data.regions.copy(),
        region_names=data.region_names,
    )
