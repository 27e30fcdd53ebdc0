"""Path templates with named placeholders (`{study}`, `{model_num}`): checked before any work, so a template
every job would fail on is refused at once with one line."""
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
