import pytest

from handhdr.synth.config import (
    SynthConfig,
    SynthConfigError,
    load_config,
    parse_mix,
    parse_shard,
    parse_size,
    parse_window,
    store_config,
)


def test_parsers_accept_the_documented_forms():
    assert parse_mix("sh=0.58,ih=0.42") == pytest.approx({"sh": 0.58, "ih": 0.42})
    assert parse_mix("ih=3") == {"sh": 0.0, "ih": 1.0}
    assert parse_mix("sh=1,ih=3") == {"sh": 0.25, "ih": 0.75}
    assert parse_size("128x96") == (128, 96)
    assert parse_window("0.2,0.6") == (0.2, 0.6)
    assert parse_shard("2/5") == (2, 5)


@pytest.mark.parametrize(
    ("parser", "text", "fragment"),
    [
        (parse_mix, "sh=0.5,xx=1", "unknown keys"),
        (parse_mix, "sh:0.5", "KEY=WEIGHT"),
        (parse_mix, "sh=a", "needs a number"),
        (parse_mix, "sh=0,ih=0", "not all 0"),
        (parse_size, "512", "WIDTHxHEIGHT"),
        (parse_window, "0.2", "MIN,MAX"),
        (parse_shard, "3/3", "0 <= i < n"),
        (parse_shard, "1", "i/n"),
    ],
)
def test_parsers_name_the_problem(parser, text, fragment):
    with pytest.raises(SynthConfigError, match=fragment):
        parser(text)


def test_config_checks_values():
    with pytest.raises(SynthConfigError, match="view"):
        SynthConfig(view="top")
    with pytest.raises(SynthConfigError, match="occlusion"):
        SynthConfig(occlusion=(0.6, 0.2))
    with pytest.raises(SynthConfigError, match="seed"):
        SynthConfig(seed=-1)
    with pytest.raises(SynthConfigError, match="aih_render"):
        SynthConfig(kind="syn", format="aih_render")


def test_stored_config_round_trips_and_refuses_other_options(tmp_path):
    config = SynthConfig(split="test", seed=7, width=128, height=96, occlusion=(0.1, 0.5))
    path = tmp_path / "config.json"
    store_config(path, config)
    assert load_config(path) == config
    store_config(path, config)  # the same options: fine
    with pytest.raises(SynthConfigError, match=r"seed: stored 7, now 8"):
        store_config(
            path, SynthConfig(split="test", seed=8, width=128, height=96, occlusion=(0.1, 0.5))
        )
