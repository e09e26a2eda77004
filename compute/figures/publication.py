"""Figures sized for a journal page: single- or double-column width, height kept in the on-screen proportion,
print font sizes, no blank margins, 300 dpi for raster output.

Journal column widths follow the common author guidelines (Nature, Cell Press, PLOS): a single column is
89 mm and a double column 183 mm. Page sizes are in CSS pixels, 96 per inch, as the exporter (kaleido and
Chromium) lays the page out; a PDF page of ``w`` px is ``w * 72 / 96`` pt wide.
"""

from __future__ import annotations

import plotly.graph_objects as go

__all__ = ["EXPORT_CHOICES", "JOURNAL_WIDTHS_MM", "PRINT_DPI", "export_choice", "export_scale", "mm_to_px",
           "publication_figure"]

JOURNAL_WIDTHS_MM = {"single": 89.0, "double": 183.0}
PRINT_DPI = 300
SCREEN_WIDTH_PX = 1000  #: the width the app's figures are designed at (their height is for this width)
#: the export menu: choice -> (format, journal width); "svg" keeps the on-screen size for editing
EXPORT_CHOICES = {
    "pdf-single": ("pdf", "single"), "pdf-double": ("pdf", "double"),
    "png-single": ("png", "single"), "png-double": ("png", "double"),
    "svg": ("svg", None),
}


def mm_to_px(mm: float) -> float:
    """Millimetres as CSS pixels (96 per inch).

    Parameters
    ----------
    mm : float

    Returns
    -------
    float
    """
    return mm / 25.4 * 96.0


def publication_figure(fig: go.Figure, column: str) -> tuple[go.Figure, int, int]:
    """A copy of ``fig`` laid out for a journal column.

    Parameters
    ----------
    fig : go.Figure
    column : {"single", "double"}

    Returns
    -------
    figure : go.Figure
        Print fonts (7 pt text, 8 pt titles at single width; 8/9 pt at double), tight margins, a white
        background; every trace keeps its name, and named traces are listed in the legend.
    width, height : int
        CSS pixels: the column's width, and the on-screen height scaled by the same factor (at least 40% of
        the width).

    Raises
    ------
    ValueError
        Unknown column.
    """
    if column not in JOURNAL_WIDTHS_MM:
        raise ValueError(f"column must be one of {', '.join(JOURNAL_WIDTHS_MM)}; got {column!r}")
    width = mm_to_px(JOURNAL_WIDTHS_MM[column])
    screen_height = float(fig.layout.height or 500)
    height = max(screen_height * width / SCREEN_WIDTH_PX * 1.25, 0.4 * width)  # text stays legible when shrunk
    out = go.Figure(fig)
    size = 7 if column == "single" else 8
    out.update_layout(font={"size": size}, title_font={"size": size + 1}, legend_font={"size": size},
                      margin={"l": 4, "r": 4, "t": 24 if out.layout.title.text else 6, "b": 4, "autoexpand": True},
                      paper_bgcolor="white", plot_bgcolor="white", width=None, height=None)
    out.update_xaxes(automargin=True, title_font={"size": size}, tickfont={"size": size})
    out.update_yaxes(automargin=True, title_font={"size": size}, tickfont={"size": size})
    return out, round(width), round(height)


def export_choice(choice: str) -> tuple[str, str | None, float]:
    """What an export-menu choice asks for.

    Parameters
    ----------
    choice : str
        A key of :data:`EXPORT_CHOICES`, or a bare format (``pdf``, ``png``, ``svg``: on-screen size).

    Returns
    -------
    tuple of (str, str or None, float)
        The file format, the journal column (None: on-screen size) and the exporter's scale: 300 / 96 for a PNG
        at a journal width (300 dpi), 2 for a screen-size PNG, 1 for PDF and SVG (a larger scale would
        enlarge their pages).

    Raises
    ------
    ValueError
        Unknown choice.
    """
    if choice in ("pdf", "png", "svg"):
        return choice, None, export_scale(choice, None)
    if choice not in EXPORT_CHOICES:
        raise ValueError(f"unknown export {choice!r}; use one of {', '.join(EXPORT_CHOICES)}")
    fmt, column = EXPORT_CHOICES[choice]
    return fmt, column, export_scale(fmt, column)


def export_scale(fmt: str, column: str | None) -> float:
    """The exporter's scale for a format at a journal column (None: on-screen size).

    Parameters
    ----------
    fmt : str
        ``pdf``, ``png``, ``svg`` or ``html``.
    column : {"single", "double"} or None

    Returns
    -------
    float
        300 / 96 for a PNG at a journal width (300 dpi), 2 for a screen-size PNG, 1 otherwise: the exporter
        multiplies a PDF's or SVG's page by the scale too, so vector formats are drawn at scale 1.
    """
    return (PRINT_DPI / 96.0 if column else 2.0) if fmt == "png" else 1.0
