import json

import pytest
import torch

from handhdr.training import weights as w


def test_save_load_round_trip_with_metadata(tmp_path):
    state = {"a": torch.randn(3, 2), "n": torch.tensor(7, dtype=torch.int64)}
    path = w.save_weights(state, tmp_path / "x.safetensors", {"stage": "t", "k": [1, 2]})
    loaded, meta = w.load_weights(path)
    assert meta == {"stage": "t", "k": [1, 2]}
    assert loaded["a"].dtype == torch.float32 and loaded["n"].dtype == torch.int64
    torch.testing.assert_close(loaded["a"], state["a"].half().float())
    exact = w.save_weights(state, tmp_path / "y.safetensors", {}, dtype=None)
    torch.testing.assert_close(w.load_weights(exact)[0]["a"], state["a"], rtol=0, atol=0)
    assert not list(tmp_path.glob("*.tmp*"))


def test_default_weights_resolution(tmp_path, monkeypatch):
    monkeypatch.setattr(w, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(w.WeightsError, match="shipped demo weights are not"):
        w.resolve_weights("default", "demo")
    w.save_weights({"a": torch.zeros(1)}, tmp_path / "demo.safetensors", {})
    assert w.resolve_weights("default", "demo") == tmp_path / "demo.safetensors"
    assert w.resolve_weights(tmp_path / "demo.safetensors", "x").name == "demo.safetensors"


def test_files_without_our_metadata_are_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"a": torch.zeros(1)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(w.WeightsError, match="no 'handhdr' metadata"):
        w.read_metadata(tmp_path / "plain.safetensors")


def test_model_card_sections(tmp_path):
    card = w.write_model_card(
        tmp_path / "c.md",
        "HASM weights",
        {"Data": {"seed": 1, "iou": 0.81234, "mix": {"sh": 0.58}}, "Notes": "text | more"},
    )
    text = card.read_text()
    assert text.startswith("# HASM weights\n")
    assert "| seed | 1 |" in text and "| iou | 0.8123 |" in text
    assert f"`{json.dumps({'sh': 0.58})}`" in text and "## Notes\n\ntext | more" in text
