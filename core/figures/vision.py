"""Figure builders for the ViT patches and CLIP pages: data in, plotly Figure out.

Images arrive as float (height, width, 3) in [0, 1] - the pixels the model saw after its own
resize/crop. Grids are (grid, grid) with patch 0 top-left, row by row. Large grids (DINOv2 at 518 px
is 37 x 37) are thinned where a figure would otherwise carry millions of cells, and say so.
"""
from __future__ import annotations

import base64
import html
import io
import textwrap
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from core.figures import basic
from core.figures.axes import padded_range, place_labels
from core.figures.theme import OKABE_ITO, SEQUENTIAL, base_layout


def _u8(pixels: np.ndarray) -> np.ndarray:
    return (np.clip(pixels, 0, 1) * 255).round().astype(np.uint8)


def _data_uri(pixels: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(_u8(pixels)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _image_axes(fig: go.Figure, size: int, row=None, col=None) -> None:
    kw = {"row": row, "col": col} if row else {}
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, range=[-0.5, size - 0.5], **kw)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, range=[size - 0.5, -0.5],
                     scaleanchor="x" if not row else None, **kw)


def image_with_grid(pixels: np.ndarray, patch_size: int, *, title: str = "") -> go.Figure:
    """The model's input with its patch grid drawn on; hover names the patch."""
    s = pixels.shape[0]
    g = s // patch_size
    fig = go.Figure(go.Image(z=_u8(pixels), hovertemplate="x %{x}, y %{y}<extra></extra>"))
    line = {"color": "white", "width": 1}
    cuts = [i * patch_size - 0.5 for i in range(1, g)]
    fig.update_layout(shapes=[dict(type="line", x0=c, x1=c, y0=-0.5, y1=s - 0.5, line=line) for c in cuts]
                      + [dict(type="line", y0=c, y1=c, x0=-0.5, x1=s - 0.5, line=line) for c in cuts])
    # an invisible heatmap gives every patch a hover label
    idx = np.arange(g * g).reshape(g, g)
    fig.add_trace(go.Heatmap(z=idx, x0=(patch_size - 1) / 2, dx=patch_size, y0=(patch_size - 1) / 2,
                             dy=patch_size, opacity=0, showscale=False,
                             hovertemplate="patch %{z}<extra></extra>"))
    _image_axes(fig, s)
    return base_layout(fig, title=title, height=420)


def patch_strip(patches: np.ndarray, patch_size: int, *, per_row: int = 17, limit: int = 256) -> go.Figure:
    """The token sequence as the transformer reads it: [CLS], patch 0, patch 1 ... wrapped into
    rows of ``per_row`` tokens so each stays visible. ``patches`` is (n, p*p*3) in [0, 1]."""
    n = len(patches)
    shown = min(n, limit)
    p, gap = patch_size, max(1, patch_size // 4)
    rows = -(-(shown + 1) // per_row)
    strip = np.ones((rows * (p + gap), per_row * (p + gap), 3))
    cells = [np.broadcast_to(np.array([0.0, 0.45, 0.7]), (p, p, 3))]          # CLS, Okabe-Ito blue
    cells += [patches[i].reshape(p, p, 3) for i in range(shown)]
    xs, ys = [], []
    for t, cell in enumerate(cells):
        r, c = divmod(t, per_row)
        strip[r * (p + gap):r * (p + gap) + p, c * (p + gap):c * (p + gap) + p] = cell
        xs.append(c * (p + gap) + p / 2)
        ys.append(r * (p + gap) + p / 2)
    fig = go.Figure(go.Image(z=_u8(strip), hoverinfo="skip"))
    fig.add_annotation(x=xs[0], y=ys[0], text="CLS", showarrow=False, font={"color": "white", "size": 11})
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", marker={"opacity": 0, "size": 14}, showlegend=False,
                             text=["CLS"] + [f"patch {i}" for i in range(shown)],
                             customdata=list(range(shown + 1)), hovertemplate="token %{customdata} = %{text}<extra></extra>"))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed", scaleanchor="x")
    more = f" (first {shown} of {n} patches)" if shown < n else ""
    return base_layout(fig, title=f"Sequence: 1 CLS + {n} patch tokens, read left to right, row by row{more}",
                       height=120 + 55 * rows)


MAX_THUMBNAILS = 576          # 24 x 24 patches; more would make the figure heavy to send


