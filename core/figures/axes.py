"""One axis and label style for every chart: log axes in powers of ten, secondary axes with
their own round ticks, and point labels placed so they neither overlap nor leave the plot.

Plotly's default log ticks label every digit ("5 6 7 8 9 1000 2 3 4"). ``readable_log_axes``
walks a figure's log axes and, where the data spans at least one decade, ticks each power of ten
once (dtick = 1 in log units) labelled 10ⁿ, with unlabelled minor ticks at 2-9 × 10ⁿ; a narrower
span keeps plotly's automatic ticks, labelled with a thousands separator.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

DECADE = {"dtick": 1, "exponentformat": "power", "showexponent": "all",
          "minor": {"ticks": "outside", "ticklen": 3, "dtick": "D1", "showgrid": False}}
NARROW = {"exponentformat": "none", "tickformat": ",~g"}


def _values(fig: go.Figure, letter: str, axis: str) -> np.ndarray:
    """Positive finite values of every trace drawn against ``axis`` ("xaxis", "yaxis2", ...)."""
    ref = letter + axis[5:]                                   # "xaxis2" -> "x2"
    out = []
    for t in fig.data:
        if (getattr(t, f"{letter}axis", None) or letter) != ref:
            continue
        v = getattr(t, letter, None)
        if v is None:
            continue
        a = np.asarray([x for x in np.ravel(np.asarray(v, dtype=object)) if isinstance(x, (int, float))], float)
        out.append(a[np.isfinite(a) & (a > 0)])
    return np.concatenate(out) if out else np.empty(0)


def readable_log_axes(fig: go.Figure) -> go.Figure:
    """Apply DECADE (or NARROW) to every log axis of ``fig``, in place; returns it."""
    for name in [k for k in fig.layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]:
        if fig.layout[name].type != "log":
            continue
        v = _values(fig, name[0], name)
        wide = not v.size or np.log10(v.max() / v.min()) >= 1
        fig.layout[name].update(DECADE if wide else NARROW)
    return fig


def readable_secondary_axes(fig: go.Figure) -> go.Figure:
    """Give every overlaying axis (a second y axis) its own round ticks, in place; returns it.

    plotly.js 3 defaults an overlaying axis to ``tickmode="sync"``: its ticks are placed at the
    primary axis's grid lines, so a 0-1.05 axis beside a 0-0.86 one reads 0.215 / 0.43 / 0.645.
    ``"auto"`` picks 1-2-5 steps of its own. Axes with explicit ticks are left alone."""
    for name in [k for k in fig.layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]:
        axis = fig.layout[name]
        if axis.overlaying and axis.tickmode is None and axis.tickvals is None and axis.dtick is None:
            axis.tickmode = "auto"
    return fig


def readable_axes(fig: go.Figure) -> go.Figure:
    """Both rules of this module: log axes in powers of ten, secondary axes with their own ticks."""
    return readable_secondary_axes(readable_log_axes(fig))


POSITIONS = ("top center", "bottom center", "middle right", "middle left",
             "top right", "top left", "bottom right", "bottom left")
CHAR_PX, LINE_PX = 7.0, 15.0          # a 13 px label: mean character width and line height


def _box(px: float, py: float, w: float, h: float, pos: str, gap: float = 6.0):
    """(x0, y0, x1, y1) in pixels (y up) of a ``w`` x ``h`` label at textposition ``pos``."""
    v, hz = pos.split()
    x0 = {"center": px - w / 2, "right": px + gap, "left": px - gap - w}[hz]
    y0 = {"top": py + gap, "bottom": py - gap - h, "middle": py - h / 2}[v]
    return x0, y0, x0 + w, y0 + h


def padded_range(v, pad: float = 0.06) -> list[float]:
    """The data's range widened by ``pad`` of its span on each side (room for labels at the edge)."""
    v = np.asarray(v, float)
    span = float(np.ptp(v)) or 1.0
    return [float(v.min()) - pad * span, float(v.max()) + pad * span]


def place_labels(x, y, texts, *, width_px: float = 760, height_px: float = 440,
                 keep: Sequence[bool] | None = None, pad: float = 0.0) -> list[str | None]:
    """A textposition for each point's label, or None where every position would overlap a label
    already placed, another point or the plot's edge (that label is left to hover).

    Labels are placed greedily, ``keep`` ones first (always shown, at their least-crowded spot);
    the plot is taken to be ``width_px`` x ``height_px`` over the data's range widened by ``pad``."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    keep = np.zeros(n, bool) if keep is None else np.asarray(keep, bool)
    (x0, x1), (y0, y1) = padded_range(x, pad), padded_range(y, pad)
    px, py = (x - x0) / (x1 - x0) * width_px, (y - y0) / (y1 - y0) * height_px
    sizes = [(max(len(line) for line in str(t).split("<br>")) * CHAR_PX, LINE_PX * (str(t).count("<br>") + 1))
             for t in texts]
    dots = [(a - 5, b - 5, a + 5, b + 5) for a, b in zip(px, py)]
    placed: list[tuple] = []
    out: list[str | None] = [None] * n

    def hits(b, own):
        overlap = lambda r: b[0] < r[2] and r[0] < b[2] and b[1] < r[3] and r[1] < b[3]
        return sum(overlap(r) for r in placed) + sum(overlap(d) for j, d in enumerate(dots) if j != own)

    def inside(b):
        return b[0] >= -20 and b[2] <= width_px + 20 and b[1] >= -10 and b[3] <= height_px + 10

    for i in sorted(range(n), key=lambda i: not keep[i]):
        w, h = sizes[i]
        options = [(hits(b, i) + (0 if inside(b) else 100), k, pos, b)
                   for k, pos in enumerate(POSITIONS) for b in [_box(px[i], py[i], w, h, pos)]]
        best = min(options)
        if best[0] == 0 or keep[i]:
            out[i] = best[2]
            placed.append(best[3])
    return out
