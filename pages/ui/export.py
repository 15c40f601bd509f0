"""Every figure a user sees can be exported (PNG, SVG, HTML, CSV) and summarised in one line.

Exported images carry a title (the figure's own, else ``title``, else the summary's first
sentence) and their source: Transformer Atlas, the page, and the link that reproduces the view.
"""
from __future__ import annotations

import re
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.figures import theme
from core.figures.export import FORMATS, to_bytes
from pages.ui.state import PAGE_KEY


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "figure"


def source_line() -> str:
    """Where an exported figure comes from: the app, the page and the link to this exact view."""
    page = st.session_state.get(PAGE_KEY, "") or ""
    query = urlencode({k: v for k, v in st.query_params.to_dict().items() if k not in ("tour", "present")})
    link = f"/{page}" + (f"?{query}" if query else "")
    return f"Source: Transformer Atlas, {link[:160] + ('…' if len(link) > 160 else '')}"


def export_title(fig: go.Figure, title: str | None, summary: str | None) -> str | None:
    if title:
        return title
    if summary:
        first = re.split(r"(?<=[.;:])\s", summary, maxsplit=1)[0]
        return first if len(first) <= 110 else first[:109] + "…"
    return None


def show_figure(fig: go.Figure, name: str, *, data: pd.DataFrame | None = None,
                summary: str | None = None, height: int | None = None, title: str | None = None,
                on_select: bool = False):
    """Render a plotly figure with a text summary under it and an export row.

    PNG/SVG/HTML are rendered only when clicked (kaleido + Chromium), with the title and source
    stamped in; CSV holds ``data``: the numbers behind the figure. ``on_select``: clicking a point
    reruns the page, and the selection event is returned (the model map's click-through).
    """
    slug = _slug(name)
    config = {"displaylogo": False,
              "toImageButtonOptions": {"format": "png", "scale": 2, "filename": slug}}
    if height:
        fig.update_layout(height=height)
    kw = {"on_select": "rerun", "selection_mode": "points"} if on_select else {}
    shown = theme.presentation(fig) if st.query_params.get("present") == "1" else fig   # projector fonts
    event = st.plotly_chart(shown, config=config, key=f"fig-{slug}", **kw)
    if summary:
        st.caption(summary)
    stamp = {"title": export_title(fig, title, summary), "source": source_line()}
    row = st.container(horizontal=True, gap="small")      # wraps instead of squashing in narrow columns
    for fmt in FORMATS:
        row.download_button(fmt.upper(), data=lambda f=fmt: to_bytes(fig, f, **stamp), file_name=f"{slug}.{fmt}",
                            mime=FORMATS[fmt], key=f"dl-{slug}-{fmt}", on_click="ignore",
                            help=f"Download this figure as {fmt.upper()}")
    if data is not None:
        row.download_button("CSV", data=lambda: data.to_csv(index=False).encode(),
                                file_name=f"{slug}.csv", mime="text/csv", key=f"dl-{slug}-csv",
                                on_click="ignore", help="Download the numbers behind this figure")
    return event if on_select else None


def follow_click(fig: go.Figure, event, pages: dict) -> None:
    """Open the page a clicked point names: its customdata is [url path, "k=v&k=v"] (the model
    map). ``pages``: url path -> PageInfo of the pages that ship; others are ignored."""
    points = (event or {}).get("selection", {}).get("points", [])
    if not points:
        return
    target, query = fig.data[points[0]["curve_number"]].customdata[points[0]["point_index"]]
    if target in pages:
        params = dict(kv.split("=", 1) for kv in query.split("&") if kv)
        st.switch_page(pages[target].file, query_params=params)


FIT_PX = 700          # the main column at 1280x720 is about 730 px wide (Streamlit's centred layout)


def table_width_px(df: pd.DataFrame) -> int:
    """About how wide Streamlit's grid draws ``df``: each column sized to its longest header or cell
    (about 7.5 px a character, 24 px of padding), clamped to 60..500 px as the grid clamps it."""
    total = 0
    for col in df.columns:
        cells = df[col].head(200).astype(str).str.len()
        longest = max(len(str(col)), int(cells.max()) if len(cells) else 0)
        total += min(500, max(60, int(longest * 7.5) + 24))
    return total


def show_table(df: pd.DataFrame, name: str, *, summary: str | None = None, height: int | None = None) -> None:
    """A dataframe with a CSV export and an optional summary line. A table wider than the page
    keeps its first column pinned and says that it scrolls sideways (the grid's own scroll bar
    only shows on hover), so no column looks cut off."""
    slug = _slug(name)
    wide = table_width_px(df) > FIT_PX and len(df.columns) > 1
    config = {df.columns[0]: st.column_config.Column(pinned=True)} if wide else None
    st.dataframe(df, hide_index=True, height=height or "auto", key=f"tbl-{slug}", column_config=config)
    if wide:
        st.caption(f"↔ {len(df.columns)} columns, wider than the page: scroll the table sideways (the first "
                   "column stays), or download the CSV below.")
    if summary:
        st.caption(summary)
    st.download_button("CSV", data=lambda: df.to_csv(index=False).encode(), file_name=f"{slug}.csv",
                       mime="text/csv", key=f"dl-{slug}-tablecsv", on_click="ignore")
