"""Dataset readers. Every reader returns :class:`handhdr.datasets.schema.Sample`."""

from handhdr.datasets.schema import HAND_TYPES, MASK_NAMES, Sample

__all__ = ["HAND_TYPES", "MASK_NAMES", "Sample"]
