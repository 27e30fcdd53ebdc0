"""The training runtime every trainer uses: the one loop (loop.py), checkpoints, preemption, the training log,
batches and prefetch, model selection, the optimizers, and the thread and device choice."""
