"""Shipped studies: one folder per study (model_configs/, postprocess_configs/, metric_configs/, sweep.py).

This directory installs as the package `dlib_torch.studies`, so the studies are found from any install.
"""
