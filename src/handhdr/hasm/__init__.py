"""HASM, the Hand Amodal Segmentation Module (paper Sec. 3.2).

* :mod:`~handhdr.hasm.model` -- :class:`HASM` (SegFormer MiT encoder + all-MLP decoder
  with four heads: right amodal, right visible, left amodal, left visible),
  :class:`HASMConfig`, MiT b0-b5 sizes, :func:`build_hasm` (pretrained MiT or random);
* :mod:`~handhdr.hasm.loss` -- equation (1);
* :mod:`~handhdr.hasm.windows`, :mod:`~handhdr.hasm.augment` -- square crops and
  paste-back, training views (scale/crop, photometric jitter, left-right flip that
  swaps the hands' labels);
* :mod:`~handhdr.hasm.data`, :mod:`~handhdr.hasm.training` -- the ``hasm`` stage of
  ``handhdr train`` on the shared trainer (:mod:`handhdr.training`);
* :mod:`~handhdr.hasm.inference` -- coarse-to-fine :class:`HASMPredictor` on any image;
  :mod:`~handhdr.hasm.runtime` -- PyTorch / ONNX Runtime backends and ONNX export;
* :mod:`~handhdr.hasm.weights` -- weights files, :func:`hasm_predictor` (``default`` =
  the shipped lite weights);
* :mod:`~handhdr.hasm.chirality` -- the two cues whose parity is a hand's side;
  :mod:`~handhdr.hasm.side`, :mod:`~handhdr.hasm.side_training` -- not in the paper:
  the side classifier that orders the masks of a side-invariant HASM (the ``side``
  stage of ``handhdr train``);
* :mod:`~handhdr.hasm.metrics`, :mod:`~handhdr.hasm.evaluate` -- the ``handhdr
  eval-seg`` protocol; :mod:`~handhdr.hasm.fixtures` -- tiny datasets for tests.
"""
