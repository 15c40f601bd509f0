"""Figures for the embeddings page: word maps, static vs contextual similarity, positional codes."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures import basic
from core.figures.axes import padded_range, place_labels
from core.figures.theme import DIVERGING, OKABE_ITO, SEQUENTIAL, base_layout


def word_map(words: Sequence[str], coords: np.ndarray, *, highlight: Sequence[str] = (),
             method: str = "pca") -> go.Figure:
    """2D or 3D scatter of words; the highlighted (typed) words in orange, neighbours in blue.

    In 2D every label that fits is drawn (core.figures.axes.place_labels: typed words first, the
    rest only where they overlap nothing), the others on hover. In 3D, where any view hides some
    labels behind others, only the typed words are labelled."""
    coords = np.asarray(coords)
    hi = set(highlight)
    typed = [w in hi for w in words]
    colours = [OKABE_ITO[3] if t else OKABE_ITO[0] for t in typed]
    axes = [f"{method.upper()} {i + 1}" for i in range(coords.shape[1])]
    if coords.shape[1] == 3:
        fig = go.Figure(go.Scatter3d(x=coords[:, 0], y=coords[:, 1], z=coords[:, 2],
                                     text=[w if t else "" for w, t in zip(words, typed)], customdata=list(words),
                                     mode="markers+text", marker={"size": [6 if t else 4 for t in typed],
                                                                  "color": colours},
                                     textfont={"size": 13, "color": OKABE_ITO[3]},
                                     hovertemplate="%{customdata}<extra></extra>"))
        fig.update_layout(scene={"xaxis_title": axes[0], "yaxis_title": axes[1], "zaxis_title": axes[2],
                                 "aspectmode": "cube",
                                 "camera": {"eye": {"x": 1.5, "y": 1.5, "z": 0.9}}})
    else:
        pos = place_labels(coords[:, 0], coords[:, 1], words, keep=typed, pad=0.06)
        fig = go.Figure(go.Scatter(x=coords[:, 0], y=coords[:, 1], text=[w if p else "" for w, p in zip(words, pos)],
                                   customdata=list(words), mode="markers+text",
                                   textposition=[p or "top center" for p in pos], cliponaxis=False,
                                   marker={"size": 8, "color": colours},
                                   hovertemplate="%{customdata}<extra></extra>"))
        fig.update_xaxes(title=axes[0], range=padded_range(coords[:, 0]))
        fig.update_yaxes(title=axes[1], range=padded_range(coords[:, 1]))
    return base_layout(fig, height=560)


def cosine_floor(mats: dict[str, np.ndarray]) -> float:
    """The shared colour floor of ``cosine_matrices``: min over panels, rounded down to 0.05, ≤ 0.95."""
    lo = min(float(np.nanmin(m)) for m in mats.values())
    return min(0.95, float(np.floor(lo * 20) / 20))


def cosine_matrices(mats: dict[str, np.ndarray], labels: Sequence[str]) -> go.Figure:
    """Sentence x sentence cosine similarity, one panel per source, on one shared scale fitted to the
    data: from the lowest cosine in any panel (rounded down to 0.05) to 1, so 0.46 and 0.89 differ."""
    lo = cosine_floor(mats)
    fig = make_subplots(rows=1, cols=len(mats), subplot_titles=list(mats), horizontal_spacing=0.06)
    for i, m in enumerate(mats.values(), 1):
        fig.add_trace(go.Heatmap(z=m, x=list(labels), y=list(labels), colorscale=SEQUENTIAL, zmin=lo, zmax=1,
                                 showscale=i == len(mats), colorbar={"title": "cosine"},
                                 text=[[f"{v:.2f}" for v in row] for row in m], texttemplate="%{text}",
                                 hovertemplate="%{y} vs %{x}: %{z:.3f}<extra></extra>"), row=1, col=i)
        fig.update_yaxes(autorange="reversed", row=1, col=i)
    return base_layout(fig, height=380)


def context_spread(depth: dict[str, np.ndarray], values: dict[str, np.ndarray]) -> go.Figure:
    """Mean cosine between different sentences against relative depth, one line per source."""
    fig = go.Figure()
    for i, (name, y) in enumerate(values.items()):
        fig.add_trace(go.Scatter(x=depth[name], y=y, name=name, mode="lines+markers",
                                 line={"color": OKABE_ITO[i % 8]}))
    fig.update_xaxes(title="relative depth (0 = token embeddings, 1 = last layer)", range=[-0.02, 1.02])
    fig.update_yaxes(title="mean cosine between sentences", range=[min(0.0, *(float(np.min(v)) for v in values.values())), 1.05])
    return base_layout(fig, height=380)


def trajectory(xy: np.ndarray, labels: Sequence[str]) -> go.Figure:
    """(layer, sentence, 2): one line per sentence from layer 0 (circle) to the last (star)."""
    fig = go.Figure()
    n_layer = xy.shape[0]
    for s, label in enumerate(labels):
        c = OKABE_ITO[s % 8]
        short = label if len(label) <= 40 else label[:39] + "…"
        fig.add_trace(go.Scatter(x=xy[:, s, 0], y=xy[:, s, 1], mode="lines+markers", name=short,
                                 line={"color": c}, text=[f"layer {i}" for i in range(n_layer)],
                                 marker={"size": [10] + [5] * (n_layer - 2) + [14],
                                         "symbol": ["circle"] + ["circle"] * (n_layer - 2) + ["star"]},
                                 hovertemplate="%{text}<extra>" + short.replace("<", "&lt;") + "</extra>"))
    fig.update_xaxes(title="PC 1")
    fig.update_yaxes(title="PC 2")
    fig.update_layout(legend={"orientation": "h", "y": -0.2})
    return base_layout(fig, height=480)


def pe_table(pe: np.ndarray) -> go.Figure:
    """The sinusoidal table: rows are positions, columns dimensions (fast to slow, left to right)."""
    fig = go.Figure(go.Heatmap(z=pe, colorscale=DIVERGING, zmin=-1, zmax=1,
                               hovertemplate="position %{y}<br>dim %{x}<br>%{z:.3f}<extra></extra>"))
    fig.update_xaxes(title="dimension (even = sin, odd = cos)")
    fig.update_yaxes(title="position", autorange="reversed")
    return base_layout(fig, height=440)


def offset_lines(offsets: Sequence[int], rows: dict[str, np.ndarray], *, y_title: str) -> go.Figure:
    fig = basic.lines(list(offsets), rows, x_title="offset k (key position − query position)",
                      y_title=y_title, markers=False)
    return fig


def score_grid(scores: np.ndarray) -> go.Figure:
    """RoPE q·k with q at position m (rows) and k at n (columns): constant along every diagonal."""
    fig = go.Figure(go.Heatmap(z=scores, colorscale=SEQUENTIAL,
                               hovertemplate="q at %{y}, k at %{x}<br>q·k %{z:.3f}<extra></extra>"))
    fig.update_xaxes(title="key position n")
    fig.update_yaxes(title="query position m", autorange="reversed")
    return base_layout(fig, height=420)
