"""``python -m bench.load.plot_soak SERIES.json PNG``: the soak's RSS-over-time plot. A process of
its own: kaleido drives Chromium through asyncio, which hangs under locust's gevent patches."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from core.figures.export import to_bytes
from core.figures.theme import base_layout


def figure(data: dict) -> go.Figure:
    t = np.array(data["t_s"]) / 60
    mb = np.array(data["rss"]) / 2**20
    fig = go.Figure(go.Scatter(x=t, y=mb, mode="lines", name="server RSS"))
    if data.get("after_t_s"):
        fig.add_trace(go.Scatter(x=t[-1] + np.array(data["after_t_s"]) / 60, y=np.array(data["after_rss"]) / 2**20,
                                 mode="lines", line={"dash": "dot"}, name="after the users left"))
    fig.add_vrect(x0=t[-1] - 10, x1=t[-1], fillcolor="#E69F00", opacity=0.12, line_width=0,
                  annotation_text=f"last 10 min: {data['growth_pct']:+.1f} %", annotation_position="top left")
    fig.update_layout(xaxis_title="minutes", yaxis_title="RSS (MiB)", height=380,
                      title=f"Soak: {data['users']} users, {data['minutes']:g} min, one process")
    return base_layout(fig, title=fig.layout.title.text, height=380)


if __name__ == "__main__":
    series, png = Path(sys.argv[1]), Path(sys.argv[2])
    png.write_bytes(to_bytes(figure(json.loads(series.read_text())), "png", title=None,
                             source="Transformer Atlas, bench/load/run.py soak"))
