"""The paper's reported numbers as data: every row of its dSprites and 3DShapes tables, each naming its table, and
the lookup that matches a model of ours by data set, split (or condition) and model."""
import math

import pytest

from dlib_torch.config import paper_results
from dlib_torch.data.ground_truth import splits


def test_every_row_and_column_of_both_tables():
    rows = paper_results.paper_results()
    assert len(rows) == 2 * 3 * 7  # two tables, three conditions, seven models
    assert {row.table for row in rows} == set(paper_results.TABLES.values())
    for family in ("dsprites", "shapes3d"):
        of_table = [r for r in rows if r.family == family]
        assert {r.split for r in of_table} == set(paper_results.TABLE_SPLITS[family])
        assert {r.table for r in of_table} == {paper_results.TABLES[family]}
        assert all(r.train_nll > 0 and r.test_nll > 0 and 0 < r.disentanglement <= 1 for r in of_table)
        # The splits are the package's named splits of that family (the paper's variant names).
        assert set(paper_results.TABLE_SPLITS[family]) <= set(splits.NAMED_SPLITS[family])
        # The ground-truth decoder's D is 1 by construction.
        assert {r.disentanglement for r in of_table if r.method == "gt_decoder"} == {1.0}


@pytest.mark.parametrize("query, expected", [
    (("dsprites_full", "leave1out", "gt_decoder", None), (49.80, 60.81, 1.0)),
    (("dsprites_procedural", "recombination_to_range", "gt_decoder", math.nan), (46.83, 138.97, 1.0)),
    (("dsprites_full", "blank_side", "beta_vae", 1.0), (29.04, 3576.8, 0.286)),
    (("dsprites_full", "shape2tx", "beta_vae", 12.0), (54.21, 154.90, 0.503)),
    (("dsprites_full", "extrapolation", "factor_vae", 100.0), (37.13, 3962.4, 0.809)),
    (("shapes3d", "shape2ohue", "factor_vae", 50.0), (3503.6, 5275.7, 0.815)),
    (("shapes3d", "fhue_gt50", "gt_decoder", None), (3486.8, 13215.3, 1.0)),
])
def test_lookup_matches_data_set_split_method_and_strength(query, expected):
    row = paper_results.lookup(*query)
    assert (row.train_nll, row.test_nll, row.disentanglement) == expected


@pytest.mark.parametrize("query", [
    ("mpi3d_real", "leave1out", "beta_vae", 8.0),      # no MPI3D numbers are stored
    ("dsprites_full", "interp_posX", "beta_vae", 8.0),  # no interpolation column
    ("dsprites_full", "leave1out", "beta_vae", 4.0),    # no such strength
    ("dsprites_full", "leave1out", "annealed_vae", 20.0),
    ("color_dsprites", "leave1out", "beta_vae", 8.0),   # not the paper's data
])
def test_lookup_of_what_the_paper_does_not_report_is_none(query):
    assert paper_results.lookup(*query) is None
