import pytest

from handhdr.hasm.fixtures import make_mask_fixture
from handhdr.training.sources import detect_kind, has_split, open_source


def test_interhand_layout_is_detected_with_its_splits(tmp_path):
    make_mask_fixture(tmp_path, "train", seed=0, num_captures=1, num_cameras=1, num_frames=2)
    assert detect_kind(tmp_path) == "interhand"
    assert has_split(tmp_path, "auto", "train") and not has_split(tmp_path, "auto", "val")
    reader = open_source(tmp_path, "auto", "train")
    assert len(reader) == 2 and reader[0].masks is not None


def test_aih_layouts_are_detected(tmp_path):
    (tmp_path / "syn" / "syn_cfgs").mkdir(parents=True)
    (tmp_path / "syn" / "syn_cfgs" / "all_machine_annot_val_syn_cfgs.npy").touch()
    assert detect_kind(tmp_path / "syn") == "aih_syn"
    assert has_split(tmp_path / "syn", "aih_syn", "val")
    assert not has_split(tmp_path / "syn", "aih_syn", "train")
    (tmp_path / "render" / "human_annot" / "train" / "images").mkdir(parents=True)
    assert detect_kind(tmp_path / "render") == "aih_render"
    assert has_split(tmp_path / "render", "aih_render", "train")


def test_unknown_layouts_and_kinds(tmp_path):
    with pytest.raises(ValueError, match="KIND:DIR"):
        detect_kind(tmp_path)
    with pytest.raises(FileNotFoundError):
        detect_kind(tmp_path / "missing")
    with pytest.raises(ValueError, match="unknown dataset kind"):
        open_source(tmp_path, "coco", "train")
