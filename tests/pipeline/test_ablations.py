"""Ablation names: the four of the contract, variants, and clear refusals."""

from __future__ import annotations

import pytest

from handhdr.pipeline.ablations import ABLATIONS, SWITCHES, check_ablations, check_variant_names


def test_the_contract_names_and_switches():
    assert ABLATIONS == ("shpe_only", "no_removal", "no_deocclusion", "hdr")
    assert SWITCHES == {"no_removal": (1, 0), "no_deocclusion": (0, 1), "hdr": (1, 1)}


def test_check_ablations():
    assert check_ablations(["hdr", "shpe_only", "hdr"]) == ("hdr", "shpe_only")
    assert check_ablations("hdr") == ("hdr",)
    assert check_ablations(["no_transformer"], variants=["no_transformer"]) == ("no_transformer",)
    with pytest.raises(ValueError, match="unknown ablation 'no_transformer'"):
        check_ablations(["no_transformer"])
    with pytest.raises(ValueError, match="needs HDRNet weights"):
        check_ablations(["no_removal"], has_hdrm=False)
    assert check_ablations(["shpe_only"], has_hdrm=False) == ("shpe_only",)
    with pytest.raises(ValueError, match="no ablation"):
        check_ablations([])


def test_variant_names_cannot_shadow_ablations():
    check_variant_names(["no_transformer", "no_discriminator"])
    for bad in ("hdr", "", "shpe_only"):
        with pytest.raises(ValueError, match="variant name"):
            check_variant_names([bad])
