"""Representation learning methods (models, losses, training)."""
