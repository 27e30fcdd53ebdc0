"""Pieces shared by the training methods: architectures, reconstruction losses, optimizers."""
