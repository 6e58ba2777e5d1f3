"""Evaluation: the predictions file every producer writes, and every scoring protocol.

* :mod:`~handhdr.evaluation.predictions` -- read/write/validate the JSON Lines file.
* :mod:`~handhdr.evaluation.metrics` -- one numpy function per metric.
* :mod:`~handhdr.evaluation.matching` -- predictions as arrays on ground-truth rows.
* :mod:`~handhdr.evaluation.protocols` -- the scoring rules and every protocol per subset.
* :mod:`~handhdr.evaluation.report` -- metrics.json, metrics.md, the per-joint chart.
* :mod:`~handhdr.evaluation.run` -- the steps of ``handhdr eval``.
"""

from handhdr.evaluation.predictions import (
    HandPrediction,
    ImagePrediction,
    PredictionsError,
    PredictionsWriter,
    iter_predictions,
    read_predictions,
    write_predictions,
)

__all__ = [
    "HandPrediction",
    "ImagePrediction",
    "PredictionsError",
    "PredictionsWriter",
    "iter_predictions",
    "read_predictions",
    "write_predictions",
]
