"""Attention figures: one head at any length, all-heads thumbnails, statistics, masks, next tokens.

Long inputs stay light: above ``FULL_RES`` tokens a head is sent as one downsampled PNG (each pixel
the largest weight in its block, so thin patterns such as the previous-token diagonal survive) plus
a full-resolution window. Token text is escaped (plotly reads a subset of HTML in labels) and
whitespace made visible. Colours: cividis (sequential), Okabe-Ito (categorical).
"""
from __future__ import annotations

import base64
import html
import io

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from core.figures.axes import CHAR_PX, readable_secondary_axes
from core.figures.theme import OKABE_ITO, SEQUENTIAL, base_layout
from core.text import token_labels

FULL_RES = 128          # up to this many tokens a head is drawn cell by cell, labelled
OVERVIEW_PX = 512       # longest side of the downsampled overview image
LOG_FLOOR = 1e-4
MASKED_GREY = "rgb(240,240,240)"   # a weight of exactly 0 (masked key), drawn so at every length
_LUT = np.array([[int(float(c)) for c in s[s.index("(") + 1:-1].split(",")]
                 for s in sample_colorscale(SEQUENTIAL, np.linspace(0, 1, 256), colortype="rgb")], np.uint8)


def label(tok: str) -> str:
    """A token as safe plotly text (core.text.token_labels: whitespace and bytes visible, escaped)."""
    return token_labels.label(tok, html=True)


def labels(tokens, start: int = 0) -> list[str]:
    return token_labels.labels(tokens, html=True, numbered=True, start=start)


def colour_values(w: np.ndarray, log: bool) -> tuple[np.ndarray, float, float]:
    if log:
        return np.log10(np.clip(w, LOG_FLOOR, 1.0)), np.log10(LOG_FLOOR), 0.0
    return w, 0.0, 1.0


def block_size(n_tokens: int, px: int = OVERVIEW_PX) -> int:
    """Tokens per overview pixel side: ceil(T / px)."""
    return max(1, -(-n_tokens // px))


def max_pool(w: np.ndarray, px: int = OVERVIEW_PX) -> tuple[np.ndarray, int]:
    """(q_pos, k_pos) -> (ceil(q/b), ceil(k/b)) block maxima with block b = block_size(T)."""
    import torch
    b = block_size(max(w.shape), px)
    t = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))[None, None]
    return torch.nn.functional.max_pool2d(t, b, b, ceil_mode=True)[0, 0].numpy(), b


def png_uri(z: np.ndarray, zmin: float, zmax: float, blank: np.ndarray | None = None) -> str:
    """Colour ``z`` with cividis and encode as a PNG data URI (what px.imshow(binary_string=True)
    sends); ``blank`` cells (exact zeros: masked) are light grey."""
    from PIL import Image
    idx = np.clip((z - zmin) / max(zmax - zmin, 1e-12) * 255, 0, 255).astype(np.uint8)
    rgb = _LUT[idx]
    if blank is not None:
        rgb[blank] = 240                                     # MASKED_GREY
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _colourbar(fig: go.Figure, zmin: float, zmax: float, title: str, **where) -> None:
    """Images carry no colour bar: add an invisible marker trace that draws one."""
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
                             marker={"colorscale": SEQUENTIAL, "cmin": zmin, "cmax": zmax, "color": [zmin],
                                     "showscale": True, "colorbar": {"title": title, "thickness": 12}}),
                  **where)


def _cells(z, xl, yl, zmin, zmax, cbar: str, hover: str = "weight") -> go.Heatmap:
    return go.Heatmap(z=z, x=xl, y=yl, colorscale=SEQUENTIAL, zmin=zmin, zmax=zmax,
                      colorbar={"title": cbar, "thickness": 12},
                      hovertemplate=f"query %{{y}}<br>key %{{x}}<br>{hover} %{{z:.4g}}<extra></extra>")


