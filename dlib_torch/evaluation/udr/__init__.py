"""Unsupervised Disentanglement Ranking (UDR), as disentanglement_lib's evaluation/udr/."""
