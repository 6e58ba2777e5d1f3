"""The single-hand estimators handhdr knows by name, for the commands and the pipeline.

``detnet`` (our DetNet; ``weights`` = ``default`` for the shipped lite model, a
``.safetensors`` file, or an exported ``.onnx`` file with ``backend="onnx"``) and
``mediapipe`` (MediaPipe Hands, optional extra; no weights to give). Any other
object that follows :class:`~handhdr.shpe.interface.SingleHandEstimator` can be
passed to the evaluation and the pipeline directly.
"""

from __future__ import annotations

from handhdr.shpe.interface import SingleHandEstimator

ESTIMATORS: tuple[str, ...] = ("detnet", "mediapipe")


def load_estimator(
    name: str = "detnet",
    weights: str = "default",
    backend: str = "torch",
    device: str = "cpu",
    threads: int | None = None,
    batch_size: int = 16,
) -> SingleHandEstimator:
    """The estimator ``name`` ready to run (see the module doc)."""
    if name == "detnet":
        from handhdr.shpe.weights import detnet_estimator

        return detnet_estimator(weights, backend, device, threads, batch_size)
    if name == "mediapipe":
        from handhdr.shpe.mediapipe_hands import MediaPipeEstimator

        if weights != "default":
            raise ValueError("MediaPipe uses its bundled models: leave --weights at 'default'")
        return MediaPipeEstimator()
    raise ValueError(f"unknown estimator {name!r}; expected one of {ESTIMATORS}")


__all__ = ["ESTIMATORS", "load_estimator"]