def head_heatmap(w: np.ndarray, tokens: list[str], *, title: str = "", log: bool = False,
                 window: tuple[int, int, int] | None = None) -> go.Figure:
    """One head: labelled cells up to FULL_RES tokens, else a max-pooled PNG; ``window`` =
    (q0, k0, size) is outlined so the zoomed view below can be found."""
    n = w.shape[0]
    cbar = "log10 weight" if log else "weight"
    if n <= FULL_RES:
        z, zmin, zmax = colour_values(w, log)
        z = np.where(w == 0, np.nan, z)                      # masked: the same grey as the image below
        fig = go.Figure(_cells(z, labels(tokens), labels(tokens), zmin, zmax, cbar))
        fig.update_xaxes(type="category", tickangle=-45, title="key (attended to)")
        fig.update_yaxes(type="category", autorange="reversed", title="query (attending)")
        fig = base_layout(fig, title=title, height=max(380, min(900, 18 * n + 160)))
        fig.update_layout(plot_bgcolor=MASKED_GREY)
        fig.update_xaxes(showgrid=False)
        fig.update_yaxes(showgrid=False)
        return fig
    pooled, b = max_pool(w)                                  # log is monotone: pool first
    pz, zmin, zmax = colour_values(pooled, log)
    fig = go.Figure(go.Image(source=png_uri(pz, zmin, zmax, pooled == 0), x0=(b - 1) / 2, dx=b, y0=(b - 1) / 2, dy=b,
                             hovertemplate=f"query ≈ %{{y:.0f}}<br>key ≈ %{{x:.0f}}<br>(block of {b}×{b} tokens)"
                                           "<extra></extra>"))
    _colourbar(fig, zmin, zmax, f"max in block ({cbar})")
    if window:
        q0, k0, size = window
        fig.add_shape(type="rect", x0=k0 - 0.5, x1=k0 + size - 0.5, y0=q0 - 0.5, y1=q0 + size - 0.5,
                      line={"color": OKABE_ITO[1], "width": 2})
    fig.update_xaxes(title="key position", range=[-0.5, n - 0.5], showgrid=False)
    fig.update_yaxes(title="query position", range=[n - 0.5, -0.5], showgrid=False, scaleanchor="x")
    return base_layout(fig, title=title, height=720)


def window_heatmap(w: np.ndarray, tokens: list[str], q0: int, k0: int, *, log: bool = False,
                   title: str = "") -> go.Figure:
    """Full-resolution cells of a window: rows q0.., columns k0.. (``w`` is already the window)."""
    z, zmin, zmax = colour_values(w, log)
    xl = labels(tokens[k0:k0 + w.shape[1]], k0)
    yl = labels(tokens[q0:q0 + w.shape[0]], q0)
    fig = go.Figure(_cells(z, xl, yl, zmin, zmax, "log10 weight" if log else "weight"))
    fig.update_xaxes(type="category", tickangle=-45, title="key (attended to)")
    fig.update_yaxes(type="category", autorange="reversed", title="query (attending)")
    return base_layout(fig, title=title, height=max(380, min(900, 14 * w.shape[0] + 200)))


def row_bars(row: np.ndarray, tokens: list[str], query: int, top: int = 20,
             visible: np.ndarray | None = None) -> go.Figure:
    """The keys a query attends to most, largest first; only keys in ``visible`` (the query's
    unmasked keys; all when None) are listed, so a masked future key never appears at 0."""
    keys = np.arange(len(row)) if visible is None else np.flatnonzero(visible)
    order = keys[np.argsort(row[keys], kind="stable")[::-1][:top]]
    fig = go.Figure(go.Bar(x=row[order], y=[f"{i}:{label(tokens[i])}" for i in order], orientation="h",
                           marker_color=[OKABE_ITO[1] if i == query - 1 else OKABE_ITO[0] for i in order],
                           text=[f"{v:.3f}" for v in row[order]], textposition="auto"))
    fig.update_yaxes(autorange="reversed", type="category", title="key")
    fig.update_xaxes(title=f"attention weight from query {query}:{label(tokens[query])}")
    return base_layout(fig, height=max(300, 24 * len(order) + 100))


def thumbnails(thumbs: np.ndarray, table, stat: str = "sink_mass") -> go.Figure:
    """All heads in one mosaic image (layer rows x head columns); each tile scaled to its own max.
    A transparent grid on top gives each tile's statistics on hover."""
    n_layers, n_heads, r, c = thumbs.shape
    gap = 2
    tile = np.full((n_layers * (r + gap), n_heads * (c + gap)), np.nan)
    for l in range(n_layers):
        for h in range(n_heads):
            t = thumbs[l, h]
            tile[l * (r + gap):l * (r + gap) + r, h * (c + gap):h * (c + gap) + c] = t / max(t.max(), 1e-12)
    img = np.where(np.isnan(tile), 0.0, tile)
    fig = go.Figure(go.Image(source=png_uri(img, 0, 1, np.isnan(tile)), x0=-0.5 + 0.5 / (c + gap), dx=1 / (c + gap),
                             y0=-0.5 + 0.5 / (r + gap), dy=1 / (r + gap), hoverinfo="skip"))
    grid = table.pivot(index="layer", columns="head", values=stat).to_numpy()
    piv = {k: table.pivot(index="layer", columns="head", values=k).to_numpy()
           for k in ("entropy_bits", "mean_distance", "sink_mass", "prev_token")}
    text = [[f"layer {l} head {h}<br>" + "<br>".join(f"{k}: {v[l, h]:.3f}" for k, v in piv.items())
             for h in range(n_heads)] for l in range(n_layers)]
    fig.add_trace(go.Heatmap(z=grid, text=text, hovertemplate="%{text}<extra></extra>", opacity=0,
                             showscale=False, colorscale=SEQUENTIAL))
    fig.update_xaxes(title="head", tickmode="linear", dtick=1, range=[-0.5, n_heads - 0.5], showgrid=False)
    fig.update_yaxes(title="layer", tickmode="linear", dtick=1 if n_layers <= 12 else 2,
                     range=[n_layers - 0.5, -0.5], showgrid=False)
    return base_layout(fig, height=min(1400, 40 + n_layers * 46), title="")


