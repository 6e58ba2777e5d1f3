"""One entry point for hand models: the built-in hand or a user's official MANO files."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from handhdr.hand.builtin import builtin_asset_path, read_builtin_asset
from handhdr.hand.mirror import mirror_hand_model
from handhdr.hand.model_data import HandModelData

ModelKind = Literal["builtin", "mano"]


@lru_cache(maxsize=4)
def _builtin(side: str) -> HandModelData:
    right = read_builtin_asset(builtin_asset_path())
    return right if side == "right" else mirror_hand_model(right)


def load_hand_model(
    kind: ModelKind = "builtin", side: str = "right", path: str | Path | None = None
) -> HandModelData:
    """The hand model arrays for one side.

    ``kind="builtin"``: the openly licensed model shipped with handhdr (the left hand is
    the mirror of the right); ``path`` may name another asset written by
    ``python -m handhdr.hand.builtin --out PATH``.
    ``kind="mano"``: official MANO; ``path`` is the user's ``MANO_RIGHT``/``MANO_LEFT``
    ``.pkl`` or converted ``.npz``, read by :func:`handhdr.hand.mano.load_mano`.
    The returned arrays are shared between calls for the built-in model: copy before
    modifying them.
    """
    if side not in ("right", "left"):
        raise ValueError(f"side must be 'right' or 'left', got {side!r}")
    if kind == "builtin":
        if path is None:
            return _builtin(side)
        right = read_builtin_asset(path)
        return right if side == "right" else mirror_hand_model(right)
    if kind == "mano":
        if path is None:
            raise ValueError(
                "kind='mano' needs path= to the official MANO_RIGHT/MANO_LEFT .pkl or .npz "
                "(registration at mano.is.tue.mpg.de; see handhdr.hand.mano)"
            )
        from handhdr.hand.mano import load_mano  # the official-MANO reader

        return load_mano(path, side=side)
    raise ValueError(f"unknown hand model kind {kind!r}; expected 'builtin' or 'mano'")
