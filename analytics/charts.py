"""Charts for the notebooks and the HTML report (matplotlib, drawn by Agg).

Titles, axes and legends speak the report's language (``analytics.language.speak`` forces it
in the kernel; with no language forced they read in English), and quadrants, causes,
directions and the other codes appear by their labels. Chinese text falls back to a CJK font
(Noto Sans CJK, which Debian's fonts-noto-cjk installs) for the glyphs the default font lacks.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from babel.dates import format_skeleton
from flask_babel import format_percent, get_locale
from flask_babel import gettext as _
from matplotlib import dates as mdates
from matplotlib import font_manager
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path
from matplotlib.ticker import FuncFormatter

from analytics.language import Words
from analytics.quadrants import row_shares

COLOURS = {
    "develop": "#9aa5b1",
    "maintain": "#5fa8d3",
    "cultivate": "#f2a541",
    "pamper": "#c0392b",
    "new": "#7f8c8d",
}
# The codes a chart may show, whatever kind: quadrants first (rows and columns of a matrix).
KINDS = ("quadrant", "direction", "cause", "category", "channel", "stage", "intent")
FONTS = ["DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei"]


def setup() -> None:
    """Draw text in the default font with a CJK font for the glyphs it lacks, from now on
    (call once, before drawing)."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    mpl.rcParams["font.family"] = [f for f in FONTS if f in installed] or ["sans-serif"]


def _label(key) -> str:
    """A code by its label in the language forced, else the key as it is (a branch's or a
    staff member's name)."""
    words = Words("")
    for kind in KINDS:
        text = words.label(kind, key)
        if text != str(key):
            return text
    return words.column(key)


def _percent(share: float) -> str:
    return format_percent(share, "#,##0%")


def _axes(ax, size=(6, 5)):
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def heatmap(matrix: pd.DataFrame, ax=None, title: str | None = None):
    """A transition matrix as a heatmap of row shares, each cell labelled with its count
    and share."""
    ax = _axes(ax)
    shares = row_shares(matrix)
    image = ax.imshow(shares.to_numpy(dtype=float), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(matrix.columns)), [_label(c) for c in matrix.columns])
    ax.set_yticks(range(len(matrix.index)), [_label(i) for i in matrix.index])
    ax.set_xlabel(_("Quadrant at the end of the period"))
    ax.set_ylabel(_("Quadrant at the start of the period"))
    for i in range(len(matrix.index)):
        for j in range(len(matrix.columns)):
            share = shares.iat[i, j]
            ax.text(
                j,
                i,
                f"{int(matrix.iat[i, j])}\n{_percent(share)}",
                ha="center",
                va="center",
                color="white" if share > 0.6 else "black",
                fontsize=9,
            )
    ax.figure.colorbar(image, ax=ax, label=_("Share of the row"))
    ax.set_title(title or _("Quadrant migration"))
    return ax


def flow(matrix: pd.DataFrame, ax=None, title: str | None = None):
    """Customers flowing from their quadrant at the start (left) to the end (right): band
    widths are counts, coloured by the quadrant they left."""
    ax = _axes(ax, (7, 5))
    counts = matrix.to_numpy(dtype=float)
    total = counts.sum()
    ax.set_axis_off()
    ax.set_title(title or _("Moves between quadrants"))
    if total == 0:
        ax.text(0.5, 0.5, _("No customers in the period."), ha="center", va="center")
        return ax
    gap = total * 0.03
    left_sizes, right_sizes = counts.sum(axis=1), counts.sum(axis=0)
    left_top = _tops(left_sizes, gap)
    right_top = _tops(right_sizes, gap)
    width = 0.08
    for k, name in enumerate(matrix.index):
        _block(ax, 0, left_top[k], left_sizes[k], width, str(name))
    for k, name in enumerate(matrix.columns):
        _block(ax, 1 - width, right_top[k], right_sizes[k], width, str(name), right=True)
    out_offset = left_top.copy()
    in_offset = right_top.copy()
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            size = counts[i, j]
            if size <= 0:
                continue
            y0, y1 = out_offset[i], in_offset[j]
            out_offset[i] -= size
            in_offset[j] -= size
            _band(ax, width, 1 - width, y0, y1, size, COLOURS.get(str(matrix.index[i]), "grey"))
    ax.set_xlim(-0.25, 1.25)
    ax.set_ylim(-gap, left_top.max() + gap)
    return ax


