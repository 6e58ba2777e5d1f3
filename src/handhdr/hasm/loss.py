"""The HASM training loss, the paper's equation (1).

    L_HAS = L(M_ra, M_ra*) + L(M_rv, M_rv*) + L(M_la, M_la*) + L(M_lv, M_lv*)

one term per mask head. The paper writes each term as a binary cross-entropy; the
reference implementation trains each head as a 2-class softmax cross-entropy, which
is the same loss with a redundant logit, and so do we. (The paper's printed formula
repeats M_lv and omits M_rv: a typo; all four heads are trained.)

``side_invariant`` (ours, off by default) scores each sample under the better of the
two side assignments (as annotated, or right and left exchanged), the permutation-
invariant training of source separation: the network is asked to separate the two
hands but not to tell which is which. It isolates instance separation from chirality
(docs/training.md); a network trained this way needs the side from elsewhere.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from handhdr.hasm.augment import SWAP_HANDS
from handhdr.hasm.chirality import BINARY_CUES


def hasm_loss(
    logits: torch.Tensor,
    masks: torch.Tensor,
    known: torch.Tensor | None = None,
    side_invariant: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Equation (1): the sum over the four heads of the per-pixel mean cross-entropy.

    ``logits``: ``(B, 4, 2, h, w)``, resized bilinearly to the masks' size;
    ``masks``: ``(B, 4, H, W)`` bool/0-1 in MASK_NAMES order; ``known``: optional
    ``(B, 4)`` bool, False where a sample's mask is not annotated (e.g. the
    distractor's amodal mask in AIH_Render): such a head of such a sample adds nothing.
    ``side_invariant``: each sample against the better of its two side assignments
    (module doc). Returns the total loss and the four per-head losses ``(4,)``.
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
    if known is None and not side_invariant:
        per_head = torch.stack([F.cross_entropy(flat[:, i], target[:, i]) for i in range(k)])
        return per_head.sum(), per_head
    weight = torch.ones(b, k, dtype=flat.dtype, device=flat.device)
    if known is not None:
        weight = known.to(flat.dtype)

    def per_sample(t: torch.Tensor) -> torch.Tensor:  # (B, 4) mean cross-entropy
        return torch.stack(
            [F.cross_entropy(flat[:, i], t[:, i], reduction="none").mean((1, 2)) for i in range(k)],
            dim=1,
        )

    losses = per_sample(target)
    if side_invariant:
        swap = list(SWAP_HANDS)
        swapped, swapped_weight = per_sample(target[:, swap]), weight[:, swap]
        use_swap = (swapped * swapped_weight).sum(1) < (losses * weight).sum(1)
        losses = torch.where(use_swap[:, None], swapped, losses)
        weight = torch.where(use_swap[:, None], swapped_weight, weight)
    per_head = (losses * weight).sum(0) / weight.sum(0).clamp(min=1.0)
    return per_head.sum(), per_head


def cue_loss(
    cue_out: torch.Tensor, visible: torch.Tensor, cues: torch.Tensor, known: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Training-only chirality-cue loss (ours, not the paper's; :mod:`handhdr.hasm.chirality`).

    Each pixel of a hand's visible mask is labelled with that hand's cues: the binary
    cues (facing, orientation) by binary cross-entropy on logits, the four direction
    components by squared error; each averaged over all labelled pixels of the batch.
    ``cue_out``: ``(B, 6, h, w)`` (CUE_NAMES order), resized bilinearly to the masks'
    size; ``visible``: ``(B, 2, H, W)`` (right, left visible); ``cues``: ``(B, 2, 6)``
    hand x cue; ``known``: ``(B, 2)`` bool. Returns the total and the per-cue losses
    ``(6,)``; zero when nothing is labelled.
    """
    size = visible.shape[-2:]
    if cue_out.shape[-2:] != size:
        cue_out = F.interpolate(cue_out, size=size, mode="bilinear", align_corners=False)
    cue_out = cue_out.float()
    region = visible.bool() & known.bool()[:, :, None, None]  # (B, hand, H, W)
    # per pixel, the cues of the hand it belongs to (visible masks do not overlap)
    target = (region[:, :, None].float() * cues[:, :, :, None, None].float()).sum(1)
    labelled = region.any(1).float()  # (B, H, W)
    nb = len(BINARY_CUES)
    per_pixel = torch.cat(
        [
            F.binary_cross_entropy_with_logits(cue_out[:, :nb], target[:, :nb], reduction="none"),
            (cue_out[:, nb:] - target[:, nb:]) ** 2,
        ],
        dim=1,
    )
    per_cue = (per_pixel * labelled[:, None]).sum((0, 2, 3)) / labelled.sum().clamp(min=1.0)
    return per_cue.sum(), per_cue
