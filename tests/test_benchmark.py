"""``handhdr.benchmark``: stage timings on tiny models, FLOP counts, the HASM stand-in."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

from handhdr.benchmark import (
    STAGE_KEYS,
    BenchError,
    KnownMasksHASM,
    config_models,
    count_gflops,
    run_bench,
    stage_gflops,
    synthetic_frames,
    time_mediapipe,
    write_report,
)


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_gflops_of_a_known_model_equal_the_hand_count():
    conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
    linear = torch.nn.Linear(10, 5)
    # conv: 8 outputs x 3 x 3 x 3 multiply-adds at each of 16 x 16 positions; linear:
    # 4 rows x 10 x 5; 2 FLOPs per multiply-add
    expected = 2 * (8 * 3 * 3 * 3 * 16 * 16 + 4 * 10 * 5) / 1e9
    got = count_gflops(lambda: (conv(torch.rand(1, 3, 16, 16)), linear(torch.rand(4, 10))))
    assert got == pytest.approx(expected, rel=1e-12)


def test_stage_gflops_add_up():
    models = config_models("tiny")
    g = stage_gflops(models)
    size = models.hasm_settings.size  # tiny: coarse and fine passes at the same size
    one_pass = count_gflops(lambda: models.hasm(torch.rand(1, 3, size, size)))
    assert g["hasm"] == pytest.approx(2 * one_pass)
    assert all(g[k] > 0 for k in STAGE_KEYS)
    assert g["total"] == pytest.approx(g["hasm"] + g["hdrm"] + g["shpe"])
    with pytest.raises(BenchError, match="unknown configuration 'huge'"):
        config_models("huge")


def test_bench_one_frame_writes_every_stage(tmp_path):
    report = run_bench(["tiny"], threads=1, frames=1, size=(128, 96), warmup=0, mediapipe=False)
    json_path, md_path = write_report(report, tmp_path / "bench.json")
    saved = json.loads(json_path.read_text())
    assert [(r["config"], r["backend"]) for r in saved["results"]] == [
        ("tiny", "torch"),
        ("tiny", "onnx"),
    ]
    for row in saved["results"]:
        assert row["frames"] == 1 and row["frames_with_two_hands"] == 1
        for key in STAGE_KEYS:
            assert row["ms"][key]["median"] > 0
        assert row["ms"]["total"]["median"] >= row["ms"]["hasm"]["median"]
        assert row["cpu_ms_per_frame"] > 0
    assert all(v > 0 for v in saved["configs"]["tiny"]["gflops"].values())
    assert saved["machine"]["cores"] >= 1 and len(saved["machine"]["load_average"]) == 3
    assert saved["mediapipe"]["available"] is False
    md = md_path.read_text()
    assert md_path.suffix == ".md" and "whole pipeline" in md and "ONNX Runtime" in md


def test_hasm_stand_in_runs_both_passes_and_answers_the_true_masks(tmp_path):
    from handhdr.benchmark import write_weights
    from handhdr.pipeline import HDRPipeline

    frame = synthetic_frames(1, (128, 96))[0]
    assert frame.masks.shape == (4, 96, 128) and frame.masks[0].any() and frame.masks[2].any()
    paths = write_weights(config_models("tiny"), tmp_path)
    pipe = HDRPipeline.load(paths["hasm"], paths["hdrm"], paths["shpe"])
    hasm = KnownMasksHASM(pipe.hasm)
    hasm.set_frame(frame)
    seg = hasm.segment(frame.image)
    assert hasm.passes == [2]  # coarse, then fine on the region
    assert seg.region is not None
    np.testing.assert_array_equal(seg.masks, frame.masks)


def test_mediapipe_is_skipped_with_a_message_when_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import fails
    out = time_mediapipe(synthetic_frames(1, (128, 96)))
    assert out["available"] is False and "optional extra" in out["note"]


def test_bad_arguments():
    with pytest.raises(BenchError, match="unknown backend"):
        run_bench(["tiny"], backends=["tensorrt"], frames=1)
    with pytest.raises(BenchError, match="unknown configuration"):
        run_bench(["medium"], frames=1)
