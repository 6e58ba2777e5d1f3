"""ONNX Runtime sessions and the ``handhdr`` metadata every exported stage carries."""

from __future__ import annotations

import json
import os
from typing import Any


def onnx_session(
    path: str | os.PathLike[str], device: str = "cpu", threads: int | None = None
) -> Any:
    """An ``onnxruntime.InferenceSession`` on CPU, or CUDA when asked and available.

    ``threads`` caps intra-op threads (and pins inter-op to one) for predictable
    timings on small machines; ``None`` leaves ONNX Runtime's default. Worker threads
    never busy-wait between operators (``allow_spinning=0``): the pipeline runs three
    small models in turn, and spinning threads of one session starved the next on a
    loaded 2-core machine (lite pipeline 475 -> 90 ms per frame, docs/benchmarks.md).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    providers = ["CPUExecutionProvider"]
    if device.startswith("cuda"):
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise ValueError(f"{path}: onnxruntime has no CUDA provider here; use --device cpu")
        providers.insert(0, "CUDAExecutionProvider")
    return ort.InferenceSession(str(path), options, providers=providers)


class OnnxModel:
    """An :func:`onnx_session` of a model with one input; :meth:`run` feeds it."""

    def __init__(
        self, path: str | os.PathLike[str], device: str = "cpu", threads: int | None = None
    ) -> None:
        self.session = onnx_session(path, device, threads)
        self.input_name = self.session.get_inputs()[0].name

    def run(self, inputs: Any) -> list[Any]:
        """All outputs of the model on ``inputs`` (a float32 array)."""
        return self.session.run(None, {self.input_name: inputs})


def add_onnx_metadata(path: str | os.PathLike[str], info: dict[str, Any]) -> None:
    """Store ``info`` as JSON under the ``handhdr`` key of an ONNX file's metadata."""
    import onnx

    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key = "handhdr"
    entry.value = json.dumps(info)
    onnx.save(proto, str(path))


def onnx_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``handhdr`` metadata of an exported ONNX file (empty if absent)."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    for entry in proto.metadata_props:
        if entry.key == "handhdr":
            return json.loads(entry.value)
    return {}
