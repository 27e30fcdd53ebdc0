"""The validation stage of semi-supervised models (disentanglement_lib/validation)."""
