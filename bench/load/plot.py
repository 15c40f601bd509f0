"""``python -m bench.load.plot soak|sweep DATA.json PNG``: the load report's plots. A process of its
own: kaleido drives Chromium through asyncio, which hangs under locust's gevent patches."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from core.figures.export import to_bytes
from core.figures.theme import base_layout


def soak_figure(data: dict) -> go.Figure:
    """RSS over the soak, the users' departure dotted, the last 10 minutes shaded."""
    t = np.array(data["t_s"]) / 60
    mb = np.array(data["rss"]) / 2**20
    fig = go.Figure(go.Scatter(x=t, y=mb, mode="lines", name="server RSS"))
    if data.get("after_t_s"):
        fig.add_trace(go.Scatter(x=t[-1] + np.array(data["after_t_s"]) / 60, y=np.array(data["after_rss"]) / 2**20,
                                 mode="lines", line={"dash": "dot"}, name="after the users left"))
    fig.add_vrect(x0=t[-1] - 10, x1=t[-1], fillcolor="#E69F00", opacity=0.12, line_width=0,
                  annotation_text=f"last 10 min: {data['growth_pct']:+.1f} %", annotation_position="top left")
    fig.update_layout(xaxis_title="minutes", yaxis_title="RSS (MiB)")
    return base_layout(fig, title=f"Soak: {data['users']} users, {data['minutes']:g} min, one process", height=380)


def sweep_figure(data: dict) -> go.Figure:
    """p95 seconds against users, one line per set-up and kind (cold: a new forward pass; warm: cached),
    log-log, with the 1 s line the headline reads against. A hollow triangle marks a lower bound:
    some interactions of that row were still unfinished when it ended."""
    fig = go.Figure()
    for setup, rows in data["results"].items():
        for kind, dash in (("cold", "solid"), ("warm", "dot")):
            pts = [(r["users"], r[kind]["p95"], r[kind]["unfinished"]) for r in rows
                   if r[kind]["n"] and r[kind]["p95"] == r[kind]["p95"]]
            fig.add_trace(go.Scatter(x=[u for u, _, _ in pts], y=[p for _, p, _ in pts], mode="lines+markers",
                                     marker={"symbol": ["triangle-up-open" if c else "circle" for _, _, c in pts],
                                             "size": [11 if c else 7 for _, _, c in pts]},
                                     line={"dash": dash}, name=f"{setup}, {kind}"))
    users = sorted({r["users"] for rows in data["results"].values() for r in rows})
    fig.add_hline(y=1.0, line={"color": "#555", "width": 1})
    # on a log axis an annotation's y is log10 of the value: 0 is 1 s (add_hline's own label misplaces it)
    fig.add_annotation(x=1, xref="paper", xanchor="right", y=0, yref="y", yanchor="bottom", showarrow=False,
                       text="p95 = 1 s")
    fig.update_layout(xaxis={"type": "log", "title": "simultaneous users", "tickvals": users},
                      yaxis={"type": "log", "title": "p95 seconds, widget change to script_finished",
                             "tickvals": [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200],
                             "ticktext": ["0.1", "0.2", "0.5", "1", "2", "5", "10", "20", "50", "100", "200"]})
    return base_layout(fig, title=f"Users against latency ({data['seconds']:g} s a row)", height=420)


FIGURES = {"soak": soak_figure, "sweep": sweep_figure}

if __name__ == "__main__":
    kind, series, png = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    png.write_bytes(to_bytes(FIGURES[kind](json.loads(series.read_text())), "png", title=None,
                             source=f"Transformer Atlas, bench/load/run.py {kind}"))
