"""Figures for the efficiency pages: sparse masks, measured time/memory, cache growth (with
sliding-window bends), MLA caches.

Pure builders: data in, plotly Figure out (and, where a view is downsampled, the numbers drawn).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
import torch

from core.figures.axes import readable_log_axes
from core.figures.theme import OKABE_ITO, SEQUENTIAL, base_layout
from core.text import token_labels


# cividis at sqrt(fraction): a tile holding one kept column of 16 (a global token) is mid-tone, not
# black; the colour bar still reads in true fractions.
SPARSE_SCALE = [[float(v), c] for v, c in zip(np.linspace(0, 1, 21) ** 2,
                                       sample_colorscale(SEQUENTIAL, list(np.linspace(0, 1, 21))))]


def downsample_mask(mask: torch.Tensor, max_cells: int = 256) -> tuple[np.ndarray, int]:
    """Fraction of kept pairs in f x f tiles so at most ``max_cells`` per side are drawn."""
    n = mask.shape[0]
    f = max(1, math.ceil(n / max_cells))
    m = mask.float()[None, None]                                     # (1, 1, q_pos, k_pos)
    grid = torch.nn.functional.avg_pool2d(m, f, ceil_mode=True)[0, 0] if f > 1 else m[0, 0]
    return grid.numpy(), f


def mask_figure(mask: torch.Tensor, *, title: str = "", max_cells: int = 256) -> tuple[go.Figure, np.ndarray, int]:
    """The boolean mask as a heatmap (query rows, key columns); tiles show the fraction kept."""
    grid, f = downsample_mask(mask, max_cells)
    return grid_figure(grid, f, title=title), grid, f


def _global_lines(grid: np.ndarray) -> np.ndarray:
    """Tile columns that hold a global key: kept in every row, at one same partial fraction in at
    least 80 % of rows (a causal or dense column is whole, a random one varies)."""
    out = []
    for j in range(grid.shape[1]):
        col = grid[:, j]
        vals, counts = np.unique(col, return_counts=True)
        mode = vals[counts.argmax()]
        if (col > 0).all() and 0 < mode < 1 and counts.max() >= 0.8 * len(col):
            out.append(j)
    return np.array(out, dtype=int)


def grid_figure(grid: np.ndarray, f: int, *, title: str = "") -> go.Figure:
    """A mask already downsampled by ``downsample_mask`` (tile side ``f``)."""
    axis = np.arange(grid.shape[0]) * f
    n = grid.shape[0] * f
    fig = go.Figure(go.Heatmap(
        z=grid, x=axis, y=axis, colorscale=SPARSE_SCALE if f > 1 else SEQUENTIAL, zmin=0, zmax=1,
        colorbar={"title": "kept" if f == 1 else f"kept in<br>{f}×{f} tile", "tickvals": [0, 0.1, 0.25, 0.5, 1]},
        hovertemplate="query %{y}<br>key %{x}<br>fraction kept %{z:.3f}<extra></extra>"))
    # Global tokens (a key every query sees, or a query that sees every key) are one column or row
    # in a tile of f: mark them, or at 4,096 tokens they are a 2-pixel line at the edge.
    for j in _global_lines(grid) if f > 1 else ():
        fig.add_vline(x=j * f, line={"color": OKABE_ITO[1], "width": 2}, annotation_text="global key",
                      annotation_position="bottom right")
    for i in _global_lines(grid.T) if f > 1 else ():
        fig.add_hline(y=i * f, line={"color": OKABE_ITO[1], "width": 2, "dash": "dot"},
                      annotation_text="global query", annotation_position="bottom right")
    # constrain="domain": the square shrinks its box instead of padding the key axis past 0..T
    fig.update_yaxes(range=[n - f / 2, -f / 2], title="query position", scaleanchor="x", constrain="domain")
    fig.update_xaxes(range=[-f / 2, n - f / 2], title="key position", side="top", constrain="domain")
    return base_layout(fig, title=title, height=560)


def loglog(x: Sequence[float], series: dict[str, Sequence[float]], *, x_title: str, y_title: str,
           title: str = "", dashed: Sequence[str] = ()) -> go.Figure:
    """Lines on log-log axes; names in ``dashed`` are drawn dashed (ideal/formula lines)."""
    fig = go.Figure()
    for i, (name, ys) in enumerate(series.items()):
        fig.add_trace(go.Scatter(x=list(x), y=[float(v) for v in ys], name=name, mode="lines+markers",
                                 line={"color": OKABE_ITO[i % 8], "dash": "dash" if name in dashed else "solid"}))
    fig.update_xaxes(type="log", title=x_title)
    fig.update_yaxes(type="log", title=y_title)
    return readable_log_axes(base_layout(fig, title=title))


def speedup_figure(tokens: Sequence[int], measured: Sequence[float], ideal: Sequence[float],
                   tile_ideal: Sequence[float]) -> go.Figure:
    """Measured flex-vs-dense speed-up beside the ideal 1/density and the tile bound."""
    return loglog(tokens, {"measured speed-up": measured, "ideal (1/density)": ideal,
                           "tile bound (1/tile density)": tile_ideal},
                  x_title="sequence length (tokens)", y_title="dense time / flex time",
                  dashed=("ideal (1/density)", "tile bound (1/tile density)"))


def mass_figure(tokens: Sequence[str], mass: Sequence[float]) -> go.Figure:
    """Per query token: how much of its real attention the pattern keeps."""
    labels = token_labels.labels(tokens, html=True, numbered=True)
    fig = go.Figure(go.Bar(x=labels, y=list(mass), marker_color=OKABE_ITO[0],
                           hovertemplate="%{x}<br>mass kept %{y:.3f}<extra></extra>"))
    fig.update_yaxes(range=[0, 1.02], title="attention mass kept")
    fig.update_xaxes(type="category", title="query token", tickangle=-45)
    return base_layout(fig)


def next_token_figure(labels: Sequence[str], p_dense: Sequence[float], p_sparse: Sequence[float]) -> go.Figure:
    """Grouped bars: next-token probabilities with the head dense vs sparse."""
    fig = go.Figure([
        go.Bar(y=list(labels), x=list(p_dense), name="dense head", orientation="h", marker_color=OKABE_ITO[0]),
        go.Bar(y=list(labels), x=list(p_sparse), name="sparse head", orientation="h", marker_color=OKABE_ITO[1]),
    ])
    fig.update_yaxes(autorange="reversed", type="category", title="next token")
    fig.update_xaxes(title="probability")
    return base_layout(fig, height=max(300, 40 * len(labels) + 100))


def cache_growth_figure(lengths: Sequence[int], series: dict[str, Sequence[float]], kinds: dict[str, str],
                        *, parts: dict[str, dict[str, Sequence[float]]] | None = None,
                        bends: dict[str, int] | None = None, labels: dict[str, str] | None = None,
                        log: bool = True) -> go.Figure:
    """Cache GiB against context length, one line per model; the legend names its attention type.

    ``kinds`` (MHA/GQA/MQA/MLA) sets each line's dash; ``labels`` replaces it in the legend. Models in
    ``parts`` (sliding-window layers) also get their local layers' bytes (dotted, flat past the
    window) and global layers' bytes (dash-dot) in the same colour; ``bends`` marks each window - 1.
    """
    dash = {"MHA": "solid", "GQA": "dash", "MQA": "dot", "MLA": "dashdot"}
    labels, parts = labels or kinds, parts or {}
    fig = go.Figure()
    for i, (name, ys) in enumerate(series.items()):
        colour = OKABE_ITO[i % 8]
        fig.add_trace(go.Scatter(x=list(lengths), y=[v / 2**30 for v in ys], name=f"{name} ({labels[name]})",
                                 mode="lines", line={"color": colour, "dash": dash.get(kinds[name], "solid")},
                                 hovertemplate="%{x:,} tokens<br>%{y:.3g} GiB<extra>" + name + "</extra>"))
        for part, style in (("local", "dot"), ("global", "dashdot")):
            if name in parts and any(parts[name][part]):               # Mistral: no global part
                fig.add_trace(go.Scatter(
                    x=list(lengths), y=[v / 2**30 for v in parts[name][part]], name=f"{name}: {part} layers",
                    mode="lines", line={"color": colour, "dash": style, "width": 1.5}, opacity=0.75,
                    hovertemplate="%{x:,} tokens<br>%{y:.3g} GiB<extra>" + f"{name}, {part} layers</extra>"))
    drawn = [v / 2**30 for ys in series.values() for v in ys if v > 0]
    for b in sorted(set((bends or {}).values())) if drawn else ():
        fig.add_trace(go.Scatter(x=[b, b], y=[min(drawn), max(drawn)], name=f"window − 1 = {b:,}", mode="lines",
                                 line={"color": "grey", "dash": "dot", "width": 1}, hoverinfo="skip"))
    fig.update_xaxes(type="log" if log else None, title="context length (tokens)")
    fig.update_yaxes(type="log" if log else None, title="KV cache (GiB)", rangemode="tozero")
    return readable_log_axes(base_layout(fig, height=480))


def measured_cache_figure(runs: dict[str, tuple[Sequence[int], Sequence[int], Sequence[int]]]) -> go.Figure:
    """Measured cache bytes (markers) on top of the formula (line) as generation proceeds."""
    fig = go.Figure()
    for i, (kind, (lens, measured, predicted)) in enumerate(runs.items()):
        c = OKABE_ITO[i % 8]
        fig.add_trace(go.Scatter(x=list(lens), y=[b / 2**20 for b in predicted], name=f"{kind}: formula",
                                 mode="lines", line={"color": c, "dash": "dash"}))
        fig.add_trace(go.Scatter(x=list(lens), y=[b / 2**20 for b in measured], name=f"{kind}: measured",
                                 mode="markers", marker={"color": c, "size": 6}))
    fig.update_xaxes(title="tokens in the cache", rangemode="tozero")
    fig.update_yaxes(title="cache tensors allocated (MiB)", rangemode="tozero")
    return base_layout(fig, height=440)


def tradeoff_figure(rows: Sequence[dict]) -> go.Figure:
    """Naive / absorbed MLA decode-step time against context, one line per batch size (rows as
    core.efficiency.mla_tradeoff.step_ms returns them), with the multiply-add ratio (the same at
    every batch) dashed and 1 marked: above it, absorbed is faster."""
    fig = go.Figure()
    batches = sorted({r["batch"] for r in rows})
    for i, b in enumerate(batches):
        mine = sorted((r for r in rows if r["batch"] == b), key=lambda r: r["context"])
        fig.add_trace(go.Scatter(
            x=[r["context"] for r in mine], y=[r["naive / absorbed"] for r in mine], name=f"batch {b}, measured",
            mode="lines+markers", line={"color": OKABE_ITO[i % 8]},
            customdata=[[r["naive ms"], r["absorbed ms"]] for r in mine],
            hovertemplate=f"batch {b}<br>" + "%{x:,} cached tokens<br>naive / absorbed %{y:.2f}×<br>"
                          "naive %{customdata[0]:.2f} ms, absorbed %{customdata[1]:.2f} ms<extra></extra>"))
    first = sorted((r for r in rows if r["batch"] == batches[0]), key=lambda r: r["context"]) if rows else []
    fig.add_trace(go.Scatter(x=[r["context"] for r in first], y=[r["MACs naive / absorbed"] for r in first],
                             name="multiply-adds (any batch)", mode="lines",
                             line={"color": "grey", "dash": "dash"},
                             hovertemplate="%{x:,} cached tokens<br>MACs naive / absorbed %{y:.2f}×<extra></extra>"))
    fig.add_hline(y=1, line={"color": "black", "width": 1, "dash": "dot"})
    for text, anchor in (("↑ absorbed faster", "bottom"), ("↓ naive faster", "top")):   # y in log units: 10⁰ = 1
        fig.add_annotation(x=0.01, xref="paper", y=0, yref="y", text=text, showarrow=False, xanchor="left",
                           yanchor=anchor, font={"size": 12, "color": "#444"})
    fig.update_xaxes(type="log", title="cached tokens per sequence (context)")
    fig.update_yaxes(type="log", title="decode step time, naive / absorbed")
    return readable_log_axes(base_layout(fig, height=440))
