"""Run the generator: shards, worker processes, resume, progress, finalisation.

``generate`` makes the samples ``shard_index, shard_index + n, ...`` below ``num``
that have no record yet (a killed run resumes where it stopped; a finished one does
nothing), each in a worker process that owns its own renderer, and finalises the
split when every record ``0 .. num-1`` is on disk -- whichever shard finishes last
does it, and finalising twice writes the same files.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from handhdr.synth.config import SynthConfig, store_config
from handhdr.synth.finalize import FinalizeResult, config_path, finalize, missing_indices
from handhdr.synth.records import SynthSample, existing_indices
from handhdr.synth.writers import write_sample


class SampleFactory(Protocol):
    """Makes sample ``index`` of one config (a pure function of seed and index)."""

    def make(self, index: int) -> SynthSample: ...


def make_factory(config: SynthConfig) -> SampleFactory:
    """The factory of ``config.kind``."""
    if config.kind == "render":
        from handhdr.synth.render_kind import RenderFactory

        return RenderFactory(config)
    from handhdr.synth.syn_kind import SynFactory

    return SynFactory(config)


@dataclass
class RunResult:
    """What one ``generate`` call did."""

    generated: int
    skipped: int
    remaining: int  # samples of the whole split (all shards) still without a record
    counters: Counter[str] = field(default_factory=Counter)
    finalized: FinalizeResult | None = None


_WORKER: dict[str, Any] = {}


def _init_worker(config_json: dict[str, Any], root: str) -> None:
    import torch

    torch.set_num_threads(1)
    config = SynthConfig.from_json(config_json)
    _WORKER.update(config=config, root=Path(root), factory=make_factory(config))


def _make_and_write(index: int) -> tuple[int, dict[str, int]]:
    config: SynthConfig = _WORKER["config"]
    try:
        sample = _WORKER["factory"].make(index)
        write_sample(_WORKER["root"], config.split, config.format, sample)
    except Exception as exc:
        raise RuntimeError(f"sample {index} (seed {config.seed}): {exc}") from exc
    return index, dict(sample.record["synth"].get("counters", {}))


def shard_indices(num: int, shard: tuple[int, int]) -> range:
    """The indices of shard ``(i, n)``: ``i, i + n, i + 2n, ... < num``."""
    i, n = shard
    return range(i, num, n)


_PRELOAD = [  # imported once by the fork server; torch dominates a worker's start-up
    "torch",
    "handhdr.hand.layer",
    "handhdr.render.renderer",
    "handhdr.synth.render_kind",
    "handhdr.synth.syn_kind",
]


def _worker_context() -> Any:
    """Fresh worker processes that own their renderer and torch state: forked from a
    server that imported the heavy modules once (POSIX), else spawned."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def _results(todo: list[int], workers: int, config: SynthConfig, root: Path) -> Iterator:
    if workers <= 1:
        import torch

        threads = torch.get_num_threads()
        _init_worker(config.to_json(), str(root))  # one torch thread: hand models are small
        try:
            for index in todo:
                yield _make_and_write(index)
        finally:
            _WORKER.clear()
            torch.set_num_threads(threads)
        return
    context = _worker_context()
    with context.Pool(
        workers, initializer=_init_worker, initargs=(config.to_json(), str(root))
    ) as pool:
        yield from pool.imap_unordered(_make_and_write, todo, chunksize=1)


def generate(
    root: str | os.PathLike[str],
    config: SynthConfig,
    num: int,
    shard: tuple[int, int] = (0, 1),
    workers: int = 1,
    progress: bool = True,
    max_new: int | None = None,
    auto_finalize: bool = True,
) -> RunResult:
    """Generate the missing samples of ``shard`` below ``num`` into ``root``.

    ``max_new`` stops after that many new samples (as if the run had been killed).
    The split's config is stored on the first run and must match on later ones.
    """
    if num < 1:
        raise ValueError(f"num must be at least 1, got {num}")
    root = Path(root)
    store_config(config_path(root, config.split), config)
    done = existing_indices(root, config.split)
    mine = shard_indices(num, shard)
    todo = [i for i in mine if i not in done]
    skipped = len(mine) - len(todo)
    if max_new is not None:
        todo = todo[:max_new]
    counters: Counter[str] = Counter()
    results = _results(todo, workers, config, root)
    if progress and todo:
        from tqdm import tqdm

        desc = f"synth {config.kind} {config.split}"
        if shard[1] > 1:
            desc += f" shard {shard[0]}/{shard[1]}"
        results = tqdm(results, total=len(todo), desc=desc, unit="img", smoothing=0.05)
    generated = 0
    for _, sample_counters in results:
        counters.update(sample_counters)
        generated += 1
    remaining = len(missing_indices(root, config.split, num))
    result = RunResult(generated, skipped, remaining, counters)
    if auto_finalize and remaining == 0:
        result.finalized = finalize(root, config.split, num, progress=progress)
    return result
