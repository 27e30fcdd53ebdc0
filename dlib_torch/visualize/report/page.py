"""The report page: sections of figures (PNG files beside index.html), tables (HTML, and a CSV each) and notes.

Every figure and table has a one-line caption; what a section could not draw is a note, never an error.
Files are written atomically; the page itself (index.html, inline CSS, no scripts or remote resources) last.
"""
import html
import os

from matplotlib.figure import Figure

from dlib_torch.utils import atomic

STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1300px;
       color: #222; padding: 0 1em; }
h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { margin-top: 2.2em; border-bottom: 1px solid #bbb; }
h3 { margin-top: 1.5em; }
nav ul { columns: 2; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption, .caption { color: #444; font-size: .95em; margin: .3em 0 .6em; }
.wide { overflow-x: auto; max-width: 100%; }
table.data { border-collapse: collapse; font-size: .85em; margin: .4em 0 1em; }
table.data th, table.data td { border: 1px solid #ccc; padding: .25em .55em; text-align: right; }
table.data td { white-space: nowrap; }
table.data th { background: #f0f0f0; }
table.data tbody th { text-align: left; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: .4em .8em; margin: .5em 0; font-size: .9em; }
.summary { font-size: 1.05em; }
.gallery figure { overflow-x: auto; max-width: 100%; }
.gallery img { max-width: none; }
a.csv { font-size: .85em; }
"""


LEGEND_ENTRY_WIDTH = 1.9  # inches taken by one column of a figure legend (marker and a label of ~20 characters)


class Page:
    """Collects sections and writes the page and its files into `output_dir`."""

    def __init__(self, output_dir, title, dpi=100):
        self.output_dir = output_dir
        self.title = title
        self.dpi = dpi
        self.summary = []
        self.sections = []
        self.files = []  # every file the page links, relative to output_dir

    def section(self, title, intro=None):
        section = Section(self, title, intro)
        self.sections.append(section)
        return section

    def new_figure(self, num_columns, num_rows, width=3.0, height=2.4, left=0.8, right=0.2, bottom=0.9, top=0.4,
                   wspace=0.7, hspace=0.9, min_width=0.0):
        """A matplotlib Figure (Agg, no pyplot state) of num_rows x num_columns panels, and its axes [rows, columns].

        Sizes are inches: each panel is width x height, with wspace/hspace between panels and the margins around
        them (a figure narrower than `min_width`, e.g. for its legend, gets wider margins). A fixed layout costs one
        drawing pass where tight_layout costs three, which matters for figures of hundreds of panels.
        """
        panels_width = num_columns * width + (num_columns - 1) * wspace
        if left + right + panels_width < min_width:
            left = right = (min_width - panels_width) / 2
        figure_width = left + right + panels_width
        figure_height = bottom + top + num_rows * height + (num_rows - 1) * hspace
        figure = Figure(figsize=(figure_width, figure_height), dpi=self.dpi)
        axes = figure.subplots(num_rows, num_columns, squeeze=False, gridspec_kw=dict(
            left=left / figure_width, right=1 - right / figure_width, bottom=bottom / figure_height,
            top=1 - top / figure_height, wspace=wspace / width, hspace=hspace / height))
        return figure, axes

    @staticmethod
    def legend(figure, handles, labels, columns):
        """One legend for the whole figure, centred in its top margin (make the figure LEGEND_ENTRY_WIDTH inches
        per column wide with new_figure's min_width)."""
        figure.legend(handles, labels, loc="upper center", ncol=max(1, min(len(labels), columns)), fontsize=8,
                      bbox_to_anchor=(0.5, 1.0), frameon=False)

    def save_figure(self, figure, name):
        relative = name + ".png"
        with atomic.atomic_path(os.path.join(self.output_dir, relative)) as tmp:
            figure.savefig(tmp, format="png", dpi=self.dpi)
        self.files.append(relative)
        return relative

    def save_csv(self, frame, name, index=True):
        relative = os.path.join("tables", name + ".csv")
        with atomic.atomic_path(os.path.join(self.output_dir, relative)) as tmp:
            frame.to_csv(tmp, index=index)
        self.files.append(relative)
        return relative

    def copy_file(self, source, relative):
        atomic.copy_file(source, os.path.join(self.output_dir, relative))
        self.files.append(relative)
        return relative

    def write(self):
        """Writes index.html (after every file it links); returns its path."""
        parts = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
                 "<title>{}</title><style>{}</style></head><body>".format(html.escape(self.title), STYLE),
                 "<h1>{}</h1>".format(html.escape(self.title))]
        parts += ["<p class='summary'>{}</p>".format(html.escape(line)) for line in self.summary]
        shown = [s for s in self.sections if s.has_content]
        skipped = [s for s in self.sections if not s.has_content]
        parts.append("<nav><ul>{}</ul></nav>".format("".join(
            "<li><a href='#{}'>{}</a></li>".format(s.anchor, html.escape(s.title)) for s in shown)))
        for section in shown:
            parts.append(section.html())
        if skipped:
            # Families these records cannot feed: one line each, at the end, so the page stays about its results.
            parts.append("<section id='skipped'><h2>Not drawn from these records</h2><ul>{}</ul></section>".format(
                "".join("<li><b>{}</b>: {}</li>".format(html.escape(s.title), " ".join(
                    html.escape(n) for n in s.notes)) for s in skipped)))
        parts.append("</body></html>")
        path = os.path.join(self.output_dir, "index.html")
        atomic.write_text(path, "\n".join(parts) + "\n")
        return path


class Section:
    """One part of the page: a heading, an introduction, then figures, tables and notes in order."""

    def __init__(self, page, title, intro):
        self.page = page
        self.title = title
        self.anchor = "section{}".format(len(page.sections))
        self.items = []
        self.notes = []
        self.has_content = False  # True once a figure, table or image is shown
        if intro:
            self.items.append("<p>{}</p>".format(html.escape(intro)))

    def heading(self, text):
        self.items.append("<h3>{}</h3>".format(html.escape(text)))

    def figure(self, figure, name, caption):
        """Saves a matplotlib figure as `<name>.png` and shows it with its caption."""
        self.has_content = True
        relative = self.page.save_figure(figure, name)
        self.items.append("<figure><img src='{}' alt='{}'><figcaption>{}</figcaption></figure>".format(
            html.escape(relative), html.escape(caption), html.escape(caption)))

    def table(self, frame, name, caption, csv_frame=None, index=True):
        """Shows `frame` as an HTML table and writes `csv_frame` (default: `frame`; its index is not written) to
        tables/<name>.csv."""
        self.has_content = True
        if csv_frame is None:
            relative = self.page.save_csv(frame, name, index=index)
        else:
            relative = self.page.save_csv(csv_frame, name, index=False)
        table_html = frame.to_html(classes="data", border=0, index=index, na_rep="–", escape=True,
                                   float_format=_format_float)
        self.items.append("<p class='caption'>{} <a class='csv' href='{}'>(CSV)</a></p>"
                          "<div class='wide'>{}</div>".format(html.escape(caption), html.escape(relative), table_html))

    def data(self, frame, name, caption, index=False):
        """Writes the numbers behind a figure to tables/<name>.csv and links it."""
        relative = self.page.save_csv(frame, name, index=index)
        self.items.append("<p class='caption'>{} <a class='csv' href='{}'>(CSV)</a></p>".format(
            html.escape(caption), html.escape(relative)))

    def gallery(self, images):
        """Images already in the output directory: [(relative path, caption)], one under the other at their own size
        (a narrow window scrolls an image sideways rather than shrinking it past reading)."""
        self.has_content = True
        self.items.append("<div class='gallery'>{}</div>".format("".join(
            "<figure><a href='{0}'><img src='{0}' alt='{1}'></a><figcaption>{1}</figcaption></figure>".format(
                html.escape(path), html.escape(caption)) for path, caption in images)))

    def note(self, text):
        self.notes.append(text)
        self.items.append("<p class='note'>{}</p>".format(html.escape(text)))

    def html(self):
        return "<section id='{}'><h2>{}</h2>\n{}\n</section>".format(self.anchor, html.escape(self.title),
                                                                     "\n".join(self.items))


def mean_std(mean, std):
    """'8.59 ± 0.31' (three decimals below 10, one above); the mean alone when there is no spread; '–' if no mean."""
    if mean != mean or mean is None:
        return "–"
    digits = "{:.3f}" if abs(mean) < 10 else "{:.1f}"
    return digits.format(mean) if std != std or std is None else digits.format(mean) + " ± " + digits.format(std)


def _format_float(value):
    return "{:.4g}".format(value)
