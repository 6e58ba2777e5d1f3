"""Does HASM mark each hand as both hands, and would resolving the duplicates help?

For every image of a split, runs HASM as ``handhdr eval-seg`` does (coarse to fine,
threshold 0.5) and reports:

* the median IoU of the predicted right and left amodal masks with each other, per
  image type (right-hand-only, left-hand-only, interacting);
* the split's mIoU after two post-hoc rules, beside the plain mIoU: *visible
  exclusive* (a pixel both visible masks claim goes to the one with the larger logit)
  and *duplicate dropped* (when the two amodal masks overlap by at least IoU t, only
  the side with the larger mean probability over their union keeps its masks).

    python experiments/side_duplicates.py --root data/aih_lite --split val

docs/training.md (sixth round) has the figures for the shipped weights.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np
from tqdm import tqdm

from handhdr.hasm.inference import Segmentation
from handhdr.hasm.metrics import IoUAccumulator
from handhdr.hasm.weights import hasm_predictor
from handhdr.io import read_image
from handhdr.training.sources import open_source

THRESHOLDS = (0.3, 0.5, 0.7, 0.8, 0.9)


def exclusive_visible(masks: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Masks whose two visible masks never share a pixel (the larger logit keeps it)."""
    out = masks.copy()
    both = masks[1] & masks[3]
    out[1] &= ~(both & (logits[3] > logits[1]))
    out[3] &= ~(both & (logits[1] >= logits[3]))
    return out


def right_is_surer(seg: Segmentation) -> bool:
    """Whether the right hand's two masks are more probable than the left's, on
    average over the union of the two predicted amodal masks."""
    union = seg.masks[0] | seg.masks[2]
    prob = seg.probabilities[:, union]  # (4, pixels)
    return bool(prob[0].mean() + prob[1].mean() >= prob[2].mean() + prob[3].mean())


def drop_side(masks: np.ndarray, keep_right: bool) -> np.ndarray:
    """The masks with one side cleared: the left one when ``keep_right``."""
    out = masks.copy()
    out[slice(2, 4) if keep_right else slice(0, 2)] = False
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--weights", default="default")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    predictor = hasm_predictor(args.weights, backend="onnx", threads=args.threads)
    reader = open_source(args.root, "auto", args.split)
    plain, exclusive = IoUAccumulator(), IoUAccumulator()
    dropped = {t: IoUAccumulator() for t in THRESHOLDS}
    overlaps: dict[str, list[float]] = defaultdict(list)
    for index in tqdm(range(len(reader)), unit="img"):
        sample = reader[index]
        image = sample.image if sample.image is not None else read_image(sample.image_path)
        seg = predictor(image)
        masks = seg.masks
        union = np.count_nonzero(masks[0] | masks[2])
        iou = np.count_nonzero(masks[0] & masks[2]) / union if union else 0.0
        overlaps[str(sample.hand_type)].append(iou)
        plain.update(masks, sample.masks)
        exclusive.update(exclusive_visible(masks, seg.logits), sample.masks)
        deduplicated = drop_side(masks, right_is_surer(seg)) if union else masks
        for t, acc in dropped.items():
            acc.update(deduplicated if iou >= t else masks, sample.masks)
    for hand_type, values in sorted(overlaps.items()):
        print(f"{hand_type}: {len(values)} images, median right/left amodal IoU "
              f"{np.median(values):.2f}")  # fmt: skip
    print(f"mIoU plain {plain.compute()['miou']:.3f}")
    print(f"mIoU visible exclusive {exclusive.compute()['miou']:.3f}")
    for t, acc in dropped.items():
        print(f"mIoU duplicate dropped at IoU >= {t}: {acc.compute()['miou']:.3f}")


if __name__ == "__main__":
    main()
