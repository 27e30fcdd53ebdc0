"""Where a study's runs write: the output-directory templates of dtl_reproduce, dtl_import, dtl_submit and
dtl_udr, with their placeholders `{study}` and `{model_num}` (the reference's convention)."""
import os
import string

from dlib_torch.utils.errors import UserError

PLACEHOLDERS = ("study", "model_num")


def check_template(template, flag, allowed=PLACEHOLDERS):
    """Refuses (one line) a template with another placeholder than `allowed`, or a stray brace."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as e:
        raise UserError("{} {!r} is not a valid template ({}); write a literal brace as {{{{ or }}}}".format(
            flag, template, e)) from None
    for field in fields:
        if field not in allowed:
            raise UserError("{} {!r} may only use the placeholders {}; it uses {{{}}}".format(
                flag, template, " and ".join("{" + name + "}" for name in allowed), field))
    return template


def fill(template, flag, allowed=PLACEHOLDERS, **values):
    """The template with its placeholders filled in (checked first)."""
    check_template(template, flag, allowed)
    return template.format(**values)


def output_directory_for(template, study_name, model_num, model_dir):
    """dtl_reproduce's output directory: the template (default as the reference's) with placeholders filled in."""
    if template is None:
        template = os.path.join("output", "{study}", "{model_num}") if model_dir is None else "output"
    return fill(template, "--output_directory", model_num=model_num, study=study_name)
