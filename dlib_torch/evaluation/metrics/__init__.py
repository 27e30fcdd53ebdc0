"""Disentanglement metrics, one per module (DESIGN §5).

Each module's `compute_x(ground_truth_data, representation_function, random_state, artifact_dir=None, **params)`
takes the metric interface of disentanglement_lib: `ground_truth_data`, the GroundTruthData sampled from;
`representation_function`, which maps a numpy batch of observations to codes [batch, num_codes];
`random_state`, the numpy RandomState every draw uses (classifiers' seeds derive from it); `artifact_dir`, a
folder for pictures and matrices (None: none are written). Its docstring lists only the metric's own parameters.
"""
