"""Figure export: PNG/SVG through kaleido driving the system Chromium, self-contained HTML.

Every exported image carries its title and its source (what produced it and the link that
reproduces the view), stamped by ``stamped`` into a copy of the figure; the on-screen figure is
left as it is. Usable from a notebook: ``to_bytes(fig, "svg", title=..., source=...)``.
"""
from __future__ import annotations

import os
import shutil

import plotly.graph_objects as go

FORMATS = {"png": "image/png", "svg": "image/svg+xml", "html": "text/html"}
EXPORT_WIDTH = 1200          # px: wide enough for the model map and token axes, not a phone


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def stamped(fig: go.Figure, title: str | None = None, source: str | None = None) -> go.Figure:
    """A copy of ``fig`` with ``title`` on top (unless it has its own) and ``source`` in small type
    under the plot, with the margins grown to hold them."""
    out = go.Figure(fig)
    margin = out.layout.margin
    t, b = margin.t if margin.t is not None else 50, margin.b if margin.b is not None else 50
    own = out.layout.title.text if out.layout.title else None
    if title and not own:
        out.update_layout(title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 16}})
        t = max(t, 60)
    if source:
        out.add_annotation(text=source, xref="paper", yref="paper", x=0, y=0, xanchor="left",
                           yanchor="top", yshift=-(b - 8) if b > 40 else -b - 4, showarrow=False,
                           font={"size": 10, "color": "#555"}, align="left")
        b += 28
    out.update_layout(margin={"t": t, "b": b})
    if out.layout.height:
        out.update_layout(height=out.layout.height + (t - (margin.t or 0)) + 28 * bool(source))
    return out


def to_bytes(fig: go.Figure, fmt: str, *, scale: float = 2.0, title: str | None = None,
             source: str | None = None) -> bytes:
    """Render ``fig`` as png, svg or html, with ``title`` and ``source`` stamped in. HTML embeds
    plotly.js, so it works offline."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    fig = stamped(fig, title, source) if (title or source) else fig
    if fmt == "html":
        return fig.to_html(include_plotlyjs=True, full_html=True).encode()
    if "BROWSER_PATH" not in os.environ and _chromium():
        os.environ["BROWSER_PATH"] = _chromium()    # kaleido/choreographer reads this
    width = None if fig.layout.width else EXPORT_WIDTH
    return fig.to_image(format=fmt, scale=scale if fmt == "png" else 1.0, width=width)
