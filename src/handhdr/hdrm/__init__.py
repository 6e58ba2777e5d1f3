"""hdrm."""
