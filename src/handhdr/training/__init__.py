"""The trainer every stage shares (Lightning), and what goes with it.

* :mod:`~handhdr.training.config` -- YAML configs + ``key=value`` overrides
  (:func:`load_config`);
* :mod:`~handhdr.training.trainer` -- :class:`Stage` (how a stage plugs in),
  :func:`fit` (run folder, checkpoints, resume, logs, DDP, mixed precision);
* :mod:`~handhdr.training.sources` -- dataset folders (InterHand2.6M layout, AIH_Syn,
  AIH_Render) as readers of samples;
* :mod:`~handhdr.training.schedule` -- poly schedule with linear warm-up;
* :mod:`~handhdr.training.weights` -- safetensors weights with metadata, the shipped
  weights folder, model cards; :mod:`~handhdr.training.export` -- checkpoint to
  shipped weights.

Nothing is imported here, so that importing a light module does not load Lightning.
"""
