"""dlib_torch: learning and evaluating disentangled representations in PyTorch (disentanglement_lib's pipeline)."""
__version__ = "0.1.0"
