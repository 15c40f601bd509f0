"""Figure export: PNG/SVG through kaleido driving the system Chromium, self-contained HTML.

Usable from a notebook: ``to_bytes(fig, "svg")``.
"""
from __future__ import annotations

import os
import shutil

import plotly.graph_objects as go

FORMATS = {"png": "image/png", "svg": "image/svg+xml", "html": "text/html"}


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def to_bytes(fig: go.Figure, fmt: str, *, scale: float = 2.0) -> bytes:
    """Render ``fig`` as png, svg or html. HTML embeds plotly.js, so it works offline."""
    if fmt == "html":
        return fig.to_html(include_plotlyjs=True, full_html=True).encode()
    if fmt not in ("png", "svg"):
        raise ValueError(f"unknown export format {fmt!r}")
    if "BROWSER_PATH" not in os.environ and _chromium():
        os.environ["BROWSER_PATH"] = _chromium()    # kaleido/choreographer reads this
    return fig.to_image(format=fmt, scale=scale if fmt == "png" else 1.0)
