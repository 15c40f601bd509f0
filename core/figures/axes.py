"""One axis style for every chart: log axes labelled in powers of ten.

Plotly's default log ticks label every digit ("5 6 7 8 9 1000 2 3 4"). ``readable_log_axes``
walks a figure's log axes and, where the data spans at least one decade, ticks each power of ten
once (dtick = 1 in log units) labelled 10ⁿ, with unlabelled minor ticks at 2-9 × 10ⁿ; a narrower
span keeps plotly's automatic ticks, labelled with a thousands separator.
"""
from __future__ import annotations

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
