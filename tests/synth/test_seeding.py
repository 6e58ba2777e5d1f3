import numpy as np

from handhdr.synth.seeding import STREAMS, rig_rng, sample_streams


def _draw(streams):
    return {name: rng.random(4) for name, rng in streams.items()}


def test_streams_are_a_pure_function_of_seed_and_index():
    a, b = _draw(sample_streams(3, 11)), _draw(sample_streams(3, 11))
    assert set(a) == set(STREAMS)
    for name in STREAMS:
        np.testing.assert_array_equal(a[name], b[name])


def test_neighbouring_seeds_do_not_overlap():
    # seed + index would make (0, 1) and (1, 0) the same sample
    a, b = _draw(sample_streams(0, 1)), _draw(sample_streams(1, 0))
    assert not any(np.array_equal(a[n], b[n]) for n in STREAMS)
    values = np.concatenate(list(a.values()))
    assert len(np.unique(values)) == values.size  # the streams of one sample differ too


def test_rigs_do_not_reuse_sample_streams():
    rig = rig_rng(0, 5).random(4)
    sample = sample_streams(0, 5)
    assert not any(np.array_equal(rig, rng.random(4)) for rng in sample.values())
    np.testing.assert_array_equal(rig, rig_rng(0, 5).random(4))
