"""Lens figures: the logit-lens grid (depth x pos, top token in each cell), p(final token) against
depth, direct logit attribution (layer x head heatmap; bars per layer), ablation before/after bars
and the activation-patching restoration grid (layer x pos). Pure: arrays in, plotly Figure out.

Depth rows follow core.lens.logit_lens: row 0 the embeddings, row l the stream entering layer l
(= leaving layer l-1), the last row the model's output. Token text is escaped and its whitespace
made visible (core.figures.attention.label); cell text is cut for long inputs.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures.attention import label, labels
from core.figures.theme import DIVERGING, OKABE_ITO, SEQUENTIAL, base_layout

CELL_TEXT_POSITIONS = 32     # above this many positions the grid cells carry no text (hover only)
CELL_CHARS = 8               # a cell shows at most this many characters of its token


def depth_labels(n_rows: int) -> list[str]:
    """Row names: embeddings, after L0 ... after L{n-3}, output (after the last layer)."""
    return ["embeddings"] + [f"after L{i}" for i in range(n_rows - 2)] + [f"output (after L{n_rows - 2})"]


def _cut(tok: str, n: int = CELL_CHARS) -> str:
    """Cut before escaping, so an entity such as &lt; is never split."""
    return label(tok) if len(tok) <= n else label(tok[:n - 1]) + "…"


def lens_grid(top_tokens: Sequence[Sequence[str]], probs: np.ndarray, input_tokens: Sequence[str], *,
              first_pos: int = 0, title: str = "") -> go.Figure:
    """``top_tokens`` and ``probs``: (depth, pos), the top token and its probability per cell.
    Output at the top, embeddings at the bottom; columns are the input positions from ``first_pos``."""
    probs = np.asarray(probs, dtype=float)
    n_rows, n_pos = probs.shape
    ys, xs = depth_labels(n_rows), labels(input_tokens, first_pos)
    fig = go.Figure(go.Heatmap(
        z=probs, x=xs, y=ys, colorscale=SEQUENTIAL, zmin=0, zmax=1, colorbar={"title": "p(top)", "thickness": 12},
        customdata=[[label(t) for t in row] for row in top_tokens],
        hovertemplate="%{y}<br>position %{x}<br>top “%{customdata}” p = %{z:.3f}<extra></extra>"))
    if n_pos <= CELL_TEXT_POSITIONS:       # dark text on the light (likely) cells, white on the dark ones
        cells = [(x, y, _cut(t), "#000000" if p > 0.55 else "#FFFFFF") for y, row, prow in zip(ys, top_tokens, probs)
                 for x, t, p in zip(xs, row, prow)]
        fig.add_trace(go.Scatter(x=[c[0] for c in cells], y=[c[1] for c in cells], text=[c[2] for c in cells],
                                 mode="text", textfont={"size": 10, "color": [c[3] for c in cells]},
                                 hoverinfo="skip", showlegend=False))
    fig.update_yaxes(type="category", title="depth", range=[-0.5, n_rows - 0.5], showgrid=False)
    fig.update_xaxes(type="category", title="position (input token)", tickangle=-45, range=[-0.5, n_pos - 0.5],
                     showgrid=False)
    return base_layout(fig, title=title, height=max(360, min(1000, 22 * n_rows + 140)))


def depth_line(p_by_depth: Sequence[float], token: str, *, log: bool = False, title: str = "") -> go.Figure:
    """p(token) at the last position, read at every depth (``log``: a log axis, floored at 1e-12)."""
    ys = [max(float(p), 1e-12) if log else float(p) for p in p_by_depth]
    fig = go.Figure(go.Scatter(x=depth_labels(len(ys)), y=ys, mode="lines+markers", name=f"p({label(token)})",
                               line={"color": OKABE_ITO[0]}))
    fig.update_xaxes(type="category", title="depth", tickangle=-45)
    fig.update_yaxes(title=f"p(“{label(token)}”), last position", type="log" if log else None,
                     range=[-12, 0.05] if log else [0, 1.02])
    return base_layout(fig, title=title, height=380)


def head_grid(logits: np.ndarray, target: str, *, title: str = "") -> go.Figure:
    """(layer, head) direct logit attribution to ``target``; white = 0, orange pushes it up."""
    z = np.asarray(logits, dtype=float)
    m = max(float(np.abs(z).max(initial=0.0)), 1e-6)
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"H{h}" for h in range(z.shape[1])], y=[f"L{i}" for i in range(z.shape[0])],
        colorscale=DIVERGING, zmin=-m, zmax=m, colorbar={"title": "logit", "thickness": 12},
        hovertemplate=f"%{{y}} %{{x}}<br>direct effect on “{label(target)}” %{{z:+.3f}} logits<extra></extra>"))
    fig.update_yaxes(type="category", autorange="reversed", title="layer")
    fig.update_xaxes(type="category", title="head")
    return base_layout(fig, title=title, height=max(320, min(900, 20 * z.shape[0] + 120)))


def layer_bars(mlp: Sequence[float], attn: Sequence[float], target: str, *, title: str = "") -> go.Figure:
    """Per layer: the MLP's and the attention's direct effect on ``target``'s logit."""
    xs = [f"L{i}" for i in range(len(mlp))]
    fig = go.Figure([go.Bar(x=xs, y=list(map(float, mlp)), name="MLP", marker_color=OKABE_ITO[1]),
                     go.Bar(x=xs, y=list(map(float, attn)), name="attention (all heads)",
                            marker_color=OKABE_ITO[0])])
    fig.update_layout(barmode="group", legend={"orientation": "h", "y": 1.08})
    fig.update_xaxes(type="category", title="layer")
    fig.update_yaxes(title=f"direct effect on logit(“{label(target)}”)")
    return base_layout(fig, title=title, height=380)


