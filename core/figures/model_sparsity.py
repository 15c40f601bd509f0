"""Figures for the sparsity a real model ships (Gemma 3's local/global layers).

Pure builders: data in, plotly Figure out. ``pattern_bars`` draws ``core.efficiency.on_model``'s
per-layer table; ``band_head`` is ``core.figures.attention.head_heatmap`` with the local window's
edge drawn on it. Colours: Okabe-Ito, one per layer type.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.figures.attention import head_heatmap
from core.figures.theme import OKABE_ITO, base_layout

TYPE_COLOURS = {"local": OKABE_ITO[0], "global": OKABE_ITO[1], "bidirectional": OKABE_ITO[2]}


def pattern_bars(table: pd.DataFrame, dense_causal: float, average: float, *, title: str = "") -> go.Figure:
    """One bar per layer (``table``: layer, layer_type, density), coloured by layer type, with
    dense causal attention and the model's mean over layers as horizontal lines."""
    fig = go.Figure()
    x = [str(layer) for layer in table["layer"]]
    for kind, rows in table.groupby("layer_type", sort=False):
        fig.add_trace(go.Bar(
            x=[str(layer) for layer in rows["layer"]], y=rows["density"].tolist(), name=f"{kind} layers",
            marker_color=TYPE_COLOURS.get(kind, OKABE_ITO[5]),
            customdata=rows["share of causal pairs"].tolist() if "share of causal pairs" in rows else None,
            hovertemplate="layer %{x}<br>density %{y:.2%}"
                          + ("<br>%{customdata:.1%} of the causal pairs" if "share of causal pairs" in rows else "")
                          + "<extra></extra>"))
    lines = [(f"dense causal ({dense_causal:.1%})", dense_causal, OKABE_ITO[7], "dash"),
             (f"model mean over {len(x)} layers ({average:.1%})", average, OKABE_ITO[3], "dot")]
    for name, value, colour, dash in lines:
        fig.add_trace(go.Scatter(x=x, y=[value] * len(x), name=name, mode="lines",
                                 line={"color": colour, "dash": dash, "width": 2},
                                 hovertemplate=f"{name}<extra></extra>"))
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=x, title="layer")
    fig.update_yaxes(title="density (pairs scored / n²)", tickformat=".0%",
                     range=[0, max(dense_causal, float(table["density"].max())) * 1.1])
    fig.update_layout(legend={"orientation": "h", "y": -0.2}, bargap=0.25)
    return base_layout(fig, title=title, height=440)


def band_head(w: np.ndarray, tokens: Sequence[str], window: int | None, *, title: str = "",
              log: bool = True) -> go.Figure:
    """One head's real (q_pos, k_pos) weights (``head_heatmap``) with the edge of a sliding
    window of ``window`` keys drawn as a dashed line: key k = q - window + 1 is the oldest a
    local query sees, so everything left of the line is beyond the window."""
    fig = head_heatmap(w, list(tokens), title=title, log=log)
    n = w.shape[0]
    if window and n > window:
        # the boundary between key q - window (hidden) and q - window + 1 (seen), q = window .. n - 1
        fig.add_shape(type="line", x0=-0.5, y0=window - 1, x1=n - window, y1=n - 0.5,
                      line={"color": OKABE_ITO[3], "width": 2, "dash": "dash"})
        fig.add_annotation(x=(n - window) / 2, y=(n + window) / 2, text=f"beyond: {window:,}+ keys back",
                           showarrow=False, font={"color": OKABE_ITO[3]}, textangle=45, yshift=-22)
    return fig
