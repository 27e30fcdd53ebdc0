"""The numbers Montero et al. report for their models ("The Role of Disentanglement in Generalisation", ICLR 2021),
as data: for each data set, held-out split and model, the reconstruction NLL on the training combinations and on
the held-out ones (nats per image, summed Bernoulli NLL with z = mean) and the disentanglement D (DCI with Lasso
importances, on the training combinations; 1 by construction for the ground-truth decoder).

Every row names the table it comes from (`TABLES`). They are the tables the authors' code saved
(`notebooks/postproc.ipynb` of github.com/mmrl/disent-and-gen, commit bff35a7; one run per model, no error
bars), the results of the paper's dSprites and 3DShapes experiments. Splits are the paper's variant names, which
are also this package's (`held_out.split`); models are matched by method and regulariser strength.
"""
import collections
import math

from dlib_torch.data.ground_truth import splits

PaperResult = collections.namedtuple("PaperResult", ["table", "family", "split", "method", "hyperparameter",
                                                     "train_nll", "test_nll", "disentanglement"])

TABLES = {
    "dsprites": "Montero et al. (2021), dSprites table (saved by the authors' notebooks/postproc.ipynb)",
    "shapes3d": "Montero et al. (2021), 3DShapes table (saved by the authors' notebooks/postproc.ipynb)",
}
# The splits of each table in its column order: recombination to element, to range, extrapolation.
TABLE_SPLITS = {"dsprites": ("leave1out", "shape2tx", "blank_side"),
                "shapes3d": ("leave1out", "shape2ohue", "fhue_gt50")}
# The rows of each table: (method as model.name, regulariser strength: vae.beta or factor_vae.gamma).
TABLE_MODELS = (("beta_vae", 1.), ("beta_vae", 8.), ("beta_vae", 12.), ("factor_vae", 20.), ("factor_vae", 50.),
                ("factor_vae", 100.), ("gt_decoder", None))
# Per row of TABLE_MODELS: (train NLL, held-out NLL, D) for each split of TABLE_SPLITS, in order.
_NUMBERS = {
    "dsprites": (
        (8.59, 8.06, 0.286, 18.82, 200.36, 0.278, 29.04, 3576.8, 0.286),
        (34.95, 24.62, 0.765, 102.90, 215.95, 0.474, 45.81, 2810.5, 0.510),
        (37.34, 24.92, 0.556, 54.21, 154.90, 0.503, 117.65, 3127.9, 0.806),
        (27.64, 27.53, 0.483, 28.00, 130.56, 0.356, 24.43, 2007.4, 0.688),
        (23.77, 22.58, 0.391, 27.99, 153.98, 0.387, 25.41, 2386.4, 0.729),
        (32.39, 24.88, 0.503, 57.40, 100.61, 0.612, 37.13, 3962.4, 0.809),
        (49.80, 60.81, 1.0, 46.83, 138.97, 1.0, 40.67, 2188.8, 1.0)),
    "shapes3d": (
        (3481.1, 3923.3, 0.217, 3482.3, 4294.9, 0.191, 3466.4, 15761.5, 0.188),
        (3487.8, 3927.4, 0.724, 3486.0, 4482.6, 0.460, 3478.6, 16011.9, 0.568),
        (3500.7, 3940.5, 0.835, 3496.2, 5077.1, 0.573, 3469.8, 15790.6, 0.722),
        (3497.8, 3936.0, 0.901, 3499.9, 4602.6, 0.697, 3483.6, 16879.4, 0.908),
        (3503.0, 3943.7, 0.586, 3503.6, 5275.7, 0.815, 3484.0, 21371.3, 0.865),
        (3520.1, 3958.1, 0.535, 3500.1, 5095.8, 0.629, 3502.2, 20858.7, 0.692),
        (3519.9, 3961.0, 1.0, 3520.5, 3944.9, 1.0, 3486.8, 13215.3, 1.0)),
}
# Our data sets that are the paper's (procedural dSprites renders the published factor grid).
DATASET_FAMILIES = {"dsprites_full": "dsprites", "dsprites_procedural": "dsprites", "shapes3d": "shapes3d"}


def paper_results():
    """Every reported number, one PaperResult per (table, split, model)."""
    rows = []
    for family, numbers in _NUMBERS.items():
        for (method, hyperparameter), values in zip(TABLE_MODELS, numbers):
            for i, split in enumerate(TABLE_SPLITS[family]):
                train_nll, test_nll, disentanglement = values[3 * i:3 * i + 3]
                rows.append(PaperResult(TABLES[family], family, split, method, hyperparameter, train_nll,
                                        test_nll, disentanglement))
    return rows


def lookup(dataset, split, method, hyperparameter):
    """The paper's result for a model of ours (data set name, `held_out.split` as a split or condition name,
    model.name, regulariser strength or None/NaN), or None when the paper reports none."""
    family = DATASET_FAMILIES.get(dataset)
    split = splits.CONDITIONS.get(family, {}).get(split, split)
    for row in paper_results():
        if (row.family, row.split, row.method) == (family, split, method) and _same(row.hyperparameter,
                                                                                       hyperparameter):
            return row
    return None


def _same(a, b):
    a, b = (None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in (a, b))
    return a == b
