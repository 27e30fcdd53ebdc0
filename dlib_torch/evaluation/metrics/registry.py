"""Every metric's gin-configurable entry, by gin name; importing this module registers them all with gin.

`EVALUATION_FUNCTIONS` are the `evaluation.evaluation_fn` choices (signature `(ground_truth_data,
representation_function, random_state, artifact_dir=None, **gin_params) -> dict`); `VALIDATION_FUNCTIONS`
score fixed observations `(observations, labels, representation_function, **gin_params) -> dict`.
"""
from dlib_torch.evaluation.metrics import beta_vae
from dlib_torch.evaluation.metrics import composition_reconstruction
from dlib_torch.evaluation.metrics import dci
from dlib_torch.evaluation.metrics import dci_es
from dlib_torch.evaluation.metrics import downstream_task
from dlib_torch.evaluation.metrics import factor_vae
from dlib_torch.evaluation.metrics import fairness
from dlib_torch.evaluation.metrics import held_out_reconstruction
from dlib_torch.evaluation.metrics import infomec
from dlib_torch.evaluation.metrics import irs
from dlib_torch.evaluation.metrics import mig
from dlib_torch.evaluation.metrics import modularity_explicitness
from dlib_torch.evaluation.metrics import reduced_downstream_task
from dlib_torch.evaluation.metrics import sap_score
from dlib_torch.evaluation.metrics import strong_downstream_task
from dlib_torch.evaluation.metrics import unified_scores
from dlib_torch.evaluation.metrics import unsupervised_metrics

EVALUATION_FUNCTIONS = {
    "beta_vae_sklearn": beta_vae.compute_beta_vae_sklearn,
    "factor_vae_score": factor_vae.compute_factor_vae,
    "mig": mig.compute_mig,
    "dci": dci.compute_dci,
    "sap_score": sap_score.compute_sap,
    "modularity_explicitness": modularity_explicitness.compute_modularity_explicitness,
    "irs": irs.compute_irs,
    "unsupervised_metrics": unsupervised_metrics.unsupervised_metrics,
    "downstream_task": downstream_task.compute_downstream_task,
    "reduced_downstream_task": reduced_downstream_task.compute_reduced_downstream_task,
    "strong_downstream_task": strong_downstream_task.compute_strong_downstream_task,
    "fairness": fairness.compute_fairness,
    "held_out_reconstruction": held_out_reconstruction.compute_held_out_reconstruction,
    "unified_scores": unified_scores.compute_unified_scores,
    "dci_es": dci_es.compute_dci_es,
    "infomec": infomec.compute_infomec,
    "composition_reconstruction": composition_reconstruction.compute_composition_reconstruction,
}

VALIDATION_FUNCTIONS = {
    "mig_validation": mig.compute_mig_on_fixed_data,
    "dci_validation": dci.compute_dci_on_fixed_data,
    "sap_score_validation": sap_score.compute_sap_on_fixed_data,
    "unified_score_validation": unified_scores.compute_unified_score_on_fixed_data,
}
