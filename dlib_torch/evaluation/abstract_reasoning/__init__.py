"""Abstract visual reasoning on procedurally generated matrices (PGMs) on top of a representation.

van Steenkiste et al., "Are Disentangled Representations Helpful for Abstract Visual Reasoning?", NeurIPS 2019
(https://arxiv.org/abs/1905.12506); the stage `dtl_reason` (reason.py).
"""
