import numpy as np

from handhdr.datasets.aih import AIHRenderDataset
from handhdr.datasets.interhand import InterHandDataset
from handhdr.io import write_image
from handhdr.synth.writers import JPEG_QUALITY, visible_labels

SAME = {"seed": 4, "mix": {"sh": 0.4, "ih": 0.6}}


def test_visible_labels_code_right_1_left_2():
    masks = np.zeros((4, 2, 3), bool)
    masks[1, 0, 0] = masks[3, 1, 2] = True
    np.testing.assert_array_equal(visible_labels(masks), [[1, 0, 0], [0, 0, 2]])


def test_aih_render_layout_reads_back_like_the_interhand_layout(make_split, tmp_path):
    interhand = InterHandDataset(make_split("as_interhand", 5, **SAME), "test")
    aih = AIHRenderDataset(make_split("as_aih", 5, format="aih_render", **SAME), phase="test")
    by_sample = {}
    for i in range(len(aih)):
        s = aih[i]
        by_sample.setdefault(int(s.image_path.stem), []).append(s)
    entries = 0
    for index in range(len(interhand)):
        ref = interhand[index]
        hands = [h for h in ("right", "left") if ref.mask(f"{h}_amodal").any()]
        got = {s.meta["target"]: s for s in by_sample.get(ref.frame_idx, [])}
        assert sorted(got) == sorted(hands)  # one entry per hand with ground truth
        for target, s in got.items():
            entries += 1
            np.testing.assert_array_equal(s.image, ref.image)  # the same JPEG
            np.testing.assert_array_equal(s.mask(f"{target}_amodal"), ref.mask(f"{target}_amodal"))
            for h in ("right", "left"):
                np.testing.assert_array_equal(s.mask(f"{h}_visible"), ref.mask(f"{h}_visible"))
            # the AIH layout stores the same ground truth as JPEG: byte for byte
            write_image(tmp_path / "gt.jpg", ref.hdr_gt[target], jpeg_quality=JPEG_QUALITY)
            gt_path = s.image_path.parent.parent / "DR_gt" / s.image_path.name
            assert gt_path.read_bytes() == (tmp_path / "gt.jpg").read_bytes()
    assert entries == len(aih) and entries > len(interhand)
