"""The arrays that define a MANO-compatible hand model.

Both the built-in hand model and official MANO files are turned into
:class:`HandModelData`; one forward function (linear blend skinning) serves both.
Units are metres, as in MANO; the dataset layer converts to millimetres.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NUM_BODY_JOINTS = 16  # wrist + 15 finger joints, MANO order (handhdr.joints.MANO_NAMES)
NUM_POSE_PARAMS = 3 * NUM_BODY_JOINTS  # 48: global orientation + 15 joint rotations


@dataclass
class HandModelData:
    """Template, skinning and blend shapes of one hand (one side)."""

    name: str  # "builtin" or "mano"
    side: str  # "right" or "left"
    v_template: np.ndarray  # (V, 3) float32, metres
    faces: np.ndarray  # (F, 3) int64, counter-clockwise seen from outside
    j_regressor: np.ndarray  # (16, V) float32, rows sum to 1
    skinning_weights: np.ndarray  # (V, 16) float32, rows sum to 1
    shapedirs: np.ndarray  # (V, 3, S) float32, S shape coefficients (betas), MANO: 10
    posedirs: np.ndarray  # (V, 3, 135) float32 pose-corrective blend shapes (may be zero)
    parents: np.ndarray  # (16,) int64, -1 for the wrist
    tip_vertex_ids: np.ndarray  # (5,) int64: thumb, index, middle, ring, pinky fingertips
    hands_mean: np.ndarray  # (45,) float32 mean finger pose (MANO's flat-hand offset)
    # optional per-vertex texture weights (V, R) in [0, 1], one column per region name
    # (the built-in model: palmar, nail, crease, knuckle; see handhdr.hand.builtin)
    regions: np.ndarray | None = None
    region_names: tuple[str, ...] = field(default_factory=tuple)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field whose shape or content is wrong."""
        v = self.v_template.shape[0]
        expected = {
            "v_template": (v, 3),
            "j_regressor": (NUM_BODY_JOINTS, v),
            "skinning_weights": (v, NUM_BODY_JOINTS),
            "posedirs": (v, 3, 9 * (NUM_BODY_JOINTS - 1)),
            "parents": (NUM_BODY_JOINTS,),
            "tip_vertex_ids": (5,),
            "hands_mean": (3 * (NUM_BODY_JOINTS - 1),),
        }
        for field_name, shape in expected.items():
            actual = getattr(self, field_name).shape
            if actual != shape:
                raise ValueError(
                    f"{self.name} {self.side} hand: {field_name} has shape "
                    f"{actual}, expected {shape}"
                )
        if self.shapedirs.ndim != 3 or self.shapedirs.shape[:2] != (v, 3):
            raise ValueError(
                f"{self.name} {self.side} hand: shapedirs has shape "
                f"{self.shapedirs.shape}, expected ({v}, 3, S)"
            )
        if self.faces.ndim != 2 or self.faces.shape[1] != 3 or self.faces.max() >= v:
            raise ValueError(f"{self.name} {self.side} hand: faces must be (F, 3) indices < {v}")
        if self.regions is not None and self.regions.shape != (v, len(self.region_names)):
            raise ValueError(
                f"{self.name} {self.side} hand: regions has shape {self.regions.shape}, "
                f"expected ({v}, {len(self.region_names)}) for {self.region_names}"
            )
        if self.side not in ("right", "left"):
            raise ValueError(f"side must be 'right' or 'left', got {self.side!r}")
