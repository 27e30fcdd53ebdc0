"""Turning a trained model into a representation function (mean or sampled)."""