def before_after(before_tokens: Sequence[str], before_p: Sequence[float], after_tokens: Sequence[str],
                 after_p: Sequence[float], *, title: str = "") -> go.Figure:
    """The top next tokens of the unchanged model (left) and of the ablated one (right)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("before", "after the ablation"), horizontal_spacing=0.15)
    for col, toks, ps, colour in ((1, before_tokens, before_p, OKABE_ITO[0]), (2, after_tokens, after_p, OKABE_ITO[3])):
        vals = list(map(float, ps))
        fig.add_trace(go.Bar(x=vals, y=[label(t) for t in toks], orientation="h", marker_color=colour,
                             text=[f"{v:.3f}" for v in vals], textposition="auto", showlegend=False), row=1, col=col)
        fig.update_yaxes(autorange="reversed", type="category", row=1, col=col)
        fig.update_xaxes(title="probability", range=[0, 1], row=1, col=col)
    fig = base_layout(fig, title=title, height=340)
    return fig.update_layout(margin={"t": 90 if title else 40})


def patch_grid(grid: np.ndarray, clean_tokens: Sequence[str], corrupted_tokens: Sequence[str], *,
               title: str = "") -> go.Figure:
    """(layer, pos) restoration: 1 = the clean answer fully restored, 0 = no change."""
    z = np.asarray(grid, dtype=float)
    xs = [f"{i}:{label(c)}" if c == x else f"{i}:{label(c)} / {label(x)}"
          for i, (c, x) in enumerate(zip(clean_tokens, corrupted_tokens))]
    m = max(1.0, float(np.nanmax(np.abs(z), initial=0.0)))
    fig = go.Figure(go.Heatmap(
        z=z, x=xs, y=[f"L{i}" for i in range(z.shape[0])], colorscale=DIVERGING, zmin=-m, zmax=m,
        colorbar={"title": "restored", "thickness": 12},
        hovertemplate="stream entering %{y}, position %{x}<br>restores %{z:.0%}<extra></extra>"))
    fig.update_yaxes(type="category", autorange="reversed", title="layer (stream entering it)")
    fig.update_xaxes(type="category", title="position patched (clean / corrupted where they differ)", tickangle=-45)
    return base_layout(fig, title=title, height=max(360, min(1000, 20 * z.shape[0] + 140)))
