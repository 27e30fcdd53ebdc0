"""Evaluation of representations."""
