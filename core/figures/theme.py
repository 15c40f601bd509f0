"""Colour-blind-safe defaults shared by every figure.

Categorical: Okabe & Ito (2008). Sequential: cividis (designed for colour-vision deficiency).
Diverging: RdBu is replaced by the Okabe-Ito blue/vermillion pair through white ("BlOr").
"""
from __future__ import annotations

import plotly.graph_objects as go

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
SEQUENTIAL = "cividis"
DIVERGING = [[0.0, "#0072B2"], [0.5, "#FFFFFF"], [1.0, "#D55E00"]]
FONT = "Inter, 'Noto Sans', 'Noto Sans CJK SC', 'Segoe UI', sans-serif"


def base_layout(fig: go.Figure, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """Apply the shared look: palette, font that covers CJK, compact margins."""
    fig.update_layout(
        colorway=OKABE_ITO, font={"family": FONT, "size": 13},
        margin={"l": 60, "r": 20, "t": 50 if title else 20, "b": 50},
        template="plotly_white",
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
