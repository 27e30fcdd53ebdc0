"""Unsupervised disentanglement models and their training stage (`dtl_train`)."""
