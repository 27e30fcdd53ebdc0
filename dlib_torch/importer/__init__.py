"""Importing disentanglement_lib's trained models (TF-Hub modules, TF checkpoints, records) without TensorFlow."""
