"""Where a study's runs write: the output-directory templates of dtl_reproduce, dtl_import, dtl_submit and
dtl_udr, with their placeholders `{study}` and `{model_num}` (the reference's convention)."""
import os

from dlib_torch.utils import templates

def output_directory_for(template, study_name, model_num, model_dir):
    """dtl_reproduce's output directory: the template (default as the reference's) with placeholders filled in."""
    if template is None:
        template = os.path.join("output", "{study}", "{model_num}") if model_dir is None else "output"
    return templates.fill(template, "--output_directory", model_num=model_num, study=study_name)
