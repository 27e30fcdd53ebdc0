"""Disentanglement metrics, one per module."""
