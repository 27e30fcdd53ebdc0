"""The comparison with the paper's tables: per configuration (never averaging two), our NLLs over its seeds beside
the paper's numbers, with the ratio, the training length and the number of seeds."""
import os

import numpy as np
import pandas as pd
import pytest

from dlib_torch.visualize.report import paper_comparison
from dlib_torch.visualize.report import records as records_lib
from dlib_torch.visualize.report import report
from dlib_torch.visualize.report import synthetic_records

METRICS = ["held_out_reconstruction", "dci"]


def make_page(directory, records):
    """Writes `records` as dtl_aggregate does, loads them back and writes the page; returns (output_dir, html)."""
    path = os.path.join(directory, "results.json")
    synthetic_records.write_aggregate(records, path)
    output_dir = os.path.join(directory, "report")
    os.makedirs(output_dir)
    report.write_page(output_dir, records_lib.Records(records_lib.load([path])), dpi=50)
    with open(os.path.join(output_dir, "index.html"), encoding="utf-8") as f:
        return output_dir, f.read()


def csv(output_dir, name):
    return pd.read_csv(os.path.join(output_dir, "tables", name + ".csv"))


def shortened(records, steps, prefix):
    """The records again, as if trained for `steps` steps (another configuration, other models)."""
    result = []
    for record in records:
        record = dict(record, **{"train_config.model.training_steps": str(steps)})
        record["train_results.uuid"] = prefix + record["train_results.uuid"]
        record["path"] = record["path"].replace("paper_table_dsprites", prefix + "paper_table_dsprites")
        result.append(record)
    return result


@pytest.fixture(scope="module")
def records():
    # paper_table_dsprites: model_num = 21 * seed + 7 * condition + model. GT decoder R2E (6, 27, 48), beta-VAE
    # (beta = 8) R2E (1, 22), GT decoder R2R (13, 34); and the R2R GT decoders again, trained 2,500 steps.
    table = synthetic_records.study_records("paper_table_dsprites", [6, 27, 48, 1, 22, 13, 34], metrics=METRICS)
    short = shortened([r for r in table if r["train_config.model.model_num"] in ("13", "34")], 2500, "short-")
    cpu = synthetic_records.study_records("paper_table_dsprites_cpu", [1], metrics=METRICS)
    return table + short + cpu


def test_one_row_per_configuration_with_the_papers_numbers(records):
    table = paper_comparison.comparison(records_lib.Records(pd.DataFrame(records)))
    full = table[table["dataset"] == "dsprites_full"]
    assert list(full["model"]) == ["β-VAE (β=8)", "GT decoder", "GT decoder (model.training_steps=2500)",
                                   "GT decoder (model.training_steps=5000)"]
    assert list(full["seeds"]) == [2, 3, 2, 2]
    assert list(full["training_steps"]) == [342900, 5000, 2500, 5000]
    gt = full.iloc[1]
    assert (gt["paper_train_nll"], gt["paper_test_nll"], gt["paper_d"]) == (49.80, 60.81, 1.0)
    assert gt["paper_ratio"] == pytest.approx(60.81 / 49.80)
    assert gt["table"].startswith("Montero et al. (2021), dSprites table")
    # Mean and std over the seeds of that configuration only, and the ratio per seed, then averaged.
    ours = [r for r in records if r["train_config.model.model_num"] in ("6", "27", "48")
            and "evaluation_results.train_nll" in r]
    train = np.array([r["evaluation_results.train_nll"] for r in ours])
    test = np.array([r["evaluation_results.test_nll"] for r in ours])
    assert gt["train_nll_mean"] == pytest.approx(train.mean())
    assert gt["train_nll_std"] == pytest.approx(train.std(ddof=1))
    assert gt["ratio_mean"] == pytest.approx(np.mean(test / train))
    assert gt["epochs"] == pytest.approx(5000 * 64 / 1000)  # the records' training combinations
    assert gt["d_key"] == "lasso_disentanglement"
    # The procedural-dSprites 5,000-step β-VAE is its own row, of its own data set, beside the same paper row.
    cpu = table[table["dataset"] == "dsprites_procedural"]
    assert list(cpu["model"]) == ["β-VAE (β=8)"] and list(cpu["training_steps"]) == [5000]
    assert cpu.iloc[0]["paper_test_nll"] == full.iloc[0]["paper_test_nll"] == 24.62


def test_section_on_the_page(tmp_path, records):
    output_dir, text = make_page(str(tmp_path), records)
    written = csv(output_dir, "paper_comparison_dsprites_full")
    assert len(written) == 4 and {"paper_train_nll", "ratio_mean", "training_steps", "seeds"} <= set(written.columns)
    section = text[text.index("<h2>Comparison with the paper"):]
    section = section[:section.index("</section>")]
    assert section.index("paper_comparison_dsprites_full") < section.index("paper_comparison_dsprites_procedural")
    assert "5,000 (3.2e+02 ep.)" in section and "49.8" in section and "held-out / train" in section
    # The generalisation table above it keeps the two GT decoder configurations apart as well.
    generalisation = csv(output_dir, "generalisation_dsprites_full")
    assert sorted(generalisation["models"]) == [2, 2, 2, 3]


def test_no_paper_rows_is_a_note(tmp_path):
    records = synthetic_records.study_records("generalisation_study_v1", [320, 325], metrics=METRICS)  # mpi3d
    _, text = make_page(str(tmp_path), records)
    assert "Comparison with the paper&#x27;s tables</b>: No held_out_reconstruction records" in text
    assert not os.path.exists(os.path.join(str(tmp_path), "report", "tables", "paper_comparison_mpi3d_real.csv"))
