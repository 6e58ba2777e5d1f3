import numpy as np
import pytest

from handhdr.datasets.interhand import InterHandDataset
from handhdr.hasm.evaluate import evaluate_segmentation, write_metrics
from handhdr.hasm.fixtures import make_mask_fixture


def test_known_iou_from_a_predictor_with_known_errors(tmp_path):
    make_mask_fixture(tmp_path, "test", seed=5)
    reader = InterHandDataset(tmp_path, "test", load_hdr_gt=False)
    truth = {reader[i].file_name: reader[i].masks for i in range(len(reader))}
    by_image = iter(reader[i].masks for i in range(len(reader)))

    def predict(image):
        gt = next(by_image)
        pred = gt.copy()
        pred[1] = False  # right visible: never predicted -> IoU 0
        pred[2] = True  # left amodal: everywhere -> IoU = area / all pixels
        return pred

    metrics = evaluate_segmentation(reader, predict, workers=0, progress=False)
    all_gt = np.stack(list(truth.values()))
    pixels = all_gt[:, 0].size
    assert metrics["num_images"] == len(reader)
    assert metrics["right_amodal"] == 1.0 and metrics["left_visible"] == 1.0
    assert metrics["right_visible"] == 0.0
    assert metrics["left_amodal"] == pytest.approx(all_gt[:, 2].sum() / pixels)
    assert metrics["miou"] == pytest.approx((2 + all_gt[:, 2].sum() / pixels) / 4)
    assert metrics["union"]["left_amodal"] == pixels
    # sides ignored, the left amodal mask everywhere makes the hands' amodal union the frame
    either_amodal = all_gt[:, 0] | all_gt[:, 2]
    assert metrics["diagnostics"]["hand_amodal_iou"] == pytest.approx(either_amodal.sum() / pixels)
    assert metrics["diagnostics"]["hand_visible_iou"] == pytest.approx(
        all_gt[:, 3].sum() / (all_gt[:, 1] | all_gt[:, 3]).sum()
    )
    path = write_metrics(tmp_path / "out", metrics)
    assert path.endswith("metrics.json")


def test_wrong_prediction_shape_is_an_error(tmp_path):
    make_mask_fixture(tmp_path, "test", seed=5, num_captures=1, num_cameras=1, num_frames=1)
    reader = InterHandDataset(tmp_path, "test", load_hdr_gt=False)
    with pytest.raises(ValueError, match="prediction"):
        evaluate_segmentation(reader, lambda image: np.zeros((4, 2, 2), bool), workers=0)
