"""Generic builders (heatmap, bars, lines) shared by pages; specialised views build on them."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.figures.axes import readable_log_axes
from core.figures.theme import OKABE_ITO, SEQUENTIAL, base_layout


def _labels(labels: Sequence[str] | None, n: int) -> list[str]:
    """Unique axis labels: plotly merges equal categories, so prefix the position."""
    if labels is None:
        return [str(i) for i in range(n)]
    return [f"{i}:{t}" for i, t in enumerate(labels)]


def heatmap(z, *, x: Sequence[str] | None = None, y: Sequence[str] | None = None, title: str = "",
            x_title: str = "", y_title: str = "", colorscale=SEQUENTIAL, zmin=None, zmax=None,
            hover: str = "value", height: int | None = None) -> go.Figure:
    """A labelled heatmap; rows are y (top to bottom), columns x. Labels are plain text (escaped)."""
    z = np.asarray(z, dtype=float)
    xs, ys = _labels(x, z.shape[1]), _labels(y, z.shape[0])
    fig = go.Figure(go.Heatmap(
        z=z, x=xs, y=ys, colorscale=colorscale, zmin=zmin, zmax=zmax,
        hovertemplate=f"{y_title or 'row'} %{{y}}<br>{x_title or 'col'} %{{x}}<br>{hover} %{{z:.4g}}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title=y_title, type="category")
    fig.update_xaxes(title=x_title, type="category", tickangle=-45)
    return base_layout(fig, title=title, height=height or max(320, min(900, 22 * len(ys) + 120)))


def bars(labels: Sequence[str], values: Sequence[float], *, title: str = "", x_title: str = "",
         y_title: str = "", horizontal: bool = True, highlight: int | None = None,
         text_fmt: str = ".3f") -> go.Figure:
    """Bars; with ``horizontal`` the first item is on top. ``highlight`` colours one bar."""
    labels = _labels(labels, len(values)) if len(set(labels)) < len(labels) else list(labels)
    colours = [OKABE_ITO[1] if i == highlight else OKABE_ITO[0] for i in range(len(values))]
    vals = list(map(float, values))
    if horizontal:
        trace = go.Bar(x=vals, y=labels, orientation="h", marker_color=colours,
                       text=[format(v, text_fmt) for v in vals], textposition="auto")
    else:
        trace = go.Bar(x=labels, y=vals, marker_color=colours)
    fig = go.Figure(trace)
    if horizontal:
        fig.update_yaxes(autorange="reversed", type="category", title=y_title)
        fig.update_xaxes(title=x_title)
    else:
        fig.update_xaxes(type="category", title=x_title)
        fig.update_yaxes(title=y_title)
    return base_layout(fig, title=title, height=max(280, 26 * len(vals) + 100) if horizontal else None)


def lines(x, series: dict[str, Sequence[float]], *, title: str = "", x_title: str = "",
          y_title: str = "", log_x: bool = False, log_y: bool = False, markers: bool = True) -> go.Figure:
    fig = go.Figure()
    for name, ys in series.items():
        fig.add_trace(go.Scatter(x=list(x), y=list(map(float, ys)), name=str(name),
                                 mode="lines+markers" if markers else "lines"))
    fig.update_xaxes(title=x_title, type="log" if log_x else None)
    fig.update_yaxes(title=y_title, type="log" if log_y else None)
    return readable_log_axes(base_layout(fig, title=title))
