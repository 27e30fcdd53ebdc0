"""Weakly-supervised disentanglement (Locatello et al., ICML 2020): pair data and group/ML-VAE models."""
