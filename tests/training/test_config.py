import pytest

from handhdr.training.config import (
    ConfigError,
    available_configs,
    load_config,
    parse_data_arg,
)


def test_named_configs_of_hasm():
    assert {"lite", "paper"} <= set(available_configs("hasm"))
    paper = load_config("hasm", "paper")
    assert paper.stage == "hasm" and paper.name == "paper"
    assert paper.model.variant == "b5" and paper.input_size == 256
    assert paper.data.batch_size == 48 and paper.optim.lr == pytest.approx(6e-5 * 48)
    assert paper.optim.head_lr_mult == 10 and paper.optim.warmup_steps == 1500
    assert paper.trainer.max_steps == 500_000 and paper.optim.power == 1.0
    assert paper.inference.size == 256  # interpolated from input_size
    # shared defaults are there even when the file does not say them
    assert paper.trainer.strategy == "auto" and paper.run.root == "runs"


def test_overrides_are_typed_and_checked():
    cfg = load_config(
        "hasm", "lite", ["optim.lr=1e-3", "trainer.devices=2", "aug.scale_range=[1, 3]"]
    )
    assert cfg.optim.lr == 1e-3 and cfg.trainer.devices == 2
    assert list(cfg.aug.scale_range) == [1, 3]
    with pytest.raises(ConfigError, match=r"no key 'optim.lrr'.*keys under optim"):
        load_config("hasm", "lite", ["optim.lrr=1"])
    with pytest.raises(ConfigError, match="key=value"):
        load_config("hasm", "lite", ["optim.lr"])
    assert load_config("hasm", "lite", ["+extra.note=hi"]).extra.note == "hi"


def test_input_size_override_moves_the_inference_size_too():
    assert load_config("hasm", "paper", ["input_size=96"]).inference.size == 96
    lite = load_config("hasm", "lite", ["input_size=96"]).inference  # chosen sizes stay
    assert lite.size == 224 and lite.coarse_size == 224


def test_data_sources_and_files(tmp_path):
    cfg = load_config("hasm", "lite", data=["/d/one", "aih_render:/d/two"])
    assert [dict(s) for s in cfg.data.sources] == [
        {"root": "/d/one", "kind": "auto"},
        {"root": "/d/two", "kind": "aih_render"},
    ]
    assert parse_data_arg("C:/x") == {"root": "C:/x", "kind": "auto"}
    custom = tmp_path / "mine.yaml"
    custom.write_text("stage: hasm\ninput_size: 64\n")
    cfg = load_config("hasm", str(custom))
    assert cfg.name == "mine" and cfg.input_size == 64
    with pytest.raises(ConfigError, match="no config named 'lite2'"):
        load_config("hasm", "lite2")
    with pytest.raises(ConfigError, match="not found"):
        load_config("hasm", str(tmp_path / "none.yaml"))
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("stage: shpe\n")
    with pytest.raises(ConfigError, match="stage 'shpe'"):
        load_config("hasm", str(wrong))
