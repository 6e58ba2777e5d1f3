"""Reading what users have and writing files that are never half-written."""

from handhdr.io.atomic import atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text
from handhdr.io.digest import file_sha256
from handhdr.io.images import ImageReadError, read_image, write_image

__all__ = [
    "ImageReadError",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "file_sha256",
    "read_image",
    "write_image",
]
