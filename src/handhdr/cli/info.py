"""``handhdr info``: versions and what this installation can do."""

from __future__ import annotations

from handhdr.cli.app import app


@app.command()
def info() -> None:
    """Print the versions of handhdr and its main libraries, and the device."""
    import platform

    import numpy as np
    import torch

    import handhdr

    print(f"handhdr {handhdr.__version__}")
    print(f"python {platform.python_version()} on {platform.platform()}")
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    print(f"cuda available: {torch.cuda.is_available()}, threads: {torch.get_num_threads()}")
