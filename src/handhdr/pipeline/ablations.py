"""The ablations the pipeline runs without retraining (Table 5 of the paper).

* ``shpe_only``: the crops cut around HASM's masks go straight to SHPE (no HDRNet);
* ``no_removal``: HDRNet with switches [1, 0] (the other hand is not erased);
* ``no_deocclusion``: HDRNet with switches [0, 1] (the hidden part is not recovered);
* ``hdr``: the full method, switches [1, 1].

HDRNet variants trained differently (``no_transformer``, ``no_discriminator``, ...)
are ``hdr`` run with another weights file; a pipeline loaded with
``hdrm_variants={name: path}`` accepts those names as ablations too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

ABLATIONS: tuple[str, ...] = ("shpe_only", "no_removal", "no_deocclusion", "hdr")

# [de-occlusion, removal] per ablation that runs HDRNet (1 = on)
SWITCHES: dict[str, tuple[float, float]] = {
    "no_removal": (1.0, 0.0),
    "no_deocclusion": (0.0, 1.0),
    "hdr": (1.0, 1.0),
}


def check_ablations(
    names: Sequence[str], variants: Iterable[str] = (), has_hdrm: bool = True
) -> tuple[str, ...]:
    """``names`` without repeats, in order; a clear ``ValueError`` for an unknown name,
    for none at all, or for an HDRNet ablation when the pipeline has no HDRNet."""
    if isinstance(names, str):
        names = (names,)
    known = (*ABLATIONS, *variants)
    if not names:
        raise ValueError(f"no ablation asked for; expected some of {list(known)}")
    out: list[str] = []
    for name in names:
        if name not in known:
            raise ValueError(f"unknown ablation {name!r}; expected one of {list(known)}")
        if name != "shpe_only" and not has_hdrm:
            raise ValueError(f"ablation {name!r} needs HDRNet weights; this pipeline has none")
        if name not in out:
            out.append(name)
    return tuple(out)


def check_variant_names(variants: Iterable[str]) -> None:
    """HDRNet variant names must be new words (not an ablation's name) and not empty."""
    for name in variants:
        if not name or not isinstance(name, str) or name in ABLATIONS:
            raise ValueError(
                f"HDRNet variant name {name!r} must be a non-empty name other than {ABLATIONS}"
            )


__all__ = ["ABLATIONS", "SWITCHES", "check_ablations", "check_variant_names"]