def patch_scatter(coords: np.ndarray, patches: np.ndarray, patch_size: int, grid: int, *,
                  explained: Sequence[float] = (), thumbnails: bool = True) -> go.Figure:
    """Patch embeddings projected to 2D; each point drawn as its patch (hover: row, column).
    Thumbnails are drawn up to ``MAX_THUMBNAILS`` patches; beyond, points only."""
    n = len(coords)
    thumbnails = thumbnails and n <= MAX_THUMBNAILS
    means = patches.reshape(n, -1, 3).mean(1)
    colours = [f"rgb({int(r * 255)},{int(g * 255)},{int(b * 255)})" for r, g, b in means]
    rows, cols = np.divmod(np.arange(n), grid)
    fig = go.Figure(go.Scatter(
        x=coords[:, 0], y=coords[:, 1], mode="markers",
        marker={"size": 12, "color": colours, "line": {"width": 1, "color": "#333"}},
        customdata=np.stack([np.arange(n), rows, cols], 1),
        hovertemplate="patch %{customdata[0]} (row %{customdata[1]}, col %{customdata[2]})<extra></extra>"))
    if thumbnails:
        span = float(np.ptp(coords, axis=0).max() or 1.0) / max(8.0, np.sqrt(n) * 1.6)
        fig.update_layout(images=[dict(source=_data_uri(patches[i].reshape(patch_size, patch_size, 3)),
                                       x=coords[i, 0], y=coords[i, 1], xref="x", yref="y", sizex=span, sizey=span,
                                       xanchor="center", yanchor="middle", layer="above") for i in range(n)])
    ev = [f"{v:.0%}" for v in explained] + ["?", "?"]
    fig.update_xaxes(title=f"PC1 ({ev[0]} of variance)")
    fig.update_yaxes(title=f"PC2 ({ev[1]})")
    return base_layout(fig, title="Patch embeddings (before positions), PCA", height=480)


def position_mosaic(sim: np.ndarray, grid: int, *, max_tiles: int = 8) -> go.Figure:
    """Tile (r, c) shows how patch (r, c)'s position embedding matches every other position.
    Past ``max_tiles`` per side only every k-th row and column of tiles is drawn (each tile whole)."""
    stride = max(1, -(-grid // max_tiles))
    picks = list(range(0, grid, stride))
    t, step = len(picks), grid + 1
    z = np.full((t * step - 1, t * step - 1), np.nan)
    for a, r in enumerate(picks):
        for b, c in enumerate(picks):
            z[a * step:a * step + grid, b * step:b * step + grid] = sim[r * grid + c].reshape(grid, grid)
    fig = go.Figure(go.Heatmap(z=z, colorscale=SEQUENTIAL, zmin=-1, zmax=1, hoverongaps=False,
                               colorbar={"title": "cosine"},
                               hovertemplate="cosine %{z:.2f}<extra></extra>"))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x")
    thinned = (f"<br><sup>tiles for rows and columns {', '.join(map(str, picks))} of the {grid}×{grid} grid</sup>"
               if stride > 1 else "")
    return base_layout(fig, title=f"Position-embedding similarity: tile (row, col) = that position vs all{thinned}",
                       height=560)


def overlay(pixels: np.ndarray, heat: np.ndarray, *, title: str = "", opacity: float = 0.55,
            colorscale=SEQUENTIAL, zmin=None, zmax=None, label: str = "weight") -> go.Figure:
    """A (grid, grid) map laid over the image at the patch positions."""
    s, g = pixels.shape[0], heat.shape[0]
    p = s / g
    fig = go.Figure(go.Image(z=_u8(pixels), hoverinfo="skip"))
    fig.add_trace(go.Heatmap(z=heat, x0=(p - 1) / 2, dx=p, y0=(p - 1) / 2, dy=p, opacity=opacity,
                             colorscale=colorscale, zmin=zmin, zmax=zmax, colorbar={"title": label},
                             hovertemplate=f"row %{{y:.0f}}px col %{{x:.0f}}px<br>{label} %{{z:.3g}}<extra></extra>"))
    _image_axes(fig, s)
    return base_layout(fig, title=title, height=420)


def _panel(fig: go.Figure, pixels: np.ndarray, col: int, heat: np.ndarray | None = None, *,
           opacity: float = 0.55, label: str = "weight", colorbar_x: float | None = None, **heat_kw) -> None:
    """One image panel of a side-by-side figure, with an optional (grid, grid) map laid over it."""
    s = pixels.shape[0]
    fig.add_trace(go.Image(z=_u8(pixels), hoverinfo="skip"), row=1, col=col)
    if heat is not None:
        p = s / heat.shape[0]
        fig.add_trace(go.Heatmap(z=heat, x0=(p - 1) / 2, dx=p, y0=(p - 1) / 2, dy=p, opacity=opacity,
                                 colorbar={"title": label, "x": colorbar_x, "thickness": 14}
                                 if colorbar_x else {"title": label},
                                 hovertemplate=f"{label} %{{z:.3g}}<extra></extra>", **heat_kw), row=1, col=col)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, range=[-0.5, s - 0.5], row=1, col=col)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, range=[s - 0.5, -0.5],
                     scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)


