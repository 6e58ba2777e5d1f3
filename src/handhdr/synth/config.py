"""What a synthetic dataset is made of: :class:`SynthConfig`, its parsing and its record.

A config fixes everything that changes the content of a sample (kind, split, seed,
size, mix, view, occlusion window, backgrounds, hand model, copy-paste source,
output format). The number of samples, the shard and the worker count do not change
any sample, so they are not part of it: the first k samples of an n-sample run equal
a k-sample run, and shards of one config can be generated anywhere.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

KINDS: tuple[str, ...] = ("render", "syn")
SPLITS: tuple[str, ...] = ("train", "val", "test")
VIEWS: tuple[str, ...] = ("studio", "ego", "third")
FORMATS: tuple[str, ...] = ("interhand", "aih_render")
DEFAULT_MIX: dict[str, float] = {"sh": 0.58, "ih": 0.42}
DEFAULT_SIZE: tuple[int, int] = (512, 334)  # InterHand2.6M v1.0 (width, height)


class SynthConfigError(ValueError):
    """A synthetic-data option or stored config that cannot be used."""


@dataclass(frozen=True)
class SynthConfig:
    """Everything that decides the content of sample ``index`` (besides the index)."""

    split: str = "train"
    seed: int = 0
    kind: str = "render"
    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    view: str = "studio"
    occlusion: tuple[float, float] | None = None  # window on the most occluded hand (IH)
    occlusion_tries: int = 12  # scene resamples at most, then the sample is kept as is
    backgrounds: str | None = None  # folder of background images (else procedural)
    format: str = "interhand"
    hand_model: str = "builtin"
    source: str = "render"  # AIH_Syn source: "render", "interhand:DIR" or "folder:DIR"

    def __post_init__(self) -> None:
        _check_choice("kind", self.kind, KINDS)
        _check_choice("split", self.split, SPLITS)
        _check_choice("view", self.view, VIEWS)
        _check_choice("format", self.format, FORMATS)
        if not isinstance(self.seed, int) or self.seed < 0:
            raise SynthConfigError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.width < 16 or self.height < 16:
            raise SynthConfigError(f"size must be at least 16x16, got {self.width}x{self.height}")
        object.__setattr__(self, "mix", normalise_mix(self.mix))
        if self.occlusion is not None:
            low, high = (float(v) for v in self.occlusion)
            if not 0.0 <= low < high <= 1.0:
                raise SynthConfigError(
                    f"occlusion window must satisfy 0 <= MIN < MAX <= 1, got {low},{high}"
                )
            object.__setattr__(self, "occlusion", (low, high))
        if self.occlusion_tries < 1:
            raise SynthConfigError("occlusion_tries must be at least 1")
        if self.format == "aih_render" and self.kind != "render":
            raise SynthConfigError("--format aih_render needs --kind render")
        if self.source != "render" and not self.source.startswith(("interhand:", "folder:")):
            raise SynthConfigError(
                f"source must be 'render', 'interhand:DIR' or 'folder:DIR', got {self.source!r}"
            )

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.width, self.height

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        data = asdict(self)
        if data["occlusion"] is not None:
            data["occlusion"] = list(data["occlusion"])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str = "config") -> SynthConfig:
        """Inverse of :meth:`to_json`; unknown keys are an error naming ``where``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SynthConfigError(f"{where}: unknown keys {unknown}")
        values = dict(data)
        if values.get("occlusion") is not None:
            values["occlusion"] = tuple(values["occlusion"])
        try:
            return cls(**values)
        except TypeError as exc:
            raise SynthConfigError(f"{where}: {exc}") from exc


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SynthConfigError(f"{name} must be one of {list(choices)}, got {value!r}")


def normalise_mix(mix: dict[str, float]) -> dict[str, float]:
    """Check a ``{"sh": w, "ih": w}`` mix and scale it to sum to 1."""
    unknown = sorted(set(mix) - set(DEFAULT_MIX))
    if unknown:
        raise SynthConfigError(f"mix: unknown keys {unknown}; expected 'sh' and/or 'ih'")
    weights = {key: float(mix.get(key, 0.0)) for key in DEFAULT_MIX}
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise SynthConfigError(f"mix weights must be >= 0 and not all 0, got {mix}")
    total = sum(weights.values())
    return {key: w / total for key, w in weights.items()}


def parse_mix(text: str) -> dict[str, float]:
    """``"sh=0.58,ih=0.42"`` -> ``{"sh": 0.58, "ih": 0.42}`` (normalised)."""
    mix: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise SynthConfigError(f"--mix: expected KEY=WEIGHT items, got {item!r} in {text!r}")
        try:
            mix[key.strip()] = float(value)
        except ValueError:
            raise SynthConfigError(
                f"--mix: {key.strip()!r} needs a number, got {value!r}"
            ) from None
    return normalise_mix(mix)


def parse_size(text: str) -> tuple[int, int]:
    """``"512x334"`` -> ``(512, 334)``."""
    width, sep, height = text.lower().partition("x")
    try:
        if not sep:
            raise ValueError
        return int(width), int(height)
    except ValueError:
        raise SynthConfigError(
            f"--size: expected WIDTHxHEIGHT, e.g. 512x334, got {text!r}"
        ) from None


def parse_window(text: str) -> tuple[float, float]:
    """``"0.2,0.6"`` -> ``(0.2, 0.6)``."""
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise SynthConfigError(
            f"--occlusion: expected MIN,MAX, e.g. 0.2,0.6, got {text!r}"
        ) from None


def parse_shard(text: str) -> tuple[int, int]:
    """``"1/4"`` -> ``(1, 4)``: this run makes the indices congruent to 1 mod 4."""
    index, sep, count = text.partition("/")
    try:
        i, n = int(index), int(count)
        if not sep or n < 1 or not 0 <= i < n:
            raise ValueError
    except ValueError:
        raise SynthConfigError(f"--shard: expected i/n with 0 <= i < n, got {text!r}") from None
    return i, n


def load_config(path: Path) -> SynthConfig:
    """Read a config stored by :func:`store_config`."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SynthConfigError(f"{path}: cannot read the stored synth config ({exc})") from exc
    if not isinstance(data, dict):
        raise SynthConfigError(f"{path}: expected a JSON object")
    return SynthConfig.from_json(data, where=str(path))


def store_config(path: Path, config: SynthConfig) -> None:
    """Store ``config`` at ``path``, or check that the stored one is the same.

    A dataset folder holds one config per split; continuing it (resume, another
    shard) with different options would mix two datasets, so that is an error
    naming the options that differ.
    """
    from handhdr.io import atomic_write_json

    if Path(path).exists():
        stored = load_config(path)
        if stored != config:
            mine, theirs = config.to_json(), stored.to_json()
            diff = {k: (theirs[k], mine[k]) for k in mine if mine[k] != theirs[k]}
            raise SynthConfigError(
                f"{path}: this split was started with other options "
                + ", ".join(f"{k}: stored {a!r}, now {b!r}" for k, (a, b) in diff.items())
                + "; use another --out or the same options"
            )
        return
    atomic_write_json(path, config.to_json())
