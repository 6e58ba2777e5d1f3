"""The mask algebra of HDRM: the paper's equations (2) and (3), and the composite.

Notation of the paper (Sec. 3.3), for a target hand ``t`` and the distractor ``d``
(the other hand), on one crop:

* ``M_D = M_ta (1 - M_tv)``: the part of the target hidden by the distractor, to be
  recovered (de-occlusion);
* ``M_R = (1 - M_ta) M_dv``: the part of the distractor outside the target, to be
  removed (inpainted with background);
* ``I_D = I (1 - M_D)``, ``I_R = I (1 - M_R)``, ``M_bv = (1 - M_ta)(1 - M_da)``;
* HDRNet input = ``concat(I_D, M_tv, I_R, M_bv)``: 8 channels.

The published reference code differs from the paper in two places (DESIGN.md §2):
its ``I_R`` and ``M_bv`` use the distractor's amodal mask (outside the target's
amodal mask this equals the visible one, so ``M_R`` changes only where the
distractor is itself hidden, by the target), and its partial-convolution mask is
``[M_tv x4, (1 - M_R) x4]``. We implement the paper's equations.

Partial-convolution mask (our choice): ``valid = 1 - (M_D ∪ M_R)`` for all eight
input channels. Both erased regions are then holes for every channel, so the
partial convolutions ignore them and the holes shrink level by level as in Liu et
al. With one mask per half (``1 - M_D`` for the first four channels, ``1 - M_R`` for
the last four) every pixel would be valid in some channel, the first layer's mask
update would already mark everything valid, and the hole information would be lost
after one layer. The reference's ``M_tv`` for the first half marks the background
as a hole too, which is not what the de-occlusion half erases.

Arrays are channel-first: images ``(..., 3, H, W)``, masks ``(..., 1, H, W)``,
float in [0, 1]; numpy arrays and torch tensors both work.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

# Indices of (target amodal, target visible, distractor amodal, distractor visible)
# in the MASK_NAMES order (right amodal, right visible, left amodal, left visible).
TARGET_DISTRACTOR_ORDER: dict[str, tuple[int, int, int, int]] = {
    "right": (0, 1, 2, 3),
    "left": (2, 3, 0, 1),
}


class HDRInputs(NamedTuple):
    """Everything equations (2) and (3) define for one target hand."""

    m_d: Any  # M_D, de-occlusion region
    m_r: Any  # M_R, removal region
    i_d: Any  # I_D, image with M_D erased
    i_r: Any  # I_R, image with M_R erased
    m_bv: Any  # M_bv, visible background
    network_input: Any  # concat(I_D, M_tv, I_R, M_bv), 8 channels
    valid: Any  # partial-convolution mask, 1 - (M_D ∪ M_R), 1 channel


def deocclusion_removal_masks(
    image: Any,
    m_ta: Any,
    m_tv: Any,
    m_da: Any,
    m_dv: Any,
    deocclusion: Any = True,
    removal: Any = True,
) -> HDRInputs:
    """Equations (2) and (3) of the paper, plus the network input and its hole mask.

    ``deocclusion=False`` sets ``M_D = 0`` (the hidden part is not recovered) and
    ``removal=False`` sets ``M_R = 0`` (the distractor is not erased): the two
    inference-time ablations of Table 5. Both may also be float tensors of shape
    ``(B, 1, 1, 1)`` (1 = on), which keeps them switchable inside an ONNX graph.
    """
    m_d = m_ta * (1 - m_tv) * _switch(deocclusion, m_ta)  # eq. (2)
    m_r = (1 - m_ta) * m_dv * _switch(removal, m_ta)  # eq. (2)
    i_d = image * (1 - m_d)  # eq. (3)
    i_r = image * (1 - m_r)  # eq. (3)
    m_bv = (1 - m_ta) * (1 - m_da)  # eq. (3)
    valid = (1 - m_d) * (1 - m_r)  # M_D and M_R are disjoint: 1 - (M_D ∪ M_R)
    parts = (i_d, m_tv, i_r, m_bv)
    if isinstance(image, torch.Tensor):
        network_input = torch.cat(parts, dim=-3)
    else:
        network_input = np.concatenate(parts, axis=-3)
    return HDRInputs(m_d, m_r, i_d, i_r, m_bv, network_input, valid)


def _switch(flag: Any, like: Any) -> Any:
    if isinstance(flag, bool | int | float):
        return float(flag)
    if isinstance(like, torch.Tensor):
        return flag.to(like.dtype)
    return np.asarray(flag, dtype=np.asarray(like).dtype)


def erased_region(m_d: torch.Tensor, m_r: torch.Tensor, dilation: int = 0) -> torch.Tensor:
    """``M_D ∪ M_R`` (``(B, 1, H, W)``), dilated by ``dilation`` pixels (square)."""
    erased = torch.maximum(m_d, m_r)
    if dilation > 0:
        erased = F.max_pool2d(erased, 2 * dilation + 1, stride=1, padding=dilation)
    return erased


def composite(image: torch.Tensor, output: torch.Tensor, erased: torch.Tensor) -> torch.Tensor:
    """The network output inside ``erased``, the input image, unchanged, elsewhere."""
    return torch.where(erased > 0.5, output, image)
