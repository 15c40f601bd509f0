"""Scaling-law figures: data in, plotly Figure out. Log-log axes throughout; every figure carries
its source as an annotation inside the figure, so it survives PNG/SVG/HTML export."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures.axes import readable_log_axes
from core.figures.theme import OKABE_ITO, base_layout

LABEL_COLOURS = {"under-trained": OKABE_ITO[3], "near-optimal": OKABE_ITO[2], "over-trained": OKABE_ITO[0]}


def add_source(fig: go.Figure, source: str) -> go.Figure:
    """Write 'Source: …' under the plot area (kept in exports)."""
    fig.add_annotation(text=f"Source: {source}", xref="paper", yref="paper", x=0, y=-0.2,
                       xanchor="left", yanchor="top", showarrow=False, align="left",
                       font={"size": 11, "color": "#555"})
    fig.update_layout(margin={"b": 110})
    return fig


def _log_axes(fig: go.Figure, x_title: str, y_title: str, *, log_y: bool = True, **kw) -> None:
    fig.update_xaxes(type="log", title=x_title, exponentformat="power", **kw)
    fig.update_yaxes(type="log" if log_y else None, title=y_title, **kw)


def kaplan_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]], points: dict[str, tuple[float, float]],
                  source: str) -> go.Figure:
    """One panel per single-variable law, e.g. {"L(N)": (N, L)}, with the slider values marked."""
    names = list(curves)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.08)
    x_titles = {"L(N)": "N, non-embedding parameters", "L(D)": "D, tokens", "L(C_min)": "C, FLOPs"}
    for i, name in enumerate(names, start=1):
        x, y = curves[name]
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, line={"color": OKABE_ITO[i - 1]},
                                 hovertemplate="%{x:.3g} → loss %{y:.3f}<extra></extra>"), row=1, col=i)
        if name in points:
            px, py = points[name]
            fig.add_trace(go.Scatter(x=[px], y=[py], mode="markers", name=f"{name} at your value",
                                     marker={"size": 12, "symbol": "diamond", "color": OKABE_ITO[7]},
                                     hovertemplate="%{x:.3g} → loss %{y:.3f}<extra></extra>"), row=1, col=i)
        fig.update_xaxes(type="log", title=x_titles.get(name, ""), exponentformat="power", row=1, col=i)
        fig.update_yaxes(type="log", title="loss (nats/token)" if i == 1 else None, row=1, col=i)
    fig.update_layout(showlegend=False)
    return readable_log_axes(add_source(base_layout(fig, height=420), source))


def lines_loglog(x, series: dict[str, Sequence[float]], *, x_title: str, y_title: str, source: str,
                 point: tuple[float, float, str] | None = None, log_y: bool = True) -> go.Figure:
    fig = go.Figure()
    for i, (name, ys) in enumerate(series.items()):
        fig.add_trace(go.Scatter(x=np.asarray(x), y=np.asarray(ys, dtype=float), mode="lines", name=str(name),
                                 line={"color": OKABE_ITO[i % len(OKABE_ITO)]}))
    if point:
        fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers+text", name=point[2],
                                 text=[point[2]], textposition="top right",
                                 marker={"size": 13, "symbol": "diamond", "color": OKABE_ITO[7]}))
    _log_axes(fig, x_title, y_title, log_y=log_y)
    return readable_log_axes(add_source(base_layout(fig, height=440), source))


def isoflop_figure(curves, *, fit_label: str, source: str, highlight: float | None = None) -> go.Figure:
    """Loss against N at fixed C for each budget; each minimum marked with a star."""
    fig = go.Figure()
    for i, c in enumerate(curves):
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        width = 4 if highlight is not None and np.isclose(c.C, highlight) else 2
        fig.add_trace(go.Scatter(x=c.N, y=c.loss, mode="lines", name=f"C = {c.C:.0e} FLOPs",
                                 line={"color": colour, "width": width},
                                 hovertemplate="N %{x:.3g}<br>loss %{y:.4f}<extra></extra>"))
        fig.add_trace(go.Scatter(x=[c.N_opt], y=[c.loss_opt], mode="markers", showlegend=False,
                                 marker={"symbol": "star", "size": 14, "color": colour,
                                         "line": {"color": "black", "width": 1}},
                                 hovertemplate=f"minimum: N_opt %{{x:.3g}}, D_opt {c.D_opt:.3g}<br>"
                                               "loss %{y:.4f}<extra></extra>"))
    _log_axes(fig, "N, parameters (D = C / 6N)", "predicted loss (nats/token)", log_y=False)
    fig.update_layout(title={"text": f"IsoFLOP curves, {fit_label}", "x": 0})
    return readable_log_axes(add_source(base_layout(fig, height=460), source))


def frontier_figure(C: np.ndarray, frontiers: dict[str, tuple[np.ndarray, np.ndarray]], models: pd.DataFrame,
                    *, source: str) -> go.Figure:
    """N_opt(C) and D_opt(C) for each fit (left, right); real models as points coloured by label."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=["parameters N", "training tokens D"],
                        horizontal_spacing=0.1)
    dashes = ["solid", "dash", "dot"]
    for i, (name, (n, d)) in enumerate(frontiers.items()):
        for col, y in ((1, n), (2, d)):
            fig.add_trace(go.Scatter(x=C, y=y, mode="lines", name=f"optimal, {name}",
                                     line={"color": "#444", "dash": dashes[i % 3]}, showlegend=col == 1,
                                     legendgroup=name), row=1, col=col)
    positions = ["top left", "bottom right", "top right", "bottom left", "middle right"]
    models = models.assign(_pos=[positions[i % len(positions)] for i in range(len(models))])
    for label, grp in models.groupby("label"):
        for col, ycol in ((1, "N"), (2, "D")):
            fig.add_trace(go.Scatter(
                x=grp["C (FLOPs)"], y=grp[ycol], mode="markers+text" if col == 1 else "markers",
                text=grp["model"], textposition=list(grp["_pos"]), textfont={"size": 10}, name=label,
                legendgroup=label,
                showlegend=col == 1, marker={"size": 11, "color": LABEL_COLOURS.get(label, OKABE_ITO[7]),
                                             "symbol": ["diamond" if m else "circle" for m in grp["MoE"]]},
                hovertemplate="%{text}<br>C %{x:.3g}<br>" + ycol + " %{y:.3g}<extra>" + label + "</extra>"),
                row=1, col=col)
    for col in (1, 2):
        fig.update_xaxes(type="log", title="C ≈ 6ND, training FLOPs", exponentformat="power", row=1, col=col)
        fig.update_yaxes(type="log", exponentformat="power", row=1, col=col)
    fig.update_layout(legend={"orientation": "h", "y": -0.22, "x": 0})
    fig = base_layout(fig, height=600)
    fig.add_annotation(text=f"Source: {source}", xref="paper", yref="paper", x=0, y=-0.36, xanchor="left",
                       yanchor="top", showarrow=False, font={"size": 11, "color": "#555"})
    fig.update_layout(margin={"b": 170})
    return fig


