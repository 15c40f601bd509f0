"""Colour-blind-safe defaults shared by every figure.

Categorical: Okabe & Ito (2008). Sequential: cividis (designed for colour-vision deficiency).
Diverging: RdBu is replaced by the Okabe-Ito blue/vermillion pair through white ("BlOr").
"""
from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

# Every figure starts from plotly_white: set once as the default, because naming a template per
# figure deep-copies it (about 40 ms a figure, most of a warm home rerun's figure building).
pio.templates.default = "plotly_white"

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
SEQUENTIAL = "cividis"
DIVERGING = [[0.0, "#0072B2"], [0.5, "#FFFFFF"], [1.0, "#D55E00"]]
FONT = "Inter, 'Noto Sans', 'Noto Sans CJK SC', 'Segoe UI', sans-serif"


def base_layout(fig: go.Figure, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """Apply the shared look: palette, font that covers CJK, compact margins."""
    fig.update_layout(
        colorway=OKABE_ITO, font={"family": FONT, "size": 13},
        margin={"l": 60, "r": 20, "t": 50 if title else 20, "b": 50},
    )
    if title:
        fig.update_layout(title={"text": title, "x": 0})
    if height:
        fig.update_layout(height=height)
    return fig


def token_colour(i: int) -> str:
    """A light pill background for token i: Okabe-Ito hues at low opacity, cycling."""
    h = OKABE_ITO[i % 7].lstrip("#")
    r, g, b = (int(h[j:j + 2], 16) for j in (0, 2, 4))
    return f"rgba({r},{g},{b},0.22)"


PRESENT_SCALE = 1.45      # chart text in presentation mode (a projector at 1280x720, read from the back)


def presentation(fig: go.Figure, scale: float = PRESENT_SCALE) -> go.Figure:
    """A copy of ``fig`` with every font ``scale`` times larger (global, titles, axes, ticks,
    legend, colour bars, annotations and trace text), and the height grown to fit."""
    out = go.Figure(fig)
    lay = out.layout

    def grow(font, default=None):
        size = font.size if font is not None and font.size else default
        return {"size": round(size * scale, 1)} if size else {}

    out.update_layout(font=grow(lay.font, 13), title_font=grow(lay.title.font if lay.title else None),
                      legend_font=grow(lay.legend.font if lay.legend else None))
    for name in [k for k in lay.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]:
        axis = lay[name]
        out.layout[name].update(tickfont=grow(axis.tickfont), title_font=grow(axis.title.font if axis.title else None))
    for ann in out.layout.annotations:
        if ann.font and ann.font.size:
            ann.font.size = round(ann.font.size * scale, 1)
    for trace in out.data:
        if getattr(trace, "textfont", None) is not None and trace.textfont.size:
            trace.textfont.size = round(trace.textfont.size * scale, 1)
        bar = getattr(trace, "colorbar", None) or getattr(getattr(trace, "marker", None), "colorbar", None)
        if bar is not None and bar.tickfont and bar.tickfont.size:
            bar.tickfont.size = round(bar.tickfont.size * scale, 1)
    if lay.height:
        out.update_layout(height=int(lay.height * (1 + (scale - 1) / 2)))
    return out
