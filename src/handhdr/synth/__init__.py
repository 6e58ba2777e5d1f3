"""Synthetic amodal two-hand datasets (our AIH_Render and AIH_Syn), InterHand2.6M layout.

``generate(root, SynthConfig(...), num)`` makes the samples of a split (resumable,
shardable, worker processes) and finalises it; ``finalize`` merges the per-sample
records into the annotation files; ``make_factory(config).make(index)`` gives one
sample in memory. User guide: ``docs/synthetic_data.md``.

Modules: :mod:`~handhdr.synth.config` (options), :mod:`~handhdr.synth.seeding`
(random streams), :mod:`~handhdr.synth.cameras` (rigs and views),
:mod:`~handhdr.synth.hands` and :mod:`~handhdr.synth.scenes` (hands and interaction
recipes), :mod:`~handhdr.synth.collision` (interpenetration),
:mod:`~handhdr.synth.render_kind` and :mod:`~handhdr.synth.syn_kind` (the two kinds),
:mod:`~handhdr.synth.copy_paste` (composition), :mod:`~handhdr.synth.records`,
:mod:`~handhdr.synth.writers`, :mod:`~handhdr.synth.finalize`,
:mod:`~handhdr.synth.runner`.
"""

from handhdr.synth.config import SynthConfig
from handhdr.synth.finalize import finalize
from handhdr.synth.runner import generate, make_factory
from handhdr.synth.scenes import INTERACTIONS

__all__ = ["INTERACTIONS", "SynthConfig", "finalize", "generate", "make_factory"]