def pca_rgb(pixels: np.ndarray, rgb: np.ndarray, foreground: np.ndarray, *, title: str = "") -> go.Figure:
    """The image beside its patch features as colour: (grid, grid, 3) in [0, 1], background black.
    Hover on the right names the patch and whether it counts as foreground."""
    g = rgb.shape[0]
    s = pixels.shape[0]
    big = np.kron(rgb, np.ones((s // g, s // g, 1))) if s % g == 0 else rgb
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.03,
                        subplot_titles=("what the model saw", "patch features, 3 PCA components as RGB"))
    _panel(fig, pixels, 1)
    _panel(fig, big, 2)
    idx = np.arange(g * g).reshape(g, g)
    p = s / g
    fig.add_trace(go.Heatmap(z=foreground.astype(int), x0=(p - 1) / 2, dx=p, y0=(p - 1) / 2, dy=p, opacity=0,
                             showscale=False, customdata=idx,
                             hovertemplate="patch %{customdata}: foreground %{z}<extra></extra>"), row=1, col=2)
    fig = base_layout(fig, title=title, height=470)
    return fig.update_layout(margin={"t": 80}) if title else fig


def norm_map(pixels: np.ndarray, norms: np.ndarray, marked: np.ndarray, *, title: str = "") -> go.Figure:
    """Patch-token norms over the image, with the marked (high-norm) tokens circled."""
    fig = overlay(pixels, norms, title=title, label="norm", opacity=0.6)
    g, s = norms.shape[0], pixels.shape[0]
    p = s / g
    r, c = np.nonzero(marked)
    fig.add_trace(go.Scatter(x=(c + 0.5) * p - 0.5, y=(r + 0.5) * p - 0.5, mode="markers", name="high norm",
                             marker={"symbol": "circle-open", "size": max(8, min(28, 300 / g)),
                                     "color": OKABE_ITO[3], "line": {"width": 3}},
                             customdata=np.stack([r, c, norms[r, c]], 1) if len(r) else None,
                             hovertemplate="row %{customdata[0]}, col %{customdata[1]}: norm "
                                           "%{customdata[2]:.1f}<extra>high norm</extra>"))
    fig.update_layout(showlegend=False)
    return fig


def norm_histogram(norms: np.ndarray, cut: float, *, title: str = "") -> go.Figure:
    """Distribution of the patch-token norms, with the cut-off above which tokens are marked."""
    v = np.asarray(norms).ravel()
    fig = go.Figure(go.Histogram(x=v, nbinsx=min(60, max(10, len(v) // 8)), marker={"color": OKABE_ITO[0]},
                                 hovertemplate="norm %{x}<br>%{y} tokens<extra></extra>"))
    if np.isfinite(cut):
        fig.add_vline(x=cut, line={"color": OKABE_ITO[3], "dash": "dash", "width": 2},
                      annotation_text=f"cut-off {cut:.1f}", annotation_position="top")
    fig.update_xaxes(title="norm of the patch token leaving the last block")
    fig.update_yaxes(title="tokens")
    return base_layout(fig, title=title, height=320)


def overlay_pair(panels: Sequence[tuple[np.ndarray, np.ndarray, str]], *, title: str = "",
                 label: str = "weight") -> go.Figure:
    """Side-by-side (pixels, (grid, grid) map, subtitle) panels, each map on its own colour scale."""
    n = len(panels)
    fig = make_subplots(rows=1, cols=n, horizontal_spacing=0.14, subplot_titles=[t for _, _, t in panels])
    for i, (pixels, heat, _) in enumerate(panels, start=1):
        right = fig.layout[f"xaxis{i if i > 1 else ''}"].domain[1]
        _panel(fig, pixels, i, heat, label=label, colorscale=SEQUENTIAL, colorbar_x=right + 0.01)
    return base_layout(fig, title=title, height=440)


def head_grid(maps: np.ndarray, *, title: str = "", max_heads: int = 12) -> go.Figure:
    """Small multiples of CLS-to-patch attention: (layer, head, grid, grid) -> rows = layers."""
    n_layer, n_head = maps.shape[:2]
    n_head = min(n_head, max_heads)
    fig = make_subplots(rows=n_layer, cols=n_head, horizontal_spacing=0.01, vertical_spacing=0.02,
                        row_titles=[f"L{i}" for i in range(n_layer)],
                        column_titles=[f"H{j}" for j in range(n_head)])
    for i in range(n_layer):
        for j in range(n_head):
            fig.add_trace(go.Heatmap(z=maps[i, j], colorscale=SEQUENTIAL, showscale=False,
                                     hovertemplate=f"layer {i} head {j}<br>weight %{{z:.3f}}<extra></extra>"),
                          row=i + 1, col=j + 1)
    fig.update_xaxes(showticklabels=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, autorange="reversed", constrain="domain")
    for k in range(1, n_layer * n_head + 1):                  # each tile square, whatever the page width
        suffix = "" if k == 1 else str(k)
        fig.layout[f"yaxis{suffix}"].scaleanchor = f"x{suffix}"
    tile = min(90, 1000 / n_head)                             # ~1000 px of plot width shared by the heads
    return base_layout(fig, title=title, height=max(260, int(tile * n_layer) + 80))


THUMB_PX = 64                 # side of an axis thumbnail: enough to recognise, light to send


def thumbnail_uri(pixels: np.ndarray, px: int = THUMB_PX) -> str:
    """A small PNG data URI of (height, width, 3) pixels in [0, 1], longest side ``px``."""
    img = Image.fromarray(_u8(pixels))
    img.thumbnail((px, px), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def similarity_matrix(sim: np.ndarray, images: Sequence[str], texts: Sequence[str], *,
                      title: str = "", thumbnails: Sequence[np.ndarray] | None = None) -> go.Figure:
    """N images x M texts cosine similarity; the best text of each image is outlined.

    ``thumbnails`` (one (height, width, 3) array in [0, 1] per image) are drawn beside the row
    labels as small PNGs inside the figure (layout.images with data URIs: offline, and kept in
    every export)."""
    n = len(images)
    row_px = 72 if thumbnails is not None else 60
    fig = basic.heatmap(sim, x=texts, y=images, x_title="text", y_title="image", hover="cosine",
                        colorscale=SEQUENTIAL, title=title, height=max(300, row_px * n + 220))
    fig.update_layout(shapes=[dict(type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5, xref="x", yref="y",
                                   line={"color": OKABE_ITO[3], "width": 3})
                              for i, j in enumerate(np.asarray(sim).argmax(1))])
    fig.update_traces(texttemplate="%{z:.2f}")
    if thumbnails is not None:
        rows = fig.data[0].y
        fig.update_layout(images=[dict(source=thumbnail_uri(p), xref="paper", yref="y", x=-0.005, y=rows[i],
                                       sizex=0.2, sizey=0.9, xanchor="right", yanchor="middle",
                                       sizing="contain", layer="above")
                                  for i, p in enumerate(thumbnails)])
        fig.update_yaxes(ticklabelstandoff=row_px - 4)
    return fig


def joint_scatter(coords: np.ndarray, n_images: int, labels: Sequence[str], *,
                  explained: Sequence[float] = ()) -> go.Figure:
    """Images and texts in one 2D PCA space: two marker kinds, labels on hover and, where they
    fit without overlapping (core.figures.axes.place_labels), on the points; long texts wrap."""
    shown = [_wrap(t) for t in labels]
    pos = place_labels(coords[:, 0], coords[:, 1], shown, keep=[True] * len(labels), pad=0.12,
                       width_px=700, height_px=380)
    fig = go.Figure()
    for name, sl, sym, col in (("image", slice(0, n_images), "square", OKABE_ITO[0]),
                               ("text", slice(n_images, None), "circle", OKABE_ITO[1])):
        fig.add_trace(go.Scatter(x=coords[sl, 0], y=coords[sl, 1], mode="markers+text", name=name,
                                 text=shown[sl], textposition=pos[sl], cliponaxis=False,
                                 marker={"symbol": sym, "size": 13, "color": col},
                                 customdata=list(labels[sl]),
                                 hovertemplate=f"{name}: %{{customdata}}<extra></extra>"))
    ev = [f"{v:.0%}" for v in explained] + ["?", "?"]
    fig.update_xaxes(title=f"PC1 ({ev[0]})", range=padded_range(coords[:, 0], 0.12))
    fig.update_yaxes(title=f"PC2 ({ev[1]})", range=padded_range(coords[:, 1], 0.12))
    fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"})
    return base_layout(fig, title="Images and texts in one embedding space (PCA)", height=480)


def _wrap(text: str, width: int = 22, lines: int = 2) -> str:
    """``text`` broken at spaces into at most ``lines`` lines of about ``width`` characters."""
    out = textwrap.wrap(text, width, break_long_words=False) or [""]
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][:width - 1] + "…"
    return "<br>".join(html.escape(line) for line in out)


def training_curve(history: Sequence[dict]) -> go.Figure:
    steps = [h["step"] for h in history]
    return basic.lines(steps, {"loss": [h["loss"] for h in history]}, x_title="step",
                       y_title="contrastive loss", title="Training loss")

