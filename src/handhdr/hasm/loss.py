"""The HASM training loss, the paper's equation (1).

    L_HAS = L(M_ra, M_ra*) + L(M_rv, M_rv*) + L(M_la, M_la*) + L(M_lv, M_lv*)

one term per mask head. The paper writes each term as a binary cross-entropy; the
reference implementation trains each head as a 2-class softmax cross-entropy, which
is the same loss with a redundant logit, and so do we. (The paper's printed formula
repeats M_lv and omits M_rv: a typo; all four heads are trained.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def hasm_loss(
    logits: torch.Tensor, masks: torch.Tensor, known: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Equation (1): the sum over the four heads of the per-pixel mean cross-entropy.

    ``logits``: ``(B, 4, 2, h, w)``, resized bilinearly to the masks' size;
    ``masks``: ``(B, 4, H, W)`` bool/0-1 in MASK_NAMES order; ``known``: optional
    ``(B, 4)`` bool, False where a sample's mask is not annotated (e.g. the
    distractor's amodal mask in AIH_Render): such a head of such a sample adds nothing.
    Returns the total loss and the four per-head losses ``(4,)``.
    """
    if logits.ndim != 5 or logits.shape[1:3] != (masks.shape[1], 2):
        raise ValueError(
            f"logits must be (B, {masks.shape[1]}, 2, h, w), got {tuple(logits.shape)}"
        )
    b, k, c, h, w = logits.shape
    size = masks.shape[-2:]
    flat = logits.reshape(b, k * c, h, w)
    if (h, w) != tuple(size):
        flat = F.interpolate(flat, size=size, mode="bilinear", align_corners=False)
    flat = flat.reshape(b, k, c, *size).float()
    target = masks.long()
    if known is None:
        per_head = torch.stack([F.cross_entropy(flat[:, i], target[:, i]) for i in range(k)])
        return per_head.sum(), per_head
    weight = known.to(flat.dtype)
    per_sample = torch.stack(
        [
            F.cross_entropy(flat[:, i], target[:, i], reduction="none").mean((1, 2))
            for i in range(k)
        ],
        dim=1,
    )  # (B, 4)
    per_head = (per_sample * weight).sum(0) / weight.sum(0).clamp(min=1.0)
    return per_head.sum(), per_head
