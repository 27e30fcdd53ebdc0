"""MkDocs hook: a page under docs/ that mkdocs.yml's nav does not list still gets a place in the nav.

It joins the section that lists the other pages of its folder (docs/metrics/my_metric.md goes under
"Metrics", after the listed pages), or a new section named after its folder, or the end of the nav for a
top-level page; its title is its first heading. Adding a page is then adding a file.
"""
import os
import posixpath


def on_config(config):
    """Appends the pages the nav omits (sorted by path) to their folder's section."""
    nav = config["nav"]
    if not nav:
        return config  # no nav: MkDocs lists every page itself
    listed = set(_pages(nav))
    for path in sorted(set(_markdown_files(config["docs_dir"])) - listed):
        folder = posixpath.dirname(path)
        section = _section_of(nav, folder) if folder else None
        if section is not None:
            section.append(path)
        elif folder:
            nav.append({folder.replace("_", " ").replace("-", " ").capitalize(): [path]})
        else:
            nav.append(path)
    return config


def _markdown_files(docs_dir):
    """Every .md file under `docs_dir`, as a '/'-separated path relative to it (hidden and _ folders aside)."""
    for directory, subdirs, files in os.walk(docs_dir):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith((".", "_")))
        relative = os.path.relpath(directory, docs_dir)
        for name in files:
            if name.endswith(".md"):
                yield posixpath.normpath(posixpath.join(relative.replace(os.sep, "/"), name))


def _pages(items):
    """The page paths a nav (list) lists, at any depth; external links aside."""
    for item in items:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            yield from _pages(value)
        elif isinstance(value, str) and "://" not in value:
            yield posixpath.normpath(value)


def _section_of(items, folder):
    """The innermost nav list holding a page of `folder`, or None."""
    for item in items:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            inner = _section_of(value, folder)
            if inner is not None:
                return inner
    for page in (_direct_page(item) for item in items):
        if page is not None and posixpath.dirname(posixpath.normpath(page)) == folder:
            return items
    return None


def _direct_page(item):
    """The page path of a nav entry that is a page (not a section or a link), else None."""
    value = next(iter(item.values())) if isinstance(item, dict) else item
    return value if isinstance(value, str) and "://" not in value else None
