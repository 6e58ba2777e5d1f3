"""Hand models with MANO's interface: the built-in hand, official MANO, pose tools.

* :func:`load_hand_model` -- :class:`HandModelData` for ``kind="builtin"`` (shipped,
  openly licensed) or ``kind="mano"`` (the user's official files, :mod:`.mano`);
* :class:`handhdr.hand.layer.HandLayer` -- the torch forward pass (shape, pose, linear
  blend skinning) for either; kept out of this namespace so importing the arrays does
  not import torch;
* :mod:`.pose` -- joint limits, gestures and the pose sampler;
* :mod:`.mirror` -- left hand from right hand;
* :mod:`.builtin` / :mod:`.anatomy` -- how the built-in hand is generated.
"""

from handhdr.hand.loader import load_hand_model
from handhdr.hand.mirror import mirror_hand_model, mirror_pose
from handhdr.hand.model_data import HandModelData
from handhdr.hand.pose import (
    GESTURES,
    JOINT_LIMITS,
    PoseSpace,
    sample_angles,
    sample_gesture_angles,
    sample_pose,
    sample_uniform_angles,
)

__all__ = [
    "GESTURES",
    "JOINT_LIMITS",
    "HandModelData",
    "PoseSpace",
    "load_hand_model",
    "mirror_hand_model",
    "mirror_pose",
    "sample_angles",
    "sample_gesture_angles",
    "sample_pose",
    "sample_uniform_angles",
]