def stat_grid(table, stat: str, title: str) -> go.Figure:
    """One statistic as a layer x head heatmap."""
    grid = table.pivot(index="layer", columns="head", values=stat)
    fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=list(grid.columns), y=list(grid.index),
                               colorscale=SEQUENTIAL, colorbar={"title": title, "thickness": 12},
                               hovertemplate="layer %{y} head %{x}<br>%{z:.3f}<extra></extra>"))
    fig.update_xaxes(title="head", dtick=1)
    fig.update_yaxes(title="layer", autorange="reversed")
    return base_layout(fig, height=max(320, 22 * grid.shape[0] + 120))


# --------------------------------------------------------------------------- masks

def panels(mats: dict[str, np.ndarray], tokens, *, kind: str = "weight",
           zrange: tuple[float, float] | None = None, height: int = 440, width_px: int = 820) -> go.Figure:
    """Matrices side by side. ``tokens``: one list for all, or a dict of lists per matrix. NaN or -inf
    cells (masked) are left blank and marked '−∞'; a boolean mask is drawn as allowed 1 / blocked 0.

    With one token list the rows are labelled once, on the left panel; with a list per panel the gap
    between panels is widened to the longest row label (at ``width_px`` of plot), so no label runs
    into its neighbour's cells."""
    per_panel = isinstance(tokens, dict)
    names = {n: labels(tokens[n] if per_panel else tokens) for n in mats}
    longest = max(len(html.unescape(t)) for tl in names.values() for t in tl)
    gap = min(0.22, 0.04 + CHAR_PX * longest / width_px) if per_panel else 0.03
    fig = make_subplots(rows=1, cols=len(mats), subplot_titles=[html.escape(t) for t in mats],
                        horizontal_spacing=gap)
    boolean = all(m.dtype == bool for m in mats.values())
    bar = {"title": kind, "thickness": 12}
    if boolean:
        bar.update(tickvals=[0, 1], ticktext=["0 blocked", "1 allowed"])
    for i, (name, m) in enumerate(mats.items(), start=1):
        tl = names[name]
        z = m.astype(float)
        masked = ~np.isfinite(z)
        shown = np.where(masked, np.nan, z)
        zr = zrange or (float(np.nanmin(shown)), float(np.nanmax(shown)))
        cell = z.astype(int).astype(str) if m.dtype == bool else np.round(z, 2).astype(str)
        fig.add_trace(go.Heatmap(z=shown, x=tl, y=tl, zmin=zr[0], zmax=zr[1], colorscale=SEQUENTIAL,
                                 showscale=i == len(mats), text=np.where(masked, "−∞", cell),
                                 texttemplate="%{text}" if len(tl) <= 12 else None,
                                 hovertemplate=f"query %{{y}}<br>key %{{x}}<br>{kind} %{{text}}<extra></extra>",
                                 colorbar=bar), row=1, col=i)
        fig.update_xaxes(type="category", tickangle=-45, row=1, col=i)
        fig.update_yaxes(type="category", autorange="reversed", showticklabels=per_panel or i == 1, row=1, col=i)
    fig.update_annotations(font_size=13)
    return base_layout(fig, height=height)


# --------------------------------------------------------------------------- next tokens

def next_token_bars(tokens: list[str], raw: np.ndarray, processed: np.ndarray, drawn: int | None,
                    cumulative: np.ndarray, top_p: float | None) -> go.Figure:
    """Top tokens: probability at temperature 1 vs after the sampling controls; the drawn token is
    outlined, the cumulative probability top-p cuts is the line on the second axis."""
    names = [f"{i + 1}:{label(t)}" for i, t in enumerate(tokens)]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=names, y=raw, name="p at temperature 1", marker_color=OKABE_ITO[4]))
    fig.add_trace(go.Bar(x=names, y=processed, name="p sampled from (after controls)", marker_color=OKABE_ITO[0],
                         marker_line={"color": [OKABE_ITO[3] if i == drawn else "rgba(0,0,0,0)"
                                                for i in range(len(names))], "width": 3}))
    fig.add_trace(go.Scatter(x=names, y=cumulative, name="cumulative p (what top-p cuts)",
                             mode="lines+markers", line={"color": OKABE_ITO[1]}), secondary_y=True)
    if top_p is not None and top_p < 1:
        fig.add_hline(y=top_p, line_dash="dash", line_color=OKABE_ITO[3], secondary_y=True,
                      annotation_text=f"top-p = {top_p}")
    fig.update_xaxes(type="category", tickangle=-45, title="candidate next token (rank:token)")
    fig.update_yaxes(title="probability", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title="cumulative", range=[0, 1.05], secondary_y=True, showgrid=False)
    fig.update_layout(barmode="group", legend={"orientation": "h", "y": 1.12})
    return readable_secondary_axes(base_layout(fig, height=460))
