"""dlib_torch: learning and evaluating disentangled representations in PyTorch (disentanglement_lib's pipeline).

Layers, top to bottom; a module imports only its own layer and the layers below it (tests/test_layers.py):
  cli/                         one module per command: flags, and the one wrapper for errors and exit statuses
  methods/, postprocessing/,   the stages: models and their trainers, representations, metrics and abstract
  evaluation/, visualize/,     reasoning, pictures and the report, importing published models, semi-supervised
  importer/, validation/,      validation, examples
  examples/
  training/                    the training runtime: the one loop, checkpoints, preemption, the training log,
                               batches and prefetch, model selection, the optimizers
  data/, config/               data sets, held-out splits, factor sampling and scaling / studies, sweeps and
                               their output-directory templates (the studies' sweep.py files, installed as
                               dlib_torch.studies from configs/studies/, are of this layer)
  utils/                       records, output directories and manifests, locks, validation, atomic writes,
                               threads, progress
Within the stages, evaluation never imports methods (what both need lives lower) and a metric never imports
visualize (the evaluation stage hands its matrices to visualize for pictures).
"""
__version__ = "0.1.0"
