"""The end-to-end HDR pipeline: image -> HASM -> per-hand crops -> HDRM -> SHPE -> hands.

``HDRPipeline.load(...)`` builds it from weights (shipped defaults, files, ONNX);
``pipe.predict(image, ablations=("hdr",))`` returns a :class:`PipelineResult` per
ablation, ``result.to_image_prediction(name)`` one line of the predictions file. See
docs/pipeline.md.
"""

from handhdr.pipeline.ablations import ABLATIONS, SWITCHES
from handhdr.pipeline.core import HDRPipeline
from handhdr.pipeline.loading import MissingWeightsError, missing_shipped
from handhdr.pipeline.masks import MIN_MASK_PIXELS
from handhdr.pipeline.result import PipelineHand, PipelineResult

__all__ = [
    "ABLATIONS",
    "MIN_MASK_PIXELS",
    "SWITCHES",
    "HDRPipeline",
    "MissingWeightsError",
    "PipelineHand",
    "PipelineResult",
    "missing_shipped",
]