def exponents_figure(df: pd.DataFrame, *, source: str) -> go.Figure:
    """Grouped bars: a (N_opt ∝ C^a) and b (D_opt ∝ C^b) per approach."""
    fig = go.Figure()
    for i, col in enumerate(("a", "b")):
        fig.add_trace(go.Bar(x=df["short"], y=df[col], name=f"{col} ({'N' if col == 'a' else 'D'} ∝ C^{col})",
                             marker_color=OKABE_ITO[i], text=[f"{v:.2f}" for v in df[col]], textposition="outside"))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="exponent", range=[0, 0.85])
    return readable_log_axes(add_source(base_layout(fig, height=440), source))


def allocation_figure(df: pd.DataFrame, *, source: str) -> go.Figure:
    """Compute-optimal tokens per parameter against C for each allocation; secondary/hypothetical dashed."""
    fig = go.Figure()
    for i, (name, grp) in enumerate(df.groupby("allocation", sort=False)):
        fig.add_trace(go.Scatter(x=grp["C"], y=grp["tokens/param"], mode="lines", name=name,
                                 line={"color": OKABE_ITO[i % len(OKABE_ITO)],
                                       "dash": "dash" if grp["secondary"].iloc[0] else "solid"}))
    _log_axes(fig, "C, training FLOPs", "compute-optimal tokens per parameter (D/N)")
    fig = base_layout(fig, height=620)
    fig.update_layout(legend={"orientation": "h", "y": -0.18, "x": 0}, margin={"t": 60, "b": 40})
    fig.add_annotation(text=f"Source: {source}", xref="paper", yref="paper", x=0, y=1.02, xanchor="left",
                       yanchor="bottom", showarrow=False, font={"size": 11, "color": "#555"})
    return fig


def fit_figure(x, y, *, x_line, y_line, band: tuple | None, targets: pd.DataFrame | None,
               x_title: str, y_title: str, source: str, label: str = "your runs") -> go.Figure:
    """Points, fitted power law, bootstrap band, and extrapolated targets with their intervals."""
    fig = go.Figure()
    if band is not None:
        fig.add_trace(go.Scatter(x=np.r_[x_line, x_line[::-1]], y=np.r_[band[1], band[0][::-1]],
                                 fill="toself", fillcolor="rgba(0,114,178,0.15)", line={"width": 0},
                                 name="bootstrap band", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x_line, y=y_line, mode="lines", name="fit", line={"color": OKABE_ITO[0]}))
    fig.add_trace(go.Scatter(x=x, y=y, mode="markers", name=label,
                             marker={"size": 10, "color": OKABE_ITO[1], "line": {"color": "black", "width": 1}}))
    if targets is not None and len(targets):
        fig.add_trace(go.Scatter(
            x=targets["x"], y=targets["prediction"], mode="markers", name="extrapolation",
            marker={"size": 12, "symbol": "diamond", "color": OKABE_ITO[3]},
            error_y={"type": "data", "symmetric": False, "array": targets["hi"] - targets["prediction"],
                     "arrayminus": targets["prediction"] - targets["lo"]}))
    _log_axes(fig, x_title, y_title)
    return readable_log_axes(add_source(base_layout(fig, height=460), source))


def curves_figure(curves: pd.DataFrame, *, source: str) -> go.Figure:
    fig = go.Figure()
    for i, (name, grp) in enumerate(curves.groupby("model", sort=False)):
        fig.add_trace(go.Scatter(x=grp["step"] + 1, y=grp["train loss"], mode="lines", name=name,
                                 line={"color": OKABE_ITO[i % len(OKABE_ITO)]}))
    _log_axes(fig, "training step", "training loss (nats/char)")
    return readable_log_axes(add_source(base_layout(fig, height=400), source))


def add_points(fig: go.Figure, x, y, groups: Sequence[str]) -> go.Figure:
    """Observed runs as markers, one colour per group, on an existing figure."""
    df = pd.DataFrame({"x": np.asarray(x), "y": np.asarray(y), "g": list(groups)})
    for i, (name, grp) in enumerate(df.groupby("g", sort=False)):
        fig.add_trace(go.Scatter(x=grp["x"], y=grp["y"], mode="markers", name=f"runs, {name}",
                                 marker={"size": 9, "color": OKABE_ITO[i % len(OKABE_ITO)],
                                         "line": {"color": "black", "width": 1}}))
    return fig
