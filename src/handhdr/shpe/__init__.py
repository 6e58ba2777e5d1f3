"""SHPE: single-hand 3D pose estimation behind one small interface.

* :mod:`~handhdr.shpe.interface` -- the contract every estimator follows
  (:class:`SingleHandEstimator`, :class:`HandPoseResult`) and the scale rules;
* :mod:`~handhdr.shpe.estimators` -- estimators by name (``detnet``, ``mediapipe``);
* :mod:`~handhdr.shpe.hands` -- a hand of an image as a right-hand crop and back;
* DetNet, the paper's estimator: :mod:`~handhdr.shpe.detnet` (network),
  :mod:`~handhdr.shpe.targets` (targets and readout), :mod:`~handhdr.shpe.loss`
  (eq. 5), :mod:`~handhdr.shpe.estimator`, :mod:`~handhdr.shpe.runtime` (PyTorch and
  ONNX Runtime), :mod:`~handhdr.shpe.weights`;
* training: :mod:`~handhdr.shpe.crops` (context crops and their cache),
  :mod:`~handhdr.shpe.augment`, :mod:`~handhdr.shpe.data`, :mod:`~handhdr.shpe.config`,
  :mod:`~handhdr.shpe.training` (the ``shpe`` stage of ``handhdr train``);
* :mod:`~handhdr.shpe.mediapipe_hands` -- MediaPipe Hands (optional extra);
* :mod:`~handhdr.shpe.evaluate` -- the ``handhdr eval-shpe`` protocol.
"""
