"""Reading what users have and writing files that are never half-written."""

from handhdr.io.atomic import atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text
from handhdr.io.images import ImageReadError, read_image, write_image

__all__ = [
    "ImageReadError",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "read_image",
    "write_image",
]
