"""Figures of the home page's later stages: a gated MLP's top neurons, what every block writes into
the residual stream, and the logit-lens strip. Pure builders: DataFrames in (from ``core.lens``
through ``core.text.pipeline``), plotly Figures out. Token text is escaped, whitespace made visible.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures.attention import label
from core.figures.theme import OKABE_ITO, SEQUENTIAL, base_layout

PARTS = {"attn": ("attention", OKABE_ITO[0]), "mlp": ("MLP", OKABE_ITO[1])}


def neuron_bars(neurons: pd.DataFrame, *, title: str = "") -> go.Figure:
    """One bar per unit (columns neuron, gate, up, act, raises, lowers; the first on top):
    act = act_fn(gate) * up, blue when positive, vermillion when negative; beside each bar the
    tokens its write raises, and on hover gate, up and the tokens it lowers."""
    act = neurons["act"].to_numpy(float)
    raises = [html.escape(s, quote=False) for s in neurons["raises"]]
    lowers = [html.escape(s, quote=False) for s in neurons["lowers"]]
    fig = go.Figure(go.Bar(
        x=act, y=[f"neuron {n}" for n in neurons["neuron"]], orientation="h",
        marker_color=[OKABE_ITO[0] if a >= 0 else OKABE_ITO[3] for a in act],
        text=[f"↑ {r}" for r in raises], textposition="outside", cliponaxis=False,
        customdata=np.stack([neurons["gate"].to_numpy(float), neurons["up"].to_numpy(float),
                             np.array(raises, dtype=object), np.array(lowers, dtype=object)], axis=1),
        hovertemplate=("%{y}<br>gate %{customdata[0]:.3f}, up %{customdata[1]:.3f}<br>"
                       "act = act_fn(gate)·up = %{x:.3f}<br>its write raises %{customdata[2]}<br>"
                       "and lowers %{customdata[3]}<extra></extra>")))
    lo, hi = min(0.0, float(act.min(initial=0))), max(0.0, float(act.max(initial=0)))
    pad = 0.8 * ((hi - lo) or 1.0)                # room for the token text beside the bars
    fig.update_xaxes(title="activation act = act_fn(gate)·up", zeroline=True,
                     range=[lo - pad * (lo < 0), hi + pad * (hi > 0 or lo == 0)])
    fig.update_yaxes(autorange="reversed", type="category")
    return base_layout(fig, title=title, height=max(280, 28 * len(act) + 100))


def residual_writes(writes: pd.DataFrame, target: str) -> go.Figure:
    """Two panels over the layers (columns layer, part, norm, logit): on top the size ‖write‖ of each
    block's attention and MLP write, below its direct effect on ``target``'s logit."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("size of the write ‖Δresidual‖",
                                        f"direct effect on the logit of “{label(target)}”"))
    for part, (name, colour) in PARTS.items():
        rows = writes[writes["part"] == part]
        for r, col in ((1, "norm"), (2, "logit")):
            fig.add_trace(go.Bar(x=rows["layer"].tolist(), y=rows[col].tolist(), name=name, legendgroup=part,
                                 marker_color=colour, showlegend=r == 1,
                                 hovertemplate=f"layer %{{x}} {name}<br>{col} %{{y:.3f}}<extra></extra>"),
                          row=r, col=1)
    fig.update_layout(barmode="group", legend={"orientation": "h", "y": 1.12, "x": 0})
    fig.update_xaxes(title="layer", dtick=1 if writes["layer"].nunique() <= 32 else None, row=2, col=1)
    fig.update_yaxes(title="norm", row=1, col=1)
    fig.update_yaxes(title="logit", zeroline=True, row=2, col=1)
    return base_layout(fig, height=560)


def lens_strip(strip: pd.DataFrame, final_token: str, first: int) -> go.Figure:
    """The logit lens at one position as a two-row strip over depth (columns row, top token, p, and
    p(final_token)): each column is labelled by its top token; row one is coloured by that token's p,
    row two by p(final_token). A box marks ``first``, the depth where ``final_token`` first tops."""
    p_final = strip.columns[-1]
    x = [f"{d}:{label(t)}" for d, t in zip(strip["row"], strip["top token"])]
    z = np.stack([strip["p"].to_numpy(float), strip[p_final].to_numpy(float)])
    text = np.array([[label(t) for t in strip["top token"]], [label(final_token)] * len(x)], dtype=object)
    fig = go.Figure(go.Heatmap(
        z=z, x=x, y=["top token", f"“{label(final_token)}”"], zmin=0, zmax=1, colorscale=SEQUENTIAL,
        customdata=text, colorbar={"title": "p", "thickness": 12},
        hovertemplate="depth %{x}<br>%{customdata}: p = %{z:.3g}<extra></extra>", xgap=1, ygap=1))
    fig.add_vrect(x0=first - 0.5, x1=first + 0.5, line_color=OKABE_ITO[3], line_width=2)
    fig.update_xaxes(title="depth: blocks applied (0 = embeddings; last = the model's output)",
                     type="category", tickangle=-60)
    fig.update_yaxes(autorange="reversed", type="category")
    return base_layout(fig, height=300)
