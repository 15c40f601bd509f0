"""Every figure a user sees can be exported (PNG, SVG, HTML, CSV) and summarised in one line."""
from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.figures.export import FORMATS, to_bytes


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "figure"


def show_figure(fig: go.Figure, name: str, *, data: pd.DataFrame | None = None,
                summary: str | None = None, height: int | None = None) -> None:
    """Render a plotly figure with a text summary under it and an export row.

    PNG/SVG/HTML are rendered only when clicked (kaleido + Chromium), CSV holds ``data``:
    the numbers behind the figure.
    """
    slug = _slug(name)
    config = {"displaylogo": False,
              "toImageButtonOptions": {"format": "png", "scale": 2, "filename": slug}}
    if height:
        fig.update_layout(height=height)
    st.plotly_chart(fig, config=config, key=f"fig-{slug}")
    if summary:
        st.caption(summary)
    row = st.container(horizontal=True, gap="small")      # wraps instead of squashing in narrow columns
    for fmt in FORMATS:
        row.download_button(fmt.upper(), data=lambda f=fmt: to_bytes(fig, f), file_name=f"{slug}.{fmt}",
                            mime=FORMATS[fmt], key=f"dl-{slug}-{fmt}", on_click="ignore",
                            help=f"Download this figure as {fmt.upper()}")
    if data is not None:
        row.download_button("CSV", data=lambda: data.to_csv(index=False).encode(),
                                file_name=f"{slug}.csv", mime="text/csv", key=f"dl-{slug}-csv",
                                on_click="ignore", help="Download the numbers behind this figure")


def show_table(df: pd.DataFrame, name: str, *, summary: str | None = None, height: int | None = None) -> None:
    """A dataframe with a CSV export and an optional summary line."""
    slug = _slug(name)
    st.dataframe(df, hide_index=True, height=height or "auto", key=f"tbl-{slug}")
    if summary:
        st.caption(summary)
    st.download_button("CSV", data=lambda: df.to_csv(index=False).encode(), file_name=f"{slug}.csv",
                       mime="text/csv", key=f"dl-{slug}-tablecsv", on_click="ignore")
