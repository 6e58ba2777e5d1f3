"""Regenerate the shipped built-in hand: ``python -m handhdr.hand.make_asset [--out PATH]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from handhdr.hand.builtin import build_builtin_hand, builtin_asset_path, save_builtin_asset


def main(argv: list[str] | None = None) -> None:
    """Build the right hand from code and write it (default: the packaged asset)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=builtin_asset_path())
    args = parser.parse_args(argv)
    data = build_builtin_hand()
    save_builtin_asset(data, args.out)
    print(f"wrote {args.out}: {len(data.v_template)} vertices, {len(data.faces)} faces")


if __name__ == "__main__":
    main()