def _tops(sizes: np.ndarray, gap: float) -> np.ndarray:
    """Top edge of each stacked block, first at the top."""
    height = sizes.sum() + gap * (len(sizes) - 1)
    tops = np.empty(len(sizes))
    y = height
    for k, size in enumerate(sizes):
        tops[k] = y
        y -= size + gap
    return tops


def _block(ax, x, top, size, width, label, right=False):
    colour = COLOURS.get(label, "grey")
    ax.add_patch(Rectangle((x, top - size), width, size, color=colour))
    if size > 0:
        ax.text(
            x + (width + 0.02 if right else -0.02),
            top - size / 2,
            f"{_label(label)} {int(size)}",
            ha="left" if right else "right",
            va="center",
            fontsize=9,
        )


def _band(ax, x0, x1, top0, top1, size, colour):
    middle = (x0 + x1) / 2
    vertices = [
        (x0, top0),
        (middle, top0),
        (middle, top1),
        (x1, top1),
        (x1, top1 - size),
        (middle, top1 - size),
        (middle, top0 - size),
        (x0, top0 - size),
        (x0, top0),
    ]
    codes = [
        Path.MOVETO,
        Path.CURVE4,
        Path.CURVE4,
        Path.CURVE4,
        Path.LINETO,
        Path.CURVE4,
        Path.CURVE4,
        Path.CURVE4,
        Path.CLOSEPOLY,
    ]
    ax.add_patch(PathPatch(Path(vertices, codes), facecolor=colour, alpha=0.45, lw=0))


def bars(
    table: pd.DataFrame,
    ax=None,
    title: str | None = None,
    stacked: bool = True,
    shares: bool = False,
    **kw,
):
    """A table's columns as (stacked) horizontal bars per row (``shares``: an axis of
    percentages)."""
    ax = _axes(ax, (7, max(2.5, 0.4 * len(table) + 1)))
    if table.empty:
        ax.set_axis_off()
        ax.text(0.5, 0.5, _("Nothing in the period."), ha="center", va="center")
        ax.set_title(title or "")
        return ax
    shown = table.rename(index=_label, columns=_label)
    shown.index.name = _label(table.index.name) if table.index.name else None
    shown.columns.name = _label(table.columns.name) if table.columns.name else None
    shown.plot.barh(ax=ax, stacked=stacked, **kw)
    if shares:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _position: _percent(value)))
    ax.invert_yaxis()
    ax.set_title(title or "")
    return ax


def lines(table: pd.DataFrame, ax=None, title: str | None = None, **kw):
    """A table's columns as lines over its index (dates)."""
    ax = _axes(ax, (8, 4))
    if table.empty:
        ax.set_axis_off()
        ax.text(0.5, 0.5, _("Nothing in the period."), ha="center", va="center")
    else:
        # Plotted by matplotlib, not pandas, so that the dates read in the report's language.
        for name in table.columns:
            ax.plot(table.index.to_pydatetime(), table[name].to_numpy(), label=_label(name), **kw)
        ax.xaxis.set_major_formatter(FuncFormatter(_day_tick))
        ax.legend()
    ax.set_title(title or "")
    return ax


def _day_tick(value, _position) -> str:
    """A date axis' tick in the language forced (12月1日, Dec 1)."""
    return format_skeleton("MMMd", mdates.num2date(value).date(), locale=get_locale() or "en")
