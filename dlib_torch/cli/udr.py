"""dtl_udr: Unsupervised Disentanglement Ranking of trained models (disentanglement_lib's dlib_udr).

Examples:
  dtl_udr --model_dirs=out/a/model,out/b/model,out/c/model --output_dir=out/udr [--gin_config=udr.gin]
  dtl_udr --study=quickstart --output_directory=output --group_by=model.name

With --model_dirs: one record, <output_dir>/results/aggregate/evaluation.json, with `model_scores` in the order
of the model dirs (the reference's layout; --output_directory is accepted for --output_dir, as the reference's
README spells it). With --study: every finished model of the study under --output_directory (a root holding
<study>/<model_num>/, or a dtl_reproduce template with {study} and {model_num}) is ranked within its group
(models with the same values of the --group_by train gin parameters) and gets a record
<model output>/metrics/mean/udr/ (key `udr`), beside its other metrics.
Without a gin file, UDR uses `udr_sklearn` on 1,000 observations of the models' own data set, Lasso correlations.
"""
from absl import flags

from dlib_torch.cli import common
from dlib_torch.utils.errors import UserError


def main(argv):
    del argv
    FLAGS = flags.FLAGS
    output_dir = FLAGS.output_dir
    if FLAGS.output_directory is not None:
        if output_dir is not None and output_dir != FLAGS.output_directory:
            raise UserError("--output_dir and --output_directory name different directories; give one")
        output_dir = FLAGS.output_directory
    if bool(FLAGS.model_dirs) == bool(FLAGS.study):
        raise UserError("give either --model_dirs=A,B,... (models to compare) or --study=NAME (rank the finished "
                        "models of a study)")
    if output_dir is None:
        if FLAGS.model_dirs:
            raise UserError("--output_dir is required with --model_dirs")
        output_dir = "output"
    if FLAGS.model_dirs:
        from dlib_torch.evaluation.udr import evaluate
        scores = evaluate.evaluate_with_gin(FLAGS.model_dirs, output_dir, FLAGS.overwrite, FLAGS.gin_config,
                                            FLAGS.gin_bindings)
        print("dtl_udr: model_scores {} written to {}".format(
            ", ".join("{:.3f}".format(s) for s in scores["model_scores"]), output_dir))
        return
    from dlib_torch.config import reproduce as studies
    study = studies.get_study(FLAGS.study)
    template = output_dir if "{model_num}" in output_dir else output_dir.rstrip("/") + "/{study}/{model_num}"
    group_by = [key.strip() for key in FLAGS.group_by if key.strip()]
    if not group_by:
        raise UserError("--group_by is empty; name train gin parameters, e.g. --group_by=dataset.name,model.name")
    from dlib_torch.evaluation.udr import evaluate
    evaluate.evaluate_study_with_gin(study, template, group_by, FLAGS.overwrite, FLAGS.gin_config,
                                     FLAGS.gin_bindings)


def run():
    flags.DEFINE_list("model_dirs", [], "Comma-separated trained model directories to compare.")
    flags.DEFINE_string("output_dir", None, "Directory of the UDR record (--model_dirs), or the study root.")
    flags.DEFINE_string("output_directory", None, "Same as --output_dir (the reference README's spelling).")
    flags.DEFINE_string("study", None, "Rank the finished models of this study (a shipped name or a folder).")
    flags.DEFINE_list("group_by", ["dataset.name", "model.name"],
                      "With --study: train gin parameters whose values make a group of models ranked together.")
    common.define_gin_flags()
    flags.DEFINE_string("gin_evaluation_config_glob", None, "Accepted for the reference's command line; unused.")
    flags.DEFINE_boolean("overwrite", False, "Replace finished records.")
    common.run_main(main, "dtl_udr")


if __name__ == "__main__":
    run()
