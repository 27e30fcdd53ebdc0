"""Visualisations of data sets and trained models."""
